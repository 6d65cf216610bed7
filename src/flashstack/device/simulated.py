"""``SimulatedFlash``: a NOR flash with exact program/erase semantics, counters,
power-cut and wear-out injection, backed by memory or by an image file (mmap).

Model: Zephyr drivers/flash/flash_simulator.c; flashstack additions per
spec/device.md §4-§7.
"""

from __future__ import annotations

import json
import mmap
import os
import random
from dataclasses import dataclass, field, fields
from typing import Sequence

from ..errors import (DeviceIOError, InvalidArgument, NotSupported, PowerLoss,
                      ReadOnlyBacking)
from .base import FlashCaps, FlashDevice, FlashParameters, PageLayout


@dataclass
class FlashStats:
    """Zephyr ``flash_sim_stats`` counters plus per-page ``erase_cycles`` (DEV-22, DEV-23)."""

    bytes_read: int = 0
    bytes_written: int = 0
    double_writes: int = 0
    flash_read_calls: int = 0
    flash_read_time_us: float = 0
    flash_write_calls: int = 0
    flash_write_time_us: float = 0
    flash_erase_calls: int = 0
    flash_erase_time_us: float = 0
    erase_cycles: list = field(default_factory=list)

    @property
    def busy_time_us(self) -> float:
        return self.flash_read_time_us + self.flash_write_time_us + self.flash_erase_time_us

    def reset(self) -> None:
        """Zero every counter except ``erase_cycles`` (wear is physical state)."""
        for f in fields(self):
            if f.name != "erase_cycles":
                setattr(self, f.name, 0)

    def reset_wear(self) -> None:
        self.erase_cycles[:] = [0] * len(self.erase_cycles)

    def snapshot(self) -> dict:
        """Counters as a plain dict (``erase_cycles`` copied, ``busy_time_us`` included)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["erase_cycles"] = list(self.erase_cycles)
        d["busy_time_us"] = self.busy_time_us
        return d


@dataclass
class FlashThresholds:
    """Zephyr ``flash_sim_thresholds`` (DEV-24); 0 = inactive."""

    max_write_calls: int = 0
    max_erase_calls: int = 0
    max_len: int = 0


@dataclass(frozen=True)
class ChipTiming:
    """Typical chip timings for the busy-time model (spec/device.md §7), microseconds.

    ``t_erase_us`` maps erase-page size (bytes) to the time to erase one page.
    """

    t_page_program_us: float
    t_erase_us: dict
    t_byte_first_us: float | None = None
    t_byte_next_us: float | None = None
    read_setup_us: float = 0.0
    read_us_per_byte: float = 0.0
    per_call: bool = False  # Zephyr simulator style: fixed cost per call


#: DEV-45 — Zephyr's FLASH_SIMULATOR_MIN_{READ,WRITE,ERASE}_TIME_US defaults.
ZEPHYR_SIM_TIMING = ChipTiming(t_page_program_us=100, t_erase_us={}, read_setup_us=2, per_call=True)
_ZEPHYR_ERASE_US = 2000


@dataclass(frozen=True)
class Endurance:
    """Rated erase cycles per page and what happens past them (spec/device.md §6)."""

    rated_cycles: int
    mode: str = "eio"  # "eio" | "stuck"
    stuck_bits_per_erase: int = 1
    seed: int = 0


class _PowerCut:
    __slots__ = ("after", "mode", "tear", "keep", "rng", "count")

    def __init__(self, after, mode, tear, keep, seed):
        self.after, self.mode, self.tear, self.keep = after, mode, tear, keep
        self.rng = random.Random(seed)
        self.count = 0


class SimulatedFlash(FlashDevice):
    """A simulated NOR flash device (spec/device.md §4).

    Shapes: ``size`` bytes; layout from ``erase_page_size`` (uniform) or ``layout`` runs of
    ``(count, size)``; or from ``chip`` (a key of :mod:`flashstack.device.chips`).
    ``backing`` None keeps the image in a bytearray; a path maps an image file (created erased
    when missing; an existing file must have exactly ``size`` bytes, else EINVAL).

    Errors: InvalidArgument (EINVAL) for bad configuration, ranges or alignment;
    DeviceIOError (EIO) for double writes and worn-out pages; NotSupported (ENOSYS) when
    erase is unsupported; ReadOnlyBacking (EROFS) on a read-only image; PowerLoss after a cut.
    """

    def __init__(self, size: int | None = None, *, erase_page_size: int | None = None,
                 layout: Sequence[tuple[int, int]] | None = None, write_block_size: int | None = None,
                 program_page_size: int | None = None, erase_value: int = 0xFF,
                 explicit_erase: bool = True, allow_double_writes: bool | None = None,
                 unaligned_read: bool = True, erase_supported: bool = True,
                 fill_buffer_size: int = 32, backing: str | os.PathLike | None = None,
                 create: bool = True, readonly: bool = False, timing: ChipTiming | None = None,
                 endurance: Endurance | None = None, chip=None, name: str = "flash0"):
        self.chip = None
        if chip is not None:
            from . import chips
            self.chip = chips.get(chip) if isinstance(chip, (str, int, bytes)) else chip
            size = self.chip.size if size is None else size
            if layout is None and erase_page_size is None:
                layout = self.chip.layout
            write_block_size = self.chip.write_block_size if write_block_size is None else write_block_size
            program_page_size = self.chip.program_page_size if program_page_size is None else program_page_size
            allow_double_writes = self.chip.multi_program if allow_double_writes is None else allow_double_writes
            timing = self.chip.timing if timing is None else timing
        wbs = 1 if write_block_size is None else write_block_size
        if wbs < 1 or wbs & (wbs - 1):
            raise InvalidArgument(f"{name}: write block size {wbs} is not a power of two")
        if erase_value not in (0x00, 0xFF):
            raise InvalidArgument(f"{name}: erase value {erase_value:#x} must be 0x00 or 0xFF")
        if layout is None:
            if size is None or erase_page_size is None:
                raise InvalidArgument(f"{name}: give size and erase_page_size, a layout, or a chip")
            if erase_page_size < 1 or size % erase_page_size:
                raise InvalidArgument(f"{name}: size {size} is not a multiple of erase page {erase_page_size}")
            layout = [(size // erase_page_size, erase_page_size)]
        self.layout = PageLayout(layout, wbs)
        if size is not None and size != self.layout.size:
            raise InvalidArgument(f"{name}: size {size} differs from layout total {self.layout.size}")
        double = bool(allow_double_writes) or not explicit_erase
        self.parameters = FlashParameters(wbs, erase_value, FlashCaps(not explicit_erase), double)
        self.name = name
        self.program_page_size = 256 if program_page_size is None else program_page_size
        self.allow_double_writes = bool(allow_double_writes)
        self.unaligned_read = unaligned_read
        self.erase_supported = erase_supported
        self.fill_buffer_size = fill_buffer_size
        self.timing = timing
        self.endurance = endurance
        self.rated_cycles = endurance.rated_cycles if endurance else (
            self.chip.rated_cycles if self.chip else None)
        self.readonly = readonly
        self.stats = FlashStats(erase_cycles=[0] * self.layout.page_count)
        self.thresholds = FlashThresholds()
        self._erased = bytes([erase_value]) * max(self.layout._sizes)
        self._cut: _PowerCut | None = None
        self._dead = False
        self._stuck: dict[int, dict[int, int]] = {}  # page -> {offset: mask of stuck bits}
        self._wear_rng = random.Random(endurance.seed if endurance else 0)
        self._file = None
        self._open = True
        self.path = None
        if backing is None:
            self._buf = bytearray(self._erased[:1] * self.layout.size)
        else:
            self._map_file(os.fspath(backing), create, readonly)

    # --- backing ---------------------------------------------------------------
    def _map_file(self, path: str, create: bool, readonly: bool) -> None:
        size = self.layout.size
        if not os.path.exists(path):
            if not create or readonly:
                raise InvalidArgument(f"{self.name}: image file {path} does not exist")
            with open(path, "wb") as f:
                chunk = self._erased[:1] * min(size, 1 << 20)
                left = size
                while left:
                    f.write(chunk[:min(left, len(chunk))])
                    left -= min(left, len(chunk))
        actual = os.path.getsize(path)
        if actual != size:
            raise InvalidArgument(f"{self.name}: image file {path} has {actual} bytes, device has {size}")
        self._file = open(path, "rb" if readonly else "r+b")
        access = mmap.ACCESS_READ if readonly else mmap.ACCESS_WRITE
        self._buf = mmap.mmap(self._file.fileno(), size, access=access)
        self.path = path

    def flush(self) -> None:
        """Sync a file-backed image to disk (no-op in memory)."""
        if isinstance(self._buf, mmap.mmap) and not self.readonly:
            self._buf.flush()

    def close(self) -> None:
        """Flush and unmap; the device is no longer ready (ENODEV for copy)."""
        if not self._open:
            return
        if isinstance(self._buf, mmap.mmap):
            self.flush()
            self._image_at_close = bytes(self._buf)
            self._buf.close()
            self._file.close()
        self._open = False

    @property
    def is_ready(self) -> bool:
        return self._open

    # --- image access without counting ----------------------------------------
    def snapshot(self) -> bytes:
        """The whole image as bytes; works in every state, dead included (DEV-30)."""
        if not self._open and isinstance(getattr(self, "_image_at_close", None), bytes):
            return self._image_at_close
        return bytes(self._buf)

    def restore(self, image: bytes) -> None:
        """Replace the whole image (not counted, no time); used to replay torture states."""
        if len(image) != self.layout.size:
            raise InvalidArgument(f"{self.name}: restore of {len(image)} bytes into {self.layout.size}")
        self._buf[:] = image

    # --- power cuts -------------------------------------------------------------
    def arm_power_cut(self, after: int | None, mode: str = "clean", tear: str = "prefix",
                      keep: int | None = None, seed: int = 0) -> None:
        """Arm a cut at the ``after``-th counted write/erase from now (DEV-31..33).

        ``mode`` "clean" (nothing applied) or "torn"; ``tear`` "prefix" (first ``keep`` bytes,
        or a seeded random count) or "bits" (each changing bit with probability 1/2).
        ``after=None`` only counts (see :attr:`ops_since_arm`).
        """
        if after is not None and after < 1:
            raise InvalidArgument(f"{self.name}: power cut after {after} operations (must be >= 1)")
        if mode not in ("clean", "torn") or tear not in ("prefix", "bits"):
            raise InvalidArgument(f"{self.name}: power cut mode {mode!r}/{tear!r}")
        self._cut = _PowerCut(after, mode, tear, keep, seed)

    def disarm(self) -> None:
        self._cut = None

    def power_restore(self) -> None:
        """Clear the dead state and disarm; image and counters stay (a reboot follows)."""
        self._dead = False
        self._cut = None

    @property
    def dead(self) -> bool:
        return self._dead

    @property
    def ops_since_arm(self) -> int:
        return self._cut.count if self._cut else 0

    def _lost(self, what: str, off: int, n: int) -> PowerLoss:
        return PowerLoss(f"{self.name}: {what} at {off:#x} len {n}: device is without power")

    # --- checks -------------------------------------------------------------------
    def _check_range(self, what: str, off: int, n: int) -> None:
        if off < 0 or n < 0 or off + n > self.layout.size:
            raise InvalidArgument(f"{self.name}: {what} at {off:#x} len {n} outside device "
                                  f"of {self.layout.size:#x} bytes")

    def _check_writable(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlyBacking(f"{self.name}: {what} on read-only image {self.path}")

    # --- read ----------------------------------------------------------------------
    def read(self, off: int, n: int) -> bytes:
        """Read ``n`` bytes at device offset ``off``. EINVAL on range (or alignment when
        unaligned reads are disabled); PowerLoss when dead."""
        if self._dead:
            raise self._lost("read", off, n)
        if off < 0 or n < 0 or off + n > self.layout.size:
            self._check_range("read", off, n)
        if not self.unaligned_read:
            wbs = self.parameters.write_block_size
            if off % wbs or n % wbs:
                raise InvalidArgument(f"{self.name}: read at {off:#x} len {n} not aligned to {wbs}")
        if n == 0:
            return b""
        st = self.stats
        st.flash_read_calls += 1
        st.bytes_read += n
        if self.timing is not None:
            st.flash_read_time_us += self.timing.read_setup_us + (
                0 if self.timing.per_call else n * self.timing.read_us_per_byte)
        return bytes(self._buf[off:off + n])

    # --- write ---------------------------------------------------------------------
    def write(self, off: int, data) -> None:
        """Program ``data`` at device offset ``off`` (spec/device.md §4.4 order).

        Errors: EINVAL (range, alignment), EROFS (read-only image), EIO (double write
        without ``allow_double_writes``; worn-out page in "eio" mode), PowerLoss.
        """
        if self._dead:
            raise self._lost("write", off, len(data))
        n = len(data)
        wbs = self.parameters.write_block_size
        if off < 0 or off + n > self.layout.size:
            self._check_range("write", off, n)
        if off % wbs or n % wbs:
            raise InvalidArgument(f"{self.name}: write at {off:#x} len {n} not aligned to write block {wbs}")
        if self.readonly:
            self._check_writable("write")
        if n == 0:
            return
        st = self.stats
        st.flash_write_calls += 1
        buf = self._buf
        end = off + n
        old = buf[off:end]
        explicit = not self.parameters.caps.no_explicit_erase
        if explicit and old != self._erased[:n]:
            programmed = self._programmed_blocks(old, wbs)
            if programmed:
                st.double_writes += 1 if not self.allow_double_writes else programmed
                if not self.allow_double_writes:
                    raise DeviceIOError(f"{self.name}: write at {off:#x} len {n} hits "
                                        f"{programmed} programmed write block(s) (double write)")
        th = self.thresholds
        if th.max_write_calls:
            if st.flash_write_calls > th.max_write_calls or (
                    st.flash_write_calls == th.max_write_calls and not th.max_len):
                return
            if st.flash_write_calls == th.max_write_calls:
                data, n = bytes(data[:th.max_len]), min(n, th.max_len)
                end, old = off + n, old[:n]
        cut = self._cut
        if cut is not None:
            cut.count += 1
            if cut.after is not None and cut.count == cut.after:
                self._cut_write(off, bytes(data), old, explicit)
        if self._stuck or self.endurance is not None:
            self._check_wear_write(off, n)
        if not explicit:
            buf[off:end] = data
        elif old == self._erased[:n]:
            buf[off:end] = data  # erased bytes take the data as is, for either erase value
        else:
            buf[off:end] = self._merge(old, data)
        if self._stuck:
            self._apply_stuck_range(off, end)
        st.bytes_written += n
        if self.timing is not None:
            st.flash_write_time_us += self._write_time(off, n)

    def _programmed_blocks(self, old: bytes, wbs: int) -> int:
        erased = self._erased
        if wbs == 1:
            return len(old) - old.count(erased[:1])
        blk = erased[:wbs]
        return sum(1 for i in range(0, len(old), wbs) if old[i:i + wbs] != blk)

    def _merge(self, old: bytes, data) -> bytes:
        """DEV-17: AND into 0xFF-erased flash, OR into 0x00-erased flash."""
        a = int.from_bytes(old, "little")
        b = int.from_bytes(data, "little")
        v = (a & b) if self.parameters.erase_value == 0xFF else (a | b)
        return v.to_bytes(len(old), "little")

    def _cut_write(self, off: int, data: bytes, old: bytes, explicit: bool) -> None:
        cut = self._cut
        n = len(data)
        applied = 0
        if cut.mode == "torn":
            full = self._merge(old, data) if explicit else data
            if cut.tear == "prefix":
                k = cut.keep if cut.keep is not None else cut.rng.randrange(n)
                k = max(0, min(k, n))
                self._buf[off:off + k] = full[:k]
                applied = k
            else:
                a = int.from_bytes(old, "little")
                diff = a ^ int.from_bytes(full, "little")
                keep_mask = cut.rng.getrandbits(n * 8) & diff
                applied = bin(keep_mask).count("1")
                self._buf[off:off + n] = (a ^ keep_mask).to_bytes(n, "little")
        self._dead = True
        raise PowerLoss(f"{self.name}: power cut during write #{cut.count} at {off:#x} len {n} "
                        f"({cut.mode}{'/' + cut.tear if cut.mode == 'torn' else ''}, {applied} applied)",
                        op_index=cut.count, kind="write", offset=off, length=n, applied=applied)

    def _write_time(self, off: int, n: int) -> float:
        t = self.timing
        if t.per_call:
            return t.t_page_program_us
        pp = self.program_page_size
        total = 0.0
        while n:
            piece = min(n, pp - off % pp)
            if t.t_byte_first_us is None:
                total += t.t_page_program_us
            else:
                total += min(t.t_page_program_us, t.t_byte_first_us + (piece - 1) * t.t_byte_next_us)
            off += piece
            n -= piece
        return total

    # --- erase ---------------------------------------------------------------------
    def erase(self, off: int, n: int) -> None:
        """Erase the pages covering ``[off, off+n)``; both ends must be page boundaries.

        Errors: ENOSYS (no erase operation), EINVAL (range, boundaries), EROFS, EIO (worn-out
        page in "eio" mode), PowerLoss.
        """
        if self._dead:
            raise self._lost("erase", off, n)
        if not self.erase_supported:
            raise NotSupported(f"{self.name}: device has no erase operation")
        self._check_range("erase", off, n)
        lay = self.layout
        if not lay.is_boundary(off) or not lay.is_boundary(off + n):
            raise InvalidArgument(f"{self.name}: erase at {off:#x} len {n:#x} is not on erase-page boundaries")
        self._check_writable("erase")
        if n == 0:
            return
        st = self.stats
        st.flash_erase_calls += 1
        th = self.thresholds
        if th.max_erase_calls and st.flash_erase_calls >= th.max_erase_calls:
            return
        pages = list(lay.pages(off, off + n))
        cut = self._cut
        if cut is not None:
            cut.count += 1
            if cut.after is not None and cut.count == cut.after:
                self._cut_erase(off, n, pages)
        for p in pages:
            st.erase_cycles[p.index] += 1
        if self.endurance is not None:
            self._wear_on_erase(off, n, pages)
        else:
            self._buf[off:off + n] = self._erased[:1] * n
        if self.timing is not None:
            st.flash_erase_time_us += self._erase_time(pages)

    def _cut_erase(self, off: int, n: int, pages) -> None:
        cut = self._cut
        applied = 0
        if cut.mode == "torn":
            j = cut.rng.randrange(len(pages))
            for p in pages[:j]:
                self._buf[p.start_offset:p.start_offset + p.size] = self._erased[:p.size]
                self.stats.erase_cycles[p.index] += 1
            p = pages[j]
            old = self._buf[p.start_offset:p.start_offset + p.size]
            a = int.from_bytes(old, "little")
            erased = int.from_bytes(self._erased[:p.size], "little")
            mask = cut.rng.getrandbits(p.size * 8) & (a ^ erased)
            self._buf[p.start_offset:p.start_offset + p.size] = (a ^ mask).to_bytes(p.size, "little")
            self.stats.erase_cycles[p.index] += 1
            self._apply_stuck_range(p.start_offset, p.start_offset + p.size)
            applied = j
        self._dead = True
        raise PowerLoss(f"{self.name}: power cut during erase #{cut.count} at {off:#x} len {n:#x} "
                        f"({cut.mode}, {applied} page(s) fully erased)",
                        op_index=cut.count, kind="erase", offset=off, length=n, applied=applied)

    def _erase_time(self, pages) -> float:
        t = self.timing
        if t.per_call:
            return _ZEPHYR_ERASE_US
        total = 0.0
        for p in pages:
            if p.size not in t.t_erase_us:
                raise InvalidArgument(f"{self.name}: timing has no erase time for {p.size}-byte pages")
            total += t.t_erase_us[p.size]
        return total

    # --- endurance -------------------------------------------------------------------
    def _wear_on_erase(self, off: int, n: int, pages) -> None:
        end = self.endurance
        rated = end.rated_cycles
        if end.mode == "eio":
            worn = [p for p in pages if self.stats.erase_cycles[p.index] > rated]
            if worn:
                if self.timing is not None:
                    self.stats.flash_erase_time_us += self._erase_time(pages)
                raise DeviceIOError(f"{self.name}: erase of page {worn[0].index} at "
                                    f"{worn[0].start_offset:#x} failed: worn out after "
                                    f"{self.stats.erase_cycles[worn[0].index] - 1} cycles (rated {rated})")
            self._buf[off:off + n] = self._erased[:1] * n
            return
        self._buf[off:off + n] = self._erased[:1] * n
        for p in pages:
            if self.stats.erase_cycles[p.index] > rated:
                stuck = self._stuck.setdefault(p.index, {})
                for _ in range(end.stuck_bits_per_erase):
                    pos = self._wear_rng.randrange(p.size * 8)
                    o = p.start_offset + pos // 8
                    stuck[o] = stuck.get(o, 0) | (1 << (pos % 8))
        self._apply_stuck_range(off, off + n)

    def _check_wear_write(self, off: int, n: int) -> None:
        if self.endurance is None or self.endurance.mode != "eio":
            return
        rated = self.endurance.rated_cycles
        cycles = self.stats.erase_cycles
        lay = self.layout
        first, last = lay.index_of(off), lay.index_of(off + n - 1)
        for i in range(first, last + 1):
            if cycles[i] > rated:
                raise DeviceIOError(f"{self.name}: write at {off:#x} len {n} touches worn-out "
                                    f"page {i} ({cycles[i]} cycles, rated {rated})")

    def _apply_stuck_range(self, start: int, end: int) -> None:
        """Force stuck bits to the programmed state (complement of the erase value)."""
        if not self._stuck:
            return
        ff = self.parameters.erase_value == 0xFF
        for page in self._stuck.values():
            for o, mask in page.items():
                if start <= o < end:
                    self._buf[o] = self._buf[o] & ~mask & 0xFF if ff else self._buf[o] | mask

    def wear_report(self) -> dict:
        """Per-page cycles, rated cycles, worn-out flag and stuck bits; device max/mean (DEV-40)."""
        cycles = self.stats.erase_cycles
        rated = self.rated_cycles
        pages = []
        for p in self.layout.pages():
            c = cycles[p.index]
            stuck = sum(bin(m).count("1") for m in self._stuck.get(p.index, {}).values())
            pages.append({"index": p.index, "offset": p.start_offset, "size": p.size, "cycles": c,
                          "rated_cycles": rated, "worn_out": rated is not None and c > rated,
                          "stuck_bits": stuck})
        mx = max(cycles) if cycles else 0
        mean = sum(cycles) / len(cycles) if cycles else 0.0
        return {"device": self.name, "pages": pages, "max": mx, "mean": mean,
                "max_over_mean": (mx / mean) if mean else 0.0, "rated_cycles": rated}

    def save_wear(self, path) -> None:
        """Persist ``erase_cycles`` to a JSON sidecar (never inside the image, DEV-29)."""
        with open(path, "w") as f:
            json.dump({"device": self.name, "erase_cycles": self.stats.erase_cycles}, f)

    def load_wear(self, path) -> None:
        with open(path) as f:
            cycles = json.load(f)["erase_cycles"]
        if len(cycles) != self.layout.page_count:
            raise InvalidArgument(f"{self.name}: wear file {path} has {len(cycles)} pages, "
                                  f"device has {self.layout.page_count}")
        self.stats.erase_cycles[:] = cycles

    def __repr__(self) -> str:
        where = self.path or "memory"
        return (f"SimulatedFlash({self.name!r}, {self.layout.size:#x} bytes, pages {self.layout.runs}, "
                f"wbs {self.parameters.write_block_size}, {where})")
