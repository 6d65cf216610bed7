"""``SimulatedFlash``: a NOR flash with exact program/erase semantics, counters,
power-cut and wear-out injection, backed by memory or by an image file (mmap).

Model: Zephyr drivers/flash/flash_simulator.c; flashstack additions per
docs/device.md §4-§7. Offsets and lengths are device-relative bytes.
"""

from __future__ import annotations

import json
import mmap
import os
from typing import Literal, Sequence

from ..errors import (DeviceIOError, InvalidArgument, NoDevice, NotSupported, PowerLoss,
                      ReadOnlyBacking)
from .base import FlashCaps, FlashDevice, FlashParameters
from .backing import SparseImage
from .faults import Endurance, PowerCut, StuckBits, UnstableBits, tear_bits, tear_unstable
from .parts import Backing, DeviceGeometry, Faults, parts_from_chip, split_overrides, with_overrides
from .stats import FlashStats, FlashThresholds
from .timing import ZEPHYR_SIM_TIMING, ChipTiming

__all__ = ["SimulatedFlash", "FlashStats", "FlashThresholds", "ChipTiming", "Endurance",
           "ZEPHYR_SIM_TIMING", "DeviceGeometry", "Faults", "Backing"]

_WORD_FORMATS: dict[int, Literal["H", "I", "Q"]] = {2: "H", 4: "I", 8: "Q"}


def _as_bytes(data, name: str, off: int) -> bytes | bytearray:
    """Any bytes-like object as bytes (by raw byte length, whatever its item format)."""
    if isinstance(data, (bytes, bytearray)):
        return data
    try:
        return memoryview(data).tobytes()
    except TypeError:
        raise InvalidArgument(f"{name}: write at {off:#x}: data of type {type(data).__name__} "
                              "is not bytes-like") from None


def _lookup(chip):
    """A chip given by key, part name or JEDEC id as its :class:`~.chips.Chip`; others as is."""
    if isinstance(chip, (str, int, bytes)):
        from . import chips
        return chips.lookup(chip)
    return chip


def _resolve(name: str, chip, size: int | None, erase_page_size: int | None, layout,
             geo_kw: dict, fault_kw: dict) -> tuple[DeviceGeometry, Faults]:
    """Geometry and faults from a chip (or nothing) and explicit values (None: not given);
    EINVAL when ``size`` disagrees with the layout or no layout can be told."""
    if chip is not None:
        geometry, faults = parts_from_chip(chip, size, erase_page_size, layout, name)
    elif layout is not None:
        geometry, faults = DeviceGeometry(tuple(layout)), Faults()
    elif size is None or erase_page_size is None:
        raise InvalidArgument(f"{name}: give size and erase_page_size, a layout, or a chip")
    else:
        geometry, faults = DeviceGeometry.uniform(size, erase_page_size, name), Faults()
    geometry, faults = with_overrides(geometry, faults, geo_kw, fault_kw)
    if size is not None and size != geometry.page_layout(name).size:
        raise InvalidArgument(f"{name}: size {size} differs from layout total {geometry.size}")
    return geometry, faults


class SimulatedFlash(FlashDevice):
    """A simulated NOR flash device (docs/device.md §4).

    Shapes: ``size`` bytes; layout from ``erase_page_size`` (uniform ``[(size // N, N)]``) or
    ``layout`` runs of ``(count, size)``; or from ``chip`` (a built-in key, part name or JEDEC
    id, a spiflash part, or a :class:`~flashstack.device.chips.Chip`), explicit arguments
    overriding the chip's values (DEV-47). ``backing`` None keeps the image in a bytearray;
    a path maps a raw image file (created erased when missing and ``create``; an existing
    file is never re-initialised and must have exactly ``size`` bytes).

    Three ways to build one, the same device each time: :meth:`from_parts` (a
    :class:`DeviceGeometry`, :class:`Faults` and :class:`Backing`, :mod:`.parts`),
    :meth:`from_chip` (a chip, overrides by keyword) and the keyword form, which sorts its
    arguments into those parts.

    Errors (all ``flashstack.errors``): InvalidArgument (EINVAL) for configuration, ranges,
    alignment; DeviceIOError (EIO) for double writes and worn-out pages; NotSupported (ENOSYS)
    without an erase operation; ReadOnlyBacking (EROFS) on a read-only device; NoDevice
    (ENODEV) after ``close()``; NotFound (ENOENT) for a missing image with ``create=False``;
    PowerLoss after a simulated cut.
    """

    def __init__(self, size: int | None = None, *, erase_page_size: int | None = None,
                 layout: Sequence[tuple[int, int]] | None = None, write_block_size: int | None = None,
                 program_page_size: int | None = None, erase_value: int = 0xFF,
                 explicit_erase: bool = True, allow_double_writes: bool | None = None,
                 unaligned_read: bool = True, erase_supported: bool = True,
                 fill_buffer_size: int = 32, backing: str | os.PathLike | None = None,
                 create: bool = True, readonly: bool = False, timing: ChipTiming | None = None,
                 endurance: Endurance | None = None, chip=None, name: str = "flash0"):
        # the keyword form: sorted into the three parts, then built as from_parts does
        geo_kw = dict(write_block_size=write_block_size, program_page_size=program_page_size,
                      erase_value=erase_value, explicit_erase=explicit_erase,
                      allow_double_writes=allow_double_writes, unaligned_read=unaligned_read,
                      erase_supported=erase_supported, fill_buffer_size=fill_buffer_size)
        c = _lookup(chip)
        geometry, faults = _resolve(name, c, size, erase_page_size, layout, geo_kw,
                                    dict(timing=timing, endurance=endurance))
        self._configure(name, geometry, faults, Backing(backing, create, readonly), c)

    @classmethod
    def from_parts(cls, geometry: DeviceGeometry, faults: Faults | None = None,
                   backing: Backing | None = None, *, name: str = "flash0",
                   chip=None) -> "SimulatedFlash":
        """A device from its parts (:mod:`flashstack.device.parts`): ``faults`` None adds none,
        ``backing`` None keeps the image in memory; ``chip`` is only recorded (``.chip``).
        Errors as the keyword form (EINVAL for the geometry, ENOENT/EINVAL for the image)."""
        dev = cls.__new__(cls)
        SimulatedFlash._configure(dev, name, geometry, faults or Faults(), backing or Backing(), chip)
        return dev

    @classmethod
    def from_chip(cls, chip, **overrides) -> "SimulatedFlash":
        """A device with the geometry, program model, timing and rated cycles of ``chip`` (a
        built-in key, part name or JEDEC id, a spiflash part, or a
        :class:`~flashstack.device.chips.Chip`; DEV-46). ``overrides`` are the keyword form's
        arguments (``size``/``erase_page_size``/``layout``, ``write_block_size``,
        ``backing``, ``endurance``, ``name``, ...), each replacing the chip's value (DEV-47).
        NotFound (ENOENT) for an unknown chip, InvalidArgument (EINVAL) for an unknown
        keyword or a bad value. Example: ``SimulatedFlash.from_chip("w25q128jv", backing="f.bin")``."""
        name = overrides.pop("name", "flash0")
        size = overrides.pop("size", None)
        eps = overrides.pop("erase_page_size", None)
        geo_kw, fault_kw, back_kw = split_overrides(overrides, name)
        c = _lookup(chip)
        geometry, faults = _resolve(name, c, size, eps, geo_kw.pop("layout", None), geo_kw,
                                    fault_kw)
        return cls.from_parts(geometry, faults, Backing(**back_kw), name=name, chip=c)

    def _configure(self, name: str, geometry: DeviceGeometry, faults: Faults, backing: Backing,
                   chip) -> None:
        """Set every attribute from the three parts (the one construction path)."""
        self.name = name
        self.chip = chip
        self.layout = geometry.page_layout(name)
        wbs, ev, explicit = geometry.write_block_size, geometry.erase_value, geometry.explicit_erase
        self.allow_double_writes = bool(geometry.allow_double_writes)
        self.parameters = FlashParameters(wbs, ev, FlashCaps(not explicit),
                                          self.allow_double_writes or not explicit)
        self.erase_supported = geometry.erase_supported
        self.fill_buffer_size = geometry.fill_buffer_size
        self._timing: ChipTiming | None = None
        self._program_page_size = geometry.program_page_size
        self.timing = faults.timing  # property: checks the layout, caches the write cost
        self.endurance = faults.endurance
        self.rated_cycles = faults.endurance.rated_cycles if faults.endurance else faults.rated_cycles
        self.readonly = backing.readonly
        self.stats = FlashStats(erase_cycles=[0] * self.layout.page_count)
        self.thresholds = FlashThresholds()
        # hot-path constants (checked on every call; see bench/device_bench.py)
        self._size = self.layout.size
        self._ups = self.layout.uniform_page_size
        self._wbs = wbs
        self._wmask = wbs - 1
        self._ev = ev
        self._evb = bytes([ev])
        self._explicit = explicit
        self.unaligned_read = geometry.unaligned_read
        self._cut: PowerCut | None = None
        self._dead = False
        self._open = True
        self._halt = False  # dead or closed: one test on the hot path
        self._stuck = StuckBits(ev, faults.endurance.seed if faults.endurance else 0)
        self._unstable = UnstableBits(ev)  # left by "unstable" tears (§5)
        self._changes: list[tuple[int, int]] | None = None  # DEV-49: ranges changed, when tracked
        self.path = None if backing.path is None else os.fspath(backing.path)
        self._file, self._buf = backing.open(self._size, ev, name)
        self._mv = self._buf if isinstance(self._buf, SparseImage) else memoryview(self._buf)

    # --- configuration that the hot path caches --------------------------------------
    @property
    def timing(self) -> ChipTiming | None:
        """The :class:`ChipTiming` of the busy-time model (§7), or None (no time accounting).
        Setting it checks that every erase-page size has an erase time (EINVAL)."""
        return self._timing

    @timing.setter
    def timing(self, value: ChipTiming | None) -> None:
        self._page_costs = None
        if value is not None:
            value.check_layout((s for _, s in self.layout.runs), self.name)
            pp = self._program_page_size
            self._write_cost = value.write_cost(pp)
            if pp <= 4096:  # hot path: cost of a write inside one program page, by length
                self._page_costs = [value.write_us(0, k, pp) for k in range(pp + 1)]
        self._timing = value

    @property
    def program_page_size(self) -> int:
        """Most bytes one program command takes (timing model; never limits a write)."""
        return self._program_page_size

    @program_page_size.setter
    def program_page_size(self, value: int) -> None:
        self._program_page_size = value
        self.timing = self._timing

    @property
    def endurance(self) -> Endurance | None:
        """The :class:`Endurance` enforced (§6), or None (unlimited)."""
        return self._endurance

    @endurance.setter
    def endurance(self, value: Endurance | None) -> None:
        self._endurance = value
        # "eio" writes check the touched pages' cycles; uniform layouts take a one-page fast path
        self._eio_rated = value.rated_cycles if value is not None and value.mode == "eio" else None

    @property
    def unaligned_read(self) -> bool:
        """Zephyr ``FLASH_SIMULATOR_UNALIGNED_READ``: False rejects reads not on write blocks."""
        return self._rmask == 0

    @unaligned_read.setter
    def unaligned_read(self, value: bool) -> None:
        self._rmask = 0 if value else self._wmask

    # --- backing -----------------------------------------------------------------
    def flush(self) -> None:
        """Sync a file-backed image to disk (no-op in memory or when closed)."""
        if self._open and isinstance(self._buf, mmap.mmap) and not self.readonly:
            self._buf.flush()

    def close(self) -> None:
        """Flush and unmap; the device is then not ready (ENODEV; DEV-27). Idempotent."""
        if not self._open:
            return
        self._open = False
        self._halt = True
        if isinstance(self._buf, mmap.mmap):
            if not self.readonly:
                self._buf.flush()
            if isinstance(self._mv, memoryview):  # always, over a mapped file
                self._mv.release()
            self._buf.close()
            self._file.close()

    @property
    def is_ready(self) -> bool:
        """False after :meth:`close` (operations raise ENODEV)."""
        return self._open

    # --- image access without counting -----------------------------------------------
    def snapshot(self) -> bytes:
        """The whole image as bytes; works in every state, dead or closed (DEV-30)."""
        if not self._open and self.path is not None:
            with open(self.path, "rb") as f:
                return f.read()
        return bytes(self._buf)

    def restore(self, image) -> None:
        """Replace the whole image (not counted, no time); used to replay torture states.

        EINVAL if ``len(image)`` differs from the size, EROFS on a read-only device, ENODEV
        when closed. Stuck bits (§6) still hold afterwards.
        """
        self._check_restore(image)
        self._buf[:] = image
        self._unstable.bits.clear()
        self._stuck.apply(self._buf, 0, self._size)
        if self._changes is not None:
            self._changes = []

    def _check_restore(self, image) -> None:
        if not self._open:
            raise NoDevice(f"{self.name}: restore on a closed device")
        if self.readonly:
            raise ReadOnlyBacking(f"{self.name}: restore on read-only image {self.path or 'in memory'}")
        if len(image) != self._size:
            raise InvalidArgument(f"{self.name}: restore of {len(image)} bytes into {self._size}")

    # --- change tracking (DEV-49) ----------------------------------------------------------
    #: DEV-49 change tracking is exact (False where other code writes the image too)
    change_tracking = True

    def track_changes(self) -> None:
        """DEV-49: from now on, record the byte ranges that writes, erases and power cuts change
        (:meth:`changed_ranges`), so that :meth:`restore_changed` can put an image back by
        copying only those ranges. Restarts the record when already tracking. ENOSYS where
        :attr:`change_tracking` is False."""
        if not self.change_tracking:
            raise NotSupported(f"{self.name}: other code writes this image; changes are not tracked")
        self._changes = []

    @property
    def tracking(self) -> bool:
        """True while changed ranges are recorded (DEV-49)."""
        return self._changes is not None

    def peek(self, off: int, n: int) -> bytes:
        """``n`` bytes at ``off`` as stored, not counted, in every state (like :meth:`snapshot`,
        DEV-30, for a range). EINVAL out of range."""
        if off < 0 or n < 0 or off + n > self._size:
            raise self._range_error("peek", off, n)
        return bytes(self._buf[off:off + n])

    def untrack_changes(self) -> None:
        """Stop recording changed ranges (DEV-49)."""
        self._changes = None

    def changed_ranges(self) -> list[tuple[int, int]]:
        """``[(start, end))`` device offsets changed since :meth:`track_changes` or the last
        restore, sorted and merged. EINVAL when changes are not tracked."""
        if self._changes is None:
            raise InvalidArgument(f"{self.name}: changed_ranges without track_changes")
        out: list[tuple[int, int]] = []
        for a, b in sorted(self._changes):
            if out and a <= out[-1][1]:
                if b > out[-1][1]:
                    out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    def restore_changed(self, image) -> None:
        """DEV-49: :meth:`restore` of ``image``, copying only the ranges changed since tracking
        started or since the last restore; the device must have held ``image`` then (the
        caller's promise: every other byte is already ``image``'s). Same errors as :meth:`restore`."""
        self._check_restore(image)
        ranges = self.changed_ranges()
        for a, b in ranges:
            self._buf[a:b] = image[a:b]
        self._unstable.bits.clear()
        if self._stuck.pages:
            for a, b in ranges:
                self._stuck.apply(self._buf, a, b)
        self._changes = []

    # --- power cuts (§5) -------------------------------------------------------------
    def arm_power_cut(self, after: int | None, mode: str = "clean", tear: str = "prefix",
                      keep: int | None = None, seed: int = 0) -> None:
        """Arm a cut at the ``after``-th counted write/erase from now (DEV-31..33).

        ``mode`` "clean" (nothing applied) or "torn"; ``tear`` "prefix" (first ``keep`` bytes,
        else a seeded count in ``[0, len)``), "bits" (each changing bit with probability 1/2) or
        "unstable" (of the changing bits a seeded third land, a third stay, a third are left
        unstable: they read differently on each read until an erase or a program settles them).
        ``after=None`` only counts (see :attr:`ops_since_arm`). EINVAL on bad arguments.
        """
        try:
            self._cut = PowerCut(after, mode, tear, keep, seed)
        except InvalidArgument as e:
            raise InvalidArgument(f"{self.name}: {e.strerror}") from None

    def disarm(self) -> None:
        """Cancel a pending cut (the device stays dead if it already is)."""
        self._cut = None

    def power_restore(self) -> None:
        """DEV-36: clear the dead state and disarm; image and counters stay (a reboot follows)."""
        self._dead = False
        self._halt = not self._open
        self._cut = None

    @property
    def dead(self) -> bool:
        """True from a power cut until :meth:`power_restore`: operations raise PowerLoss."""
        return self._dead

    @property
    def ops_since_arm(self) -> int:
        """Counted write/erase operations since arming (0 when not armed)."""
        return self._cut.count if self._cut else 0

    def _halted(self, what: str, off: int, n: int):
        if self._dead:
            raise PowerLoss(f"{self.name}: {what} at {off:#x} len {n}: device is without power")
        raise NoDevice(f"{self.name}: {what} at {off:#x} len {n}: device is closed")

    def _died(self, kind: str, off: int, n: int, applied: int, detail: str):
        cut = self._cut
        assert cut is not None, "only an armed device is cut"
        self._dead = self._halt = True
        raise PowerLoss(f"{self.name}: power cut during {kind} #{cut.count} at {off:#x} len {n} "
                        f"({cut.describe()}, {detail})",
                        op_index=cut.count, kind=kind, offset=off, length=n, applied=applied)

    # --- validation (slow paths) -------------------------------------------------------
    def _range_error(self, what: str, off: int, n: int) -> InvalidArgument:
        return InvalidArgument(f"{self.name}: {what} at {off:#x} len {n} outside device "
                               f"of {self._size:#x} bytes")

    def _check_read(self, off: int, n: int) -> bool:
        """Raise for an invalid read; True for a valid zero-length one (DEV-8)."""
        if off < 0 or n < 0 or off + n > self._size:
            raise self._range_error("read", off, n)
        if n == 0:
            return True
        raise InvalidArgument(f"{self.name}: read at {off:#x} len {n} not aligned to write "
                              f"block {self._wbs} (unaligned reads disabled)")

    def _check_write(self, off: int, n: int) -> bool:
        """Raise for an invalid write (§4.4 step 2); True for a valid zero-length one."""
        if off < 0 or off + n > self._size:
            raise self._range_error("write", off, n)
        if n == 0:
            return True
        if (off | n) & self._wmask:
            raise InvalidArgument(f"{self.name}: write at {off:#x} len {n} not aligned to "
                                  f"write block {self._wbs}")
        raise ReadOnlyBacking(f"{self.name}: write at {off:#x} len {n} on read-only image "
                              f"{self.path or 'in memory'}")

    # --- read ----------------------------------------------------------------------------
    def read(self, off: int, n: int) -> bytes:
        """Read ``n`` bytes at device offset ``off`` (stuck bits included; §4.4).

        Errors: EINVAL (range; alignment when unaligned reads are disabled), ENODEV, PowerLoss.
        """
        if self._halt:
            self._halted("read", off, n)
        if off < 0 or n <= 0 or off + n > self._size or (off | n) & self._rmask:
            if self._check_read(off, n):
                return b""
        st = self.stats
        st.flash_read_calls += 1
        st.bytes_read += n
        if self._timing is not None:
            st.flash_read_time_us += self._timing.read_us(n)
        if self._unstable.bits:
            return self._unstable.scramble(off, self._mv[off:off + n].tobytes())
        return self._mv[off:off + n].tobytes()

    # --- write ---------------------------------------------------------------------------
    def write(self, off: int, data) -> None:
        """Program ``data`` (bytes-like) at device offset ``off``, in the order of §4.4.

        Errors: EINVAL (range, alignment), EROFS (read-only), ENODEV (closed), EIO (double
        write without ``allow_double_writes``; worn-out page in "eio" mode), PowerLoss.
        """
        if type(data) is not bytes:
            data = _as_bytes(data, self.name, off)
        n = len(data)
        if self._halt:
            self._halted("write", off, n)
        if off < 0 or off + n > self._size or (off | n) & self._wmask or not n or self.readonly:
            if self._check_write(off, n):
                return
        st = self.stats
        st.flash_write_calls += 1
        end = off + n
        old = self._buf[off:end]
        if old.count(self._evb) == n or not self._explicit:
            full = data  # RAM-like overwrite; erased & data == data for either erase value
        else:
            full = self._double_write(off, n, old, data)
        shortened = False
        th = self.thresholds
        if th.max_write_calls and st.flash_write_calls >= th.max_write_calls:
            if st.flash_write_calls > th.max_write_calls or not th.max_len:
                return  # DEV-24: dropped, reported as success
            shortened = True  # DEV-24: only max_len bytes land; no bytes_written, no time
            n = min(n, th.max_len)
            old, full, end = old[:n], full[:n], off + n
        cut = self._cut
        if cut is not None:
            cut.count += 1
            if cut.count == cut.after:
                self._cut_write(cut, off, n, old, full)
        rated = self._eio_rated
        if rated is not None:
            ups = self._ups
            if ups is None or off // ups != (end - 1) // ups or st.erase_cycles[off // ups] > rated:
                self._wear_check_write(off, n)
        self._mv[off:end] = full  # memoryview slice assignment: cheaper than bytearray's
        if self._changes is not None:
            self._changes.append((off, end))
        if self._unstable.bits:
            self._unstable.programmed(off, data[:n])
        if self._stuck.pages:
            self._stuck.apply(self._buf, off, end)
        if shortened:
            return
        st.bytes_written += n
        costs = self._page_costs
        if costs is not None:
            pp = self._program_page_size
            st.flash_write_time_us += costs[n] if off % pp + n <= pp else self._write_cost(off, n)
        elif self._timing is not None:
            st.flash_write_time_us += self._write_cost(off, n)

    def _double_write(self, off: int, n: int, old, data) -> bytes:
        """DEV-16 on a range that is not all erased: count programmed blocks; EIO unless
        double writes are allowed. Returns what the range holds after the full write.

        A range that only looks programmed because of stuck bits counts as erased (§6: writes
        still succeed in "stuck" mode; the stuck bits are forced again afterwards).
        """
        programmed = self._programmed_blocks(self._stuck.unstuck(off, old) if self._stuck.pages else old)
        if not programmed:
            return data
        st = self.stats
        if not self.allow_double_writes:
            st.double_writes += 1
            raise DeviceIOError(f"{self.name}: write at {off:#x} len {n} hits {programmed} "
                                f"programmed write block(s) (double write)")
        st.double_writes += programmed
        return self._merge(old, data)

    def _programmed_blocks(self, old) -> int:
        """Number of write blocks in ``old`` that are not all erase value (DEV-15)."""
        wbs = self._wbs
        if wbs == 1:
            return len(old) - old.count(self._evb)
        fmt = _WORD_FORMATS.get(wbs)
        if fmt is not None:
            words = memoryview(old).cast(fmt).tolist()
            return len(words) - words.count((1 << (8 * wbs)) - 1 if self._ev else 0)
        blk = self._evb * wbs
        return sum(1 for i in range(0, len(old), wbs) if old[i:i + wbs] != blk)

    def _merge(self, old, data) -> bytes:
        """DEV-17: AND into 0xFF-erased flash, OR into 0x00-erased flash."""
        a = int.from_bytes(old, "little")
        b = int.from_bytes(data, "little")
        v = (a & b) if self._ev == 0xFF else (a | b)
        return v.to_bytes(len(old), "little")

    def _cut_write(self, cut: PowerCut, off: int, n: int, old, full) -> None:
        """The cut write (§4.4 step 6, DEV-32): tear it, mark the device dead, raise PowerLoss."""
        applied = 0
        if self._changes is not None:
            self._changes.append((off, off + n))
        if cut.mode == "torn" and cut.tear == "unstable":
            new, mask, applied = tear_unstable(cut.rng, bytes(old), bytes(full))
            self._buf[off:off + n] = new
            self._unstable.add(off, mask, seed=cut.rng.getrandbits(32))
            self._stuck.apply(self._buf, off, off + n)
        elif cut.mode == "torn":
            new, applied = cut.torn_write(bytes(old), bytes(full))
            self._buf[off:off + n] = new
            self._stuck.apply(self._buf, off, off + n)
        self._died("write", off, n, applied,
                   f"{applied} {'byte(s) kept' if cut.tear == 'prefix' else 'bit(s) applied'}")

    @property
    def unstable_bits(self) -> dict[int, int]:
        """Bits an "unstable" tear left half-programmed: device offset -> bit mask (a copy).
        They read at random until their page is erased or a program sets them."""
        return dict(self._unstable.bits)

    # --- erase -----------------------------------------------------------------------------
    def erase(self, off: int, n: int) -> None:
        """Erase the pages covering ``[off, off+n)``; both ends must be page boundaries.

        Errors: ENOSYS (no erase operation), EINVAL (range, boundaries), EROFS, ENODEV, EIO
        (worn-out page in "eio" mode), PowerLoss.
        """
        if self._halt:
            self._halted("erase", off, n)
        if not self.erase_supported:
            raise NotSupported(f"{self.name}: erase at {off:#x} len {n:#x}: device has no erase operation")
        if off < 0 or n < 0 or off + n > self._size:
            raise self._range_error("erase", off, n)
        if n == 0:
            return
        lay = self.layout
        if not lay.is_boundary(off) or not lay.is_boundary(off + n):
            raise InvalidArgument(f"{self.name}: erase at {off:#x} len {n:#x} is not on erase-page boundaries")
        if self.readonly:
            raise ReadOnlyBacking(f"{self.name}: erase at {off:#x} len {n:#x} on read-only image "
                                  f"{self.path or 'in memory'}")
        st = self.stats
        st.flash_erase_calls += 1
        th = self.thresholds
        if th.max_erase_calls and st.flash_erase_calls >= th.max_erase_calls:
            return  # DEV-24: dropped, reported as success
        pages = list(lay.pages(off, off + n))
        cut = self._cut
        if cut is not None:
            self._cut_erase(cut, off, n, pages)
        cycles = st.erase_cycles
        for p in pages:
            cycles[p.index] += 1
        if self.endurance is not None:
            self._wear_check_erase(pages)
        if isinstance(self._buf, SparseImage):
            self._buf.erase(off, off + n)
        else:
            self._buf[off:off + n] = self._evb * n
        if self._changes is not None:
            self._changes.append((off, off + n))
        wear = self.endurance
        if wear is not None and wear.mode == "stuck":  # DEV-39: new stuck bits in worn-out pages
            for p in pages:
                if cycles[p.index] > wear.rated_cycles:
                    self._stuck.add(p.start_offset, p.size, p.index, wear.stuck_bits_per_erase)
        if self._stuck.pages:
            self._stuck.apply(self._buf, off, off + n)
        if self._unstable.bits:
            self._unstable.erased(off, off + n)
        if self.timing is not None:
            st.flash_erase_time_us += self.timing.erase_us(p.size for p in pages)

    def _cut_erase(self, cut: PowerCut, off: int, n: int, pages) -> None:
        """Power-cut step of an erase (§4.4 step 5; DEV-32 partial erase)."""
        cut.count += 1
        if cut.count != cut.after:
            return
        applied = 0
        if self._changes is not None:
            self._changes.append((off, off + n))
        if cut.mode == "torn":
            j = cut.rng.randrange(len(pages))
            for p in pages[:j]:
                self._buf[p.start_offset:p.start_offset + p.size] = self._evb * p.size
                self.stats.erase_cycles[p.index] += 1
                if self._unstable.bits:
                    self._unstable.erased(p.start_offset, p.start_offset + p.size)
            p = pages[j]
            start, end = p.start_offset, p.start_offset + p.size
            new, _ = tear_bits(cut.rng, bytes(self._buf[start:end]), self._evb * p.size)
            self._buf[start:end] = new
            self.stats.erase_cycles[p.index] += 1
            self._stuck.apply(self._buf, off, end)
            applied = j + 1
        self._died("erase", off, n, applied, f"{applied} page(s) erased or partly erased")

    # --- endurance (§6) -----------------------------------------------------------------------
    def _wear_check_erase(self, pages) -> None:
        """DEV-38: in "eio" mode an erase touching a worn-out page fails, content unchanged."""
        wear = self.endurance
        if wear is None or wear.mode != "eio":
            return
        cycles = self.stats.erase_cycles
        worn = [p for p in pages if cycles[p.index] > wear.rated_cycles]
        if worn:
            if self.timing is not None:  # DEV-44: wear failures reached the array
                self.stats.flash_erase_time_us += self.timing.erase_us(p.size for p in pages)
            w = worn[0]
            raise DeviceIOError(f"{self.name}: erase of page {w.index} at {w.start_offset:#x} failed: "
                                f"worn out ({cycles[w.index]} cycles, rated {wear.rated_cycles})")

    def _wear_check_write(self, off: int, n: int) -> None:
        """DEV-38: in "eio" mode a write touching a worn-out page fails, nothing written."""
        wear = self.endurance
        if wear is None or wear.mode != "eio":
            return
        cycles = self.stats.erase_cycles
        lay = self.layout
        for i in range(lay.index_of(off), lay.index_of(off + n - 1) + 1):
            if cycles[i] > wear.rated_cycles:
                if self._timing is not None:
                    self.stats.flash_write_time_us += self._write_cost(off, n)
                raise DeviceIOError(f"{self.name}: write at {off:#x} len {n} touches worn-out "
                                    f"page {i} ({cycles[i]} cycles, rated {wear.rated_cycles})")

    def wear_report(self) -> dict:
        """DEV-40: per page (index, offset, size, cycles, rated_cycles, worn_out, stuck_bits);
        device ``max``, ``mean`` and ``max_over_mean`` of ``erase_cycles``."""
        cycles = self.stats.erase_cycles
        rated = self.rated_cycles
        pages = []
        for p in self.layout.pages():
            c = cycles[p.index]
            stuck = self._stuck.count(p.index)
            pages.append({"index": p.index, "offset": p.start_offset, "size": p.size, "cycles": c,
                          "rated_cycles": rated, "worn_out": rated is not None and c > rated,
                          "stuck_bits": stuck})
        mx = max(cycles) if cycles else 0
        mean = sum(cycles) / len(cycles) if cycles else 0.0
        return {"device": self.name, "pages": pages, "max": mx, "mean": mean,
                "max_over_mean": (mx / mean) if mean else 0.0, "rated_cycles": rated}

    def save_wear(self, path) -> None:
        """DEV-29: persist ``erase_cycles`` to a JSON sidecar (never inside the image)."""
        with open(path, "w") as f:
            json.dump({"device": self.name, "erase_cycles": self.stats.erase_cycles}, f)

    def load_wear(self, path) -> None:
        """Load ``erase_cycles`` saved by :meth:`save_wear`; EINVAL if the page count differs."""
        with open(path) as f:
            cycles = json.load(f)["erase_cycles"]
        if len(cycles) != self.layout.page_count or not all(isinstance(c, int) and c >= 0 for c in cycles):
            raise InvalidArgument(f"{self.name}: wear file {path} has {len(cycles)} page counters, "
                                  f"device has {self.layout.page_count} pages")
        self.stats.erase_cycles[:] = cycles

    def __repr__(self) -> str:
        where = self.path or "memory"
        return (f"SimulatedFlash({self.name!r}, {self._size:#x} bytes, pages {self.layout.runs}, "
                f"wbs {self._wbs}, {where})")


def unstable_key(dev) -> tuple:
    """The unstable bits of ``dev`` as a hashable value (empty for a device without them):
    two cut states with the same bytes differ when their unstable bits do."""
    bits = getattr(dev, "unstable_bits", None)
    return tuple(sorted(bits.items())) if bits else ()
