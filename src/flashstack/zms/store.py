"""``ZMSStore``: Zephyr ZMS on a flash area, byte- and operation-compatible with zms.c.

Upstream: zephyr subsys/fs/zms/zms.c @078f92a4 (zms_mount / zms_init, zms_write,
zms_read_hist, zms_gc, zms_sector_close, zms_add_empty_ate, zms_calc_free_space,
zms_active_sector_free_space, zms_sector_use_next, zms_clear), with the defect fixes
F1..F10 of docs/zephyr-zms.md. Positions (``ate_wra``, ``data_wra``, slot addresses) are
partition-relative byte offsets ``sector * S + offset``; :mod:`flashstack.zms.capi` shows
them packed as the reference does. Writes and erases are issued in the reference's order
(ZMS-9); lookups are answered by a RAM index equal to the reference's walks (ZMS-28).
"""

from __future__ import annotations

import errno as _errno
import math
from collections.abc import Callable
from typing import TypeVar

from ..device.base import flash_params_get_erase_cap
from ..errors import (
    AccessDenied,
    DeviceIOError,
    FlashError,
    InvalidArgument,
    NoSpace,
    NotFound,
    error_for,
)
from ..nvs._geometry_check import layout_refusal, write_block_refusal
from ..nvs.format import check_sector_boundaries, first_page_size, sector_count
from .format import ATE_SIZE, Ate, Geometry, ZMSConfig, crc8_slots, data_crc32, header_offsets
from ._walk import Index, Walker

__all__ = ["ZMSStore"]

T = TypeVar("T")
_WHOLE_READ = 64 << 20   # mount checks the geometry of a store up to this size (bytes)


class ZMSStore(Walker):
    """Zephyr ZMS on ``area`` (a :class:`~flashstack.flash_map.FlashArea`).

    ``sector_size`` defaults to the erase page at the area start, ``sector_count`` to
    ``area.size // sector_size``; ``data_crc``, ``id_64bit`` and ``no_double_write`` as
    Zephyr's Kconfig options. The device kind (explicit erase or erase-less) comes from the
    device parameters. Call :meth:`mount` first.

    Errors (``flashstack.errors``, errno as the reference): EACCES not mounted, EINVAL bad
    configuration or arguments, ENOENT missing id, ENOSPC store full, EIO data-CRC mismatch
    or a store failed by an earlier flash error (ZMS-34), ENOTSUP / EPROTONOSUPPORT / ESPIPE
    from mount, ENXIO from erase verification. ``PowerLoss`` propagates untouched.
    """

    def __init__(self, area, sector_size: int | None = None, sector_count: int | None = None,
                 data_crc: bool = False, id_64bit: bool = False, no_double_write: bool = False,
                 *, lookup_cache: int | None = None):
        self.area = area
        self.config = ZMSConfig(sector_size, sector_count, bool(data_crc), bool(id_64bit),
                                bool(no_double_write))
        self.geo: Geometry = None  # type: ignore[assignment]  # set by mount()
        self.mounted = False
        self.failed = False
        self.ate_wra = 0
        self.data_wra = 0
        self.sector_cycle = 0
        self.index = Index()
        self._ids_in: dict[int, set[int]] = {}   # sector -> ids with index entries there
        self.mount_notes: list[str] = []   # why the last mount wrote or erased (scan())
        self._mutating = False

    # ------------------------------------------------------------------ helpers
    def _name(self) -> str:
        return f"ZMS on partition {getattr(self.area, 'name', '?')}"

    def _check_ready(self, what: str) -> None:
        if not self.mounted:
            raise AccessDenied(f"{self._name()}: {what}: not mounted")
        if self.failed:
            raise DeviceIOError(f"{self._name()}: {what}: store failed after a flash error; "
                                "mount again")

    def _base(self, pos: int) -> int:
        return pos - pos % self.geo.S

    # ------------------------------------------------------------------ configuration (ZMS-1)
    def _resolve_geometry(self) -> Geometry:
        area, cfg = self.area, self.config
        def bad(why: str) -> InvalidArgument:
            return InvalidArgument(f"{self._name()}: {why}")
        params = getattr(area.device, "parameters", None)
        if params is None:
            raise bad("device has no flash parameters")
        w = params.write_block_size
        if w == 0 or w > 32:
            raise bad(f"write block size {w} not in 1..32")
        explicit = bool(flash_params_get_erase_cap(params))
        page_size = first_page_size(area, bad) if explicit or cfg.sector_size is None else 0
        s = page_size if cfg.sector_size is None else int(cfg.sector_size)
        if explicit and (s <= 0 or s % page_size):
            raise bad(f"sector size {s} is not a multiple of the {page_size}-byte erase page")
        a = max(ATE_SIZE, w)
        if s < 5 * a:
            raise bad(f"sector size {s} below 5 ATE slots ({5 * a} bytes)")
        n = sector_count(area, s, cfg.sector_count, bad)
        if w & (w - 1):
            raise bad(f"write block size {w} is not a power of two")
        if s * n > area.size:
            raise bad(f"{n} sectors of {s} bytes exceed the partition size {area.size}")
        if s % w:
            raise bad(f"sector size {s} is not a multiple of the write block {w}")
        if explicit:
            check_sector_boundaries(area, s, n, bad)
        return Geometry(s, n, w, area.erased_val, explicit, cfg.data_crc and not cfg.id_64bit,
                        cfg.id_64bit)

    # ------------------------------------------------------------------ flash primitives (§6)
    def _program(self, pos: int, b: bytes) -> None:
        """Aligned prefix in one write, then one write block padded with the erase value."""
        if not b:
            return
        w = self.geo.W
        k = len(b) - len(b) % w
        if k:
            self._dev(self.area.write, pos, b[:k])
        if k < len(b):
            rest = b[k:]
            self._dev(self.area.write, pos + k, rest + bytes([self.geo.E]) * (w - len(rest)))

    def _write_data(self, b: bytes) -> None:
        self._program(self.data_wra, b)
        self.data_wra += self.geo.al(len(b))

    def _write_ate(self, raw: bytes) -> int:
        """Program one ATE slot at ``ate_wra`` and move ``ate_wra`` down; returns the slot."""
        slot = self.ate_wra
        self._program(slot, raw)
        self.ate_wra -= self.geo.A
        return slot

    def _write_entry_ate(self, a: Ate) -> None:
        """Write a data/delete entry and make it the newest of its id in the index."""
        slot = self._write_ate(a.pack())
        self.index.add(slot, a)  # type: ignore[arg-type]
        self._ids_in.setdefault(slot // self.geo.S, set()).add(a.id)

    def _erase_sector(self, s: int) -> None:
        """Explicit-erase devices only: one erase of the sector, then verify (ENXIO)."""
        g = self.geo
        if not g.X:
            return
        self._dev(self.area.erase, s * g.S, g.S)
        if self._read(s * g.S, g.S) != bytes([g.E]) * g.S:
            raise error_for(_errno.ENXIO, f"{self._name()}: sector {s} at {s * g.S:#x} len "
                                          f"{g.S:#x} not erased after erase")

    def _add_empty(self, s: int) -> None:
        """``zms_add_empty_ate`` (ZMS-8): the empty ATE with the next cycle; ``ate_wra`` kept."""
        g = self.geo
        c = (self.sector_cycle_of(s) + 1) % 256
        if self._read(s * g.S + g.S - 2 * g.A + 1, 1)[0] == c:
            c = (c + 1) % 256
        keep = self.ate_wra
        self.ate_wra = s * g.S + g.S - g.A
        try:
            self._write_ate(g.empty(c).pack())
        finally:
            self.ate_wra = keep

    def _reset_sector(self, s: int) -> None:
        """Erase (NOR) and start sector ``s`` afresh; its entries leave the index."""
        self._erase_sector(s)
        self._add_empty(s)
        self._drop_sector(s)

    def _drop_sector(self, s: int) -> None:
        """Forget the index entries of sector ``s`` (only ids that have entries there)."""
        lo = s * self.geo.S
        self.index.drop(lo, lo + self.geo.S, self._ids_in.pop(s, ()))

    def _set_index(self, idx: Index) -> None:
        """Install a fresh index (from a walk) and the per-sector id sets drop() uses."""
        self.index = idx
        self._ids_in = {}
        for id_ in idx.ids():
            for pos, _ in idx.history(id_):
                self._ids_in.setdefault(pos // self.geo.S, set()).add(id_)

    # ------------------------------------------------------------------ mount (§8)
    def mount(self) -> None:
        """Mount (``zms_mount``): validate, find the write sector, recover, finish an
        interrupted sector switch. Raises EINVAL, ENOTSUP, EPROTONOSUPPORT, ESPIPE, ENXIO or
        device errors; a failed mount leaves the store unmounted (ZMS-16)."""
        self.mounted = False
        self.failed = False
        self._set_index(Index())
        self.mount_notes = []
        self.geo = self._resolve_geometry()
        self._check_geometry()
        self._mutating = True
        try:
            self._init()
            self._set_index(self.walk_index())
        finally:
            self._mutating = False
        self.mounted = True

    def unmount(self) -> None:
        """Forget the RAM state; nothing is written."""
        self.mounted = False
        self.failed = False
        self._set_index(Index())

    # ------------------------------------------------------------------ geometry check (ZMS-42)
    def _check_geometry(self) -> None:
        """ZMS-42: EINVAL, before any write, when the bytes say the store was written with
        another sector size, ATE slot size or write block (both named)."""
        g = self.geo
        size = g.N * g.S
        if size > _WHOLE_READ:
            return
        image = self._read(0, size)
        heads = header_offsets(image, g.wide)
        self._check_headers(heads)
        self._check_write_block(image, heads)

    def _check_headers(self, heads: list[int]) -> None:
        """The sector headers (empty ATEs, ``heads``) end at multiples of the sector size they
        were written with: their greatest common divisor, for the ATE slot size (16 or 32)
        that puts every header on its grid. Refused: two or more headers that are not at the
        end of a sector of ours (and at least half as many as those that are), or headers
        only at the end of every k-th sector of ours (written with a k times larger one)."""
        g = self.geo
        if len(heads) < 2:
            return
        t, a = max((math.gcd(*(o + a for o in heads)), a) for a in (ATE_SIZE, 2 * ATE_SIZE)
                   if all(o % a == 0 for o in heads))
        if (t, a) == (g.S, g.A):
            return
        stray = sum(1 for o in heads if (o + g.A) % g.S)
        larger = a == g.A and t > g.S and t % g.S == 0
        if larger or (stray >= 2 and 2 * stray >= len(heads) - stray):
            raise layout_refusal(self._name(), (g.S, g.A, g.W), (t, a),
                                 f"{len(heads)} sector headers (empty ATEs) stand",
                                 f" ({stray} of them not at the end of a sector of ours)")

    def _check_write_block(self, image: bytes, heads: list[int]) -> None:
        """External values are written at multiples of the write block: when the valid data
        ATEs of the sectors with a header say a smaller one (offsets that are not multiples
        of ours), the store was written with it (thresholds of NVS, docs/zephyr-nvs.md §10)."""
        g = self.geo
        if g.W <= 1:
            return
        S, A = g.S, g.A
        n = (S - 3 * A) // A + 1
        offsets: list[int] = []
        bad = 0
        for h in heads:
            if (h + A) % S:
                continue
            base = h + A - S
            cycle = image[h + 1]
            crcs = crc8_slots(image, base, n, A)
            for j in range(n):
                off = base + j * A
                if image[off + 1] != cycle or crcs[j] != image[off]:
                    continue
                a = g.parse(image[off:off + ATE_SIZE])
                if a.len > g.I and a.id != g.head and a.offset + a.len <= S - 3 * A:
                    offsets.append(a.offset)
                    bad += a.offset % g.W != 0
        refusal = write_block_refusal(self._name(), g.W, bad, len(offsets), offsets)
        if refusal is not None:
            raise refusal

    def _check_version(self, e: Ate, s: int) -> None:
        if (e.word2 >> 8) & 0xFF == 0x42 and e.word2 & 0xFF != 1:
            raise error_for(_errno.EPROTONOSUPPORT, f"{self._name()}: sector {s}: ZMS version "
                                                    f"{e.word2 & 0xFF} is not supported")

    def _find_write_sector(self) -> int:
        """Mount step 1; sets ``sector_cycle``; returns the write sector."""
        g = self.geo
        own = 1 if g.wide else 0
        closed_count, magic, w = 0, False, None
        last = g.N - 1
        for i in range(g.N):
            last = i
            e = self._ate_at(i * g.S + g.S - g.A)
            self.sector_cycle = e.cycle
            if g.meta_format(e) != own:
                continue
            if self.closed(i)[0]:
                closed_count += 1
                if (e.word2 >> 8) & 0xFF == 0x42:
                    magic = True
                    self._check_version(e, i)
                nxt = (i + 1) % g.N
                last = nxt
                self.sector_cycle = self._ate_at(nxt * g.S + g.S - g.A).cycle
                if not self.closed(nxt)[0]:
                    w = nxt
                    break
        if closed_count == g.N and not magic:
            raise error_for(_errno.ENOTSUP, f"{self._name()}: every sector is closed and none "
                                            "carries the ZMS magic: not a ZMS area")
        if w is None:
            w = last
            first = self._ate_at(w * g.S + g.S - 3 * g.A)
            if not g.valid(first, self.sector_cycle) and not self._started_afresh(w, own):
                w = (w + 1) % g.N
            e = self._ate_at(w * g.S + g.S - g.A)
            if g.meta_format(e) == own and g.empty_valid(e):
                self._check_version(e, w)
            else:
                self.mount_notes.append(f"sector {w} not a ZMS sector: started afresh")
                self._erase_sector(w)
                self._add_empty(w)
        elif not g.empty_valid(self._ate_at(w * g.S + g.S - g.A)):
            # [fs] F2: a switch cut before the new write sector got its empty ATE
            self.mount_notes.append(f"write sector {w} without its empty ATE: prepared (F2)")
            self._erase_sector(w)
            self._add_empty(w)
        self.sector_cycle = self.sector_cycle_of(w)
        return w

    def _started_afresh(self, last: int, own: int) -> bool:
        """[fs] F11: no sector is closed, ``last`` holds only a valid empty ATE and the sector
        after it is no ZMS sector. That is what starting ``last`` afresh leaves (a damaged
        image): the reference would now erase the next sector too, so every mount of such an
        image wrote again. ``last`` stays the write sector."""
        g = self.geo
        e = self._ate_at(last * g.S + g.S - g.A)
        nxt = self._ate_at(((last + 1) % g.N) * g.S + g.S - g.A)
        return (g.meta_format(e) == own and g.empty_valid(e)
                and not (g.meta_format(nxt) == own and g.empty_valid(nxt)))

    def _init(self) -> None:
        g = self.geo
        S, A = g.S, g.A
        w = self._find_write_sector()
        base = w * S
        self.ate_wra, self.data_wra = self.scan_last(w, self.sector_cycle)
        # step 3: the first free slot at or below the last ATE
        while self.ate_wra >= self.data_wra:
            raw = self._read(self.ate_wra, ATE_SIZE)
            a = g.parse(raw)
            if g.X:
                if raw == g.erased_ate:
                    break
            elif not g.valid(a, self.sector_cycle):
                break
            if self.ate_wra == self.data_wra and a.len and g.valid(a, self.sector_cycle):
                raise error_for(_errno.ESPIPE, f"{self._name()}: ATE at {self.ate_wra:#x} "
                                               f"(id {a.id:#x}) has data reaching its own slot")
            self.ate_wra -= A
            if self.ate_wra < base:
                break
        if g.X:
            self._skip_orphan_data()
        nxt = (w + 1) % g.N
        if self.closed(nxt)[0]:
            self._finish_switch(w, nxt)
        if self.ate_wra % S == S - 3 * A:
            self.mount_notes.append(f"empty write sector {w}: gc_done ATE written")
            self._write_ate(g.marker(self.data_wra % S, self.sector_cycle).pack())

    def _skip_orphan_data(self) -> None:
        """[fs] F1: data written without its ATE is stepped over, write block by write block."""
        g = self.geo
        start = self.data_wra
        while self.ate_wra > self.data_wra:
            gap = self._read(self.data_wra, self.ate_wra - self.data_wra)
            if gap.count(g.E) == len(gap):
                break
            self.data_wra += g.W
        if self.data_wra != start:
            self.mount_notes.append(f"orphan data at {start:#x}..{self.data_wra:#x} skipped (F1)")

    def _finish_switch(self, w: int, nxt: int) -> None:
        """Mount step 7: a sector switch was cut; finish it or start the GC over.

        **[fs] F8**: only a gc_done ATE of the write sector's cycle counts, and the write
        sector's cycle stays in force.
        """
        g = self.geo
        pos = self.ate_wra + g.A
        end = w * g.S + g.S - 2 * g.A
        while pos < end:
            a = self._ate_at(pos)
            if g.gc_done_valid(a) and a.cycle == self.sector_cycle:
                self.mount_notes.append(f"interrupted switch with gc_done: sector {nxt} reset")
                self._erase_sector(nxt)
                self._add_empty(nxt)
                return
            pos += g.A
        self.mount_notes.append(f"interrupted switch without gc_done: sector {w} reset, "
                                f"sector {nxt} collected again")
        self._erase_sector(w)
        self._add_empty(w)
        self.ate_wra = w * g.S + g.S - 3 * g.A
        self.data_wra = w * g.S
        self._set_index(self.walk_index())
        self._gc()

    # ------------------------------------------------------------------ close + GC (§10)
    def _close_sector(self) -> None:
        """``zms_sector_close``: garbage ATEs into the free slots, the close ATE (its result
        ignored, as the reference), then move to the next sector."""
        g = self.geo
        s = self.ate_wra // g.S
        close = g.marker((self.ate_wra + g.A) % g.S, self.sector_cycle).pack()
        garbage = g.erased_ate
        while self.ate_wra % g.S and self.ate_wra >= self.data_wra:
            self._write_ate(garbage)
        self.ate_wra = s * g.S + g.S - 2 * g.A
        was_failed = self.failed
        try:
            self._write_ate(close)
        except FlashError:
            self.failed = was_failed
        nxt = (s + 1) % g.N
        self.ate_wra = nxt * g.S + g.S - 3 * g.A
        self.data_wra = nxt * g.S
        self.sector_cycle = self.sector_cycle_of(nxt)

    def _gc(self) -> None:
        """``zms_gc``: copy the newest live entries of the oldest sector, write gc_done,
        reset that sector."""
        g = self.geo
        w = self.ate_wra // g.S
        if not g.empty_valid(self._ate_at(w * g.S + g.S - g.A)):
            self._reset_sector(w)
        cw = self.sector_cycle = self.sector_cycle_of(w)
        v = (w + 1) % g.N
        closed, pos = self.closed(v)
        if closed:
            vbase = v * g.S
            cv = self.sector_cycle_of(v)
            stop = vbase + g.S - 3 * g.A
            blob = self._read(vbase, g.S)
            while True:
                prev = pos
                raw, pos = self.step(pos, lambda o, n: (blob[o - vbase:o - vbase + n]
                                                        if vbase <= o < vbase + g.S
                                                        else self._read(o, n)))
                if raw is not None:
                    a = g.parse(raw)
                    if (a.len and a.id != g.head and g.valid(a, cv)
                            and self.index.newest_addr(a.id) == prev):
                        self._copy(vbase, a, cw)
                if prev == stop or not vbase <= prev < stop:
                    break
        self.sector_cycle = cw
        self._write_ate(g.marker(self.data_wra % g.S, cw).pack())
        self._reset_sector(v)

    def _copy(self, vbase: int, a: Ate, cycle: int) -> None:
        g = self.geo
        tail = a.tail
        if a.len > g.I:
            off = self.data_wra % g.S
            src, left = vbase + a.offset, a.len
            while left:
                n = min(g.chunk, left)
                self._write_data(self._read(src, n))
                src += n
                left -= n
            tail = off.to_bytes(4, "little") + tail[4:]
        self._write_entry_ate(a._replace(cycle=cycle, tail=tail).sealed())

    # ------------------------------------------------------------------ write / delete (§9)
    def write(self, id: int, value: bytes) -> int:
        """``zms_write``: store ``value`` under ``id``; returns ``len(value)``, or 0 for a
        delete or (``no_double_write``) an unchanged value. An empty value deletes.

        Raises EACCES, EINVAL (id HEAD or out of range, value longer than ``min(S - 5A,
        65535)``), ENOSPC (after collecting every sector once: the image changed), ENXIO,
        EIO, device errors.
        """
        return self._mutate("write", self._write, id, bytes(value))

    def delete(self, id: int) -> int:
        """``zms_delete``: write a delete entry; returns 0."""
        return self._mutate("delete", self._write, id, b"")

    def _write(self, id: int, value: bytes) -> int:
        g = self.geo
        n = len(value)
        if not 0 <= id < g.head:
            raise InvalidArgument(f"{self._name()}: write of id {id:#x}: ids are 0..{g.head - 1:#x} "
                                  f"({g.head:#x} is the header id, F6)")
        if n > g.maxlen:
            raise InvalidArgument(f"{self._name()}: write of id {id:#x}: {n} bytes exceed the "
                                  f"largest value of {g.maxlen} bytes")
        if self.config.no_double_write and self._unchanged(id, value):
            return 0
        required = 0 if n == 0 else (g.al(n) + g.A if n > g.I else g.A)
        for _ in range(g.N):
            o = self.ate_wra % g.S
            if o and self.ate_wra >= self.data_wra + required and (o != g.A or n == 0):
                a = g.entry(id, value, self.sector_cycle, self.data_wra % g.S)
                if n > g.I:
                    self._write_data(value)
                self._write_entry_ate(a)
                return n
            self._close_sector()
            self._gc()
        raise NoSpace(f"{self._name()}: no room for id {id:#x} ({n} bytes) after collecting "
                      f"all {g.N} sectors")

    def _unchanged(self, id: int, value: bytes) -> bool:
        """CONFIG_ZMS_NO_DOUBLE_WRITE: the newest entry already says the same."""
        g = self.geo
        newest = self.index.newest(id)
        if newest is None:
            return not value
        addr, e = newest
        if not value:
            return e.len == 0
        if len(value) != e.len:
            return False
        if e.len <= g.I:
            return e.tail[:e.len] == value  # type: ignore[attr-defined]
        return self._read(self._base(addr) + e.offset, e.len) == value

    # ------------------------------------------------------------------ reads (§11)
    def read(self, id: int) -> bytes:
        """The current value of ``id``. ENOENT missing/deleted, EIO data-CRC mismatch."""
        return self.read_entry(id, 0)[1]

    def read_hist(self, id: int, cnt: int = 0) -> bytes:
        """History ``cnt`` of ``id`` (0 = current; deletes count). Errors as :meth:`read`."""
        return self.read_entry(id, cnt)[1]

    def get_data_length(self, id: int) -> int:
        """``zms_get_data_length``: the stored length of ``id`` in bytes (ENOENT)."""
        return self.read_entry(id, 0, 0)[0]

    def read_entry(self, id: int, cnt: int = 0, buf_len: int | None = None) -> tuple[int, bytes]:
        """``zms_read_hist`` semantics: ``(stored length, first min(buf_len, length) bytes)``.

        ``buf_len`` None reads the whole value. With data CRC, an external value is checked
        only when ``buf_len`` covers it (EIO on mismatch). ENOENT: no such entry, a delete,
        history too short, or the header id (F6).
        """
        self._check_ready("read")
        g = self.geo
        hist = self.index.history(id) if id != g.head else []
        k = self._history_slot(len(hist), cnt, lambda j: hist[len(hist) - 1 - j][0])
        if k is None:
            raise NotFound(f"{self._name()}: id {id:#x} history {cnt}: no such entry")
        addr, a = hist[len(hist) - 1 - k]
        n = a.len
        if n == 0:
            raise NotFound(f"{self._name()}: id {id:#x} history {cnt}: deleted")
        want = n if buf_len is None else min(buf_len, n)
        if n <= g.I:
            return n, bytes(a.tail[:want])  # type: ignore[attr-defined]
        start = self._base(addr) + a.offset
        data = self._read(start, want) if want else b""
        if g.data_crc and want == n and data_crc32(data) != a.word2:  # type: ignore[attr-defined]
            raise DeviceIOError(f"{self._name()}: id {id:#x} data at {start:#x} len {n}: "
                                "data CRC mismatch")
        return n, data

    def _history_slot(self, n: int, cnt: int, pos_of: Callable[[int], int]) -> int | None:
        """Which of ``n`` entries (0 = newest) history ``cnt`` names, or None (ENOENT).

        ZMS-23: each history step searches on from the slot after the last match; when that
        match was the last slot of the walk, the search wraps to ``ate_wra`` and walks the
        whole ring again, so history counts past the oldest entry start over at the newest
        (vector c01).
        """
        if cnt < 0 or n == 0:
            return None
        k = 0
        for _ in range(cnt):
            if self.step(pos_of(k))[1] == self.ate_wra:
                k = 0
            else:
                k += 1
                if k >= n:
                    return None
        return k

    def _holds_value(self, id: int, length: int) -> bool:
        """Live: a value, not a delete (data-CRC failures included)."""
        return bool(length)

    # ------------------------------------------------------------------ space, sectors (§12)
    def free_space(self) -> int:
        """``zms_calc_free_space`` with [fs] F5: bytes new data could still use."""
        self._check_ready("free_space")
        g = self.geo
        free = (g.N - 1) * (g.S - 4 * g.A)
        for id_ in self.index.ids():
            newest = self.index.newest(id_)
            if newest is None or not newest[1].len:
                continue
            n = newest[1].len
            free -= (g.al(n) if n > g.I else 0) + g.A
        for s in range(g.N):
            closed, last = self.closed(s)
            if closed:
                if last % g.S <= 2 * g.A:
                    free -= g.A
            else:
                raw_cycle = self._ate_at(s * g.S + g.S - g.A).cycle
                if self.scan_last(s, raw_cycle)[0] % g.S <= 2 * g.A:
                    free -= g.A
        return free

    def raw_active_sector_free_space(self) -> int:
        """``ate_wra - data_wra - A`` as the reference computes it (may be negative)."""
        self._check_ready("active_sector_free_space")
        return self.ate_wra - self.data_wra - self.geo.A

    def active_sector_free_space(self) -> int:
        """Bytes left in the write sector before a sector switch (ZMS-25, clamped at 0)."""
        return max(0, self.raw_active_sector_free_space())

    def use_next_sector(self) -> None:
        """``zms_sector_use_next``: close the write sector and collect the next one."""
        def run() -> None:
            self._close_sector()
            self._gc()
        self._mutate("use_next_sector", run)

    def clear(self) -> None:
        """``zms_clear``: reset every sector (erase on NOR, a new empty ATE everywhere); the
        store is unmounted afterwards, also after an error ([fs], returned as raised)."""
        def run() -> None:
            for s in range(self.geo.N):
                self._erase_sector(s)
                self._add_empty(s)
        try:
            self._mutate("clear", run)
        finally:
            if self.mounted:
                self.unmount()

    # ------------------------------------------------------------------ analysis
    def index_matches_walk(self) -> bool:
        """True when the RAM index equals a fresh walk (ZMS-29; used by the tests)."""
        fresh = self.walk_index()
        return {i: fresh.history(i) for i in fresh.ids()} == \
            {i: self.index.history(i) for i in self.index.ids()}

    def stats(self) -> dict:
        """Per-sector and store figures (see :func:`flashstack.zms.scan.store_stats`)."""
        self._check_ready("stats")
        from .scan import store_stats
        return store_stats(self)

    def scan(self):
        """Read-only analysis of the area (ZMS-41); the store need not be mounted."""
        from .scan import scan
        c = self.config
        return scan(self.area, sector_size=c.sector_size, sector_count=c.sector_count,
                    data_crc=c.data_crc, id_64bit=c.id_64bit)

    def __repr__(self) -> str:
        state = "mounted" if self.mounted else "unmounted"
        return f"ZMSStore({self.area!r}, {state})"
