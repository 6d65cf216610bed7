"""``NVSStore``: Zephyr NVS on a flash area, byte-compatible with Zephyr's nvs.c.

Upstream: zephyr subsys/fs/nvs/nvs.c @0021ff0f (nvs_mount / nvs_startup, nvs_write,
nvs_read_hist, nvs_gc, nvs_sector_close, nvs_calc_free_space, nvs_sector_max_data_size,
nvs_sector_use_next, nvs_clear), with the defect fixes of docs/zephyr-nvs.md §15.

Positions (``ate_wra``, ``data_wra``, slot addresses) are partition-relative byte offsets
``sector * S + offset``; :mod:`flashstack.nvs.capi` shows them packed as the reference does.
The sequence of writes and erases equals the reference's (NVS-6); reads are served by a RAM
index (NVS-24) that answers as the reference's ATE walk.
"""

from __future__ import annotations

import errno as _errno
import struct

from ..errors import (AccessDenied, DeviceIOError, FlashError, InvalidArgument, NoSpace,
                      NotFound, PowerLoss, error_for)
from ..flash_map import FlashArea
from .format import (ATE_SIZE, DATA_CRC_SIZE, ID_MARKER, Ate, Geometry, NVSConfig, ate_crc8,
                     check_sector_boundaries, data_crc, first_page_size, sector_count)
from ._bulk import SlotFlags, close_count, fields, misaligned, slot_flags
from .walk import Index, Walker
from ._geometry_check import layout_refusal, write_block_refusal

__all__ = ["NVSStore"]

_ATE_PACK = struct.Struct("<HHHBB").pack   # id, offset, len, part, crc8 (spec §4.2)
_WHOLE_READ = 64 << 20   # mount reads a store up to this size in one read (bytes)
_new_ate = tuple.__new__                   # an Ate from a full 5-tuple, without NamedTuple's __new__


class NVSStore(Walker):
    """Zephyr NVS on ``area`` (a :class:`~flashstack.flash_map.FlashArea`).

    ``sector_size`` defaults to the erase page at the area start, ``sector_count`` to
    ``area.size // sector_size``; ``data_crc`` and ``init_bad_region`` as Zephyr's Kconfig.
    ``lookup_cache`` is accepted and ignored (NVS-3). Call :meth:`mount` first.

    Errors (``flashstack.errors``, errno as the reference): EACCES not mounted, EINVAL bad
    arguments or configuration, ENOENT missing id, ENOSPC store full, EIO data-CRC mismatch
    or a store failed by an earlier flash error (NVS-29), EDEADLK / ESPIPE / ENXIO from mount
    and erases. ``PowerLoss`` propagates untouched.
    """

    def __init__(self, area: FlashArea, sector_size: int | None = None, sector_count: int | None = None,
                 data_crc: bool = False, init_bad_region: bool = False, *,
                 lookup_cache: int | None = None):
        self.area = area
        self.config = NVSConfig(sector_size, sector_count, bool(data_crc), bool(init_bad_region))
        self._geo: Geometry | None = None
        self.mounted = False
        self.failed = False
        self.ate_wra = 0
        self.data_wra = 0
        self.index = Index()
        self.index_current = False         # index == the walk from ate_wra (else rebuilt)
        self.mount_slots = (b"", slot_flags(b"", 0))   # ATEs the last index build checked
        self.mount_notes: list[str] = []   # why the last mount wrote or erased (for scan())
        self.orphan_data: list[tuple[int, int]] = []  # data without ATE skipped by the last mount
        self.generation = 0                # bumped by every ATE write, mount and unmount
        self._mutating = False

    @property
    def geo(self) -> Geometry:
        """The geometry resolved by :meth:`mount` (NVS-1); never None once set. Before the first
        mount: AccessDenied (EACCES), as every call on an unmounted store."""
        if self._geo is None:
            raise AccessDenied(f"{self._name()}: not mounted (no geometry yet)")
        return self._geo

    @geo.setter
    def geo(self, geo: Geometry) -> None:
        self._geo = geo

    # ------------------------------------------------------------------ helpers
    def _name(self) -> str:
        return f"NVS on partition {getattr(self.area, 'name', '?')}"

    def _all_erased(self, off: int, n: int) -> bool:
        return self._read(off, n) == bytes([self.geo.E]) * n

    def _check_ready(self, what: str) -> None:
        if self.failed:
            raise DeviceIOError(f"{self._name()}: {what}: store failed after a flash error; mount again")
        if not self.mounted:
            raise AccessDenied(f"{self._name()}: {what}: not mounted")

    def _sector_base(self, pos: int) -> int:
        return pos - pos % self.geo.S

    # ------------------------------------------------------------------ configuration
    def _resolve_geometry(self) -> Geometry:
        """NVS-1 checks in the reference's order, then the [fs] ones; EINVAL on violation."""
        area, cfg = self.area, self.config
        w = area.align
        bad = lambda why: InvalidArgument(f"{self._name()}: {why}")  # noqa: E731
        if w == 0 or w > 32:
            raise bad(f"write block size {w} not in 1..32")
        page = first_page_size(area, bad)
        s = page if cfg.sector_size is None else int(cfg.sector_size)
        if s <= 0 or s % page:
            raise bad(f"sector size {s} is not a multiple of the {page}-byte erase page")
        n = sector_count(area, s, cfg.sector_count, bad)
        if w & (w - 1):
            raise bad(f"write block size {w} is not a power of two")
        if s > 0xFFFF or n > 0xFFFF:
            raise bad(f"sector size {s} / count {n} exceed 65535")
        if s * n > area.size:
            raise bad(f"{n} sectors of {s} bytes exceed the partition size {area.size}")
        check_sector_boundaries(area, s, n, bad)
        return Geometry(s, n, w, area.erased_val, DATA_CRC_SIZE if cfg.data_crc else 0)

    def _check_write_block(self) -> None:
        """[fs] EINVAL before any write when the data ATEs say the store was written with a
        smaller write block: NVS writes data at write-block-aligned offsets, so most data ATEs
        of such a store have offsets that are not multiples of ours (a lone CRC-valid slot in
        damaged bytes does not count: at least two, and a quarter of the data ATEs). Checked
        in bulk on the ATEs the index was just built from (``mount_slots``)."""
        geo = self.geo
        slab, f = self.mount_slots
        self.mount_slots = (b"", slot_flags(b"", geo.L))
        if geo.W <= 1:
            return
        data = SlotFlags.count(f.data, f.n)
        bad = SlotFlags.count(f.data & misaligned(slab, geo.W), f.n)
        refusal = write_block_refusal(self._name(), geo.W, bad, data,
                                      (o for o, d in zip(fields(slab)[1], f.as_bytes(f.data)) if d))
        if refusal is not None:
            raise refusal

    def _check_layout(self, image: bytes) -> None:
        """[fs] EINVAL before any write when the bytes say the store was written with another
        sector size or ATE slot size (``image``: the area's first ``N * S`` bytes). Close ATEs
        are counted in bulk (:mod:`flashstack.nvs._bulk`) in the close slot of every sector,
        for each sector size ``S * 2**k`` (k in -3..3, whole erase pages) and ATE slots of 8,
        16 and 32 bytes; another geometry whose close ATEs outnumber ours by two or more (and
        are at least two) is the one the store was written with."""
        geo = self.geo
        if len(image) % 8 or geo.S % geo.A:
            return
        page = self.area.device.layout.by_offset(self.area.offset).size
        ours = close_count(image, geo.S, geo.A)
        best = None
        for k in range(-3, 4):
            t = geo.S << k if k >= 0 else geo.S >> -k
            if t < page or t % page or t > 0xFFFF or len(image) // t < 2 or t % 32:
                continue
            for a in (8, 16, 32):
                if (t, a) == (geo.S, geo.A):
                    continue
                c = close_count(image, t, a)
                if c >= 2 and c >= ours + 2 and (best is None or c > best[0]):
                    best = (c, t, a)
        if best is None:
            return
        c, t, a = best
        raise layout_refusal(self._name(), (geo.S, geo.A, geo.W), (t, a),
                             f"{c} sectors hold close ATEs", f" (against {ours} for ours)")

    # ------------------------------------------------------------------ flash primitives (§6)
    def _program(self, pos: int, b: bytes) -> None:
        """Aligned prefix in one write, then one padded write block for the rest."""
        if not b:
            return
        w = self.geo.W
        k = len(b) - len(b) % w
        write = self.area.write
        try:                      # as _dev, inline: this is every write's path
            if k == len(b):
                write(pos, b)
                return
            if k:
                write(pos, b[:k])
            rest = b[k:]
            write(pos + k, rest + bytes([self.geo.E]) * (w - len(rest)))
        except (FlashError, PowerLoss):
            if self._mutating:
                self.failed = True
            raise

    def _write_data(self, b: bytes, with_crc: bool) -> None:
        geo = self.geo
        if not (with_crc and geo.C and b):
            self._program(self.data_wra, b)
            self.data_wra += geo.al(len(b))
            return
        k = len(b) - len(b) % geo.W
        self._program(self.data_wra, b[:k])
        self.data_wra += k
        tail = b[k:] + data_crc(b)
        self._program(self.data_wra, tail)
        self.data_wra += geo.al(len(tail))

    def _append(self, id: int, value: bytes) -> None:
        """The data of ``value`` then its ATE, in the write sector (the caller checked room).

        Whole write blocks without data CRC (the common case) take one program each with no
        intermediate calls; anything else goes through :meth:`_write_data` and :meth:`_write_ate`.
        Both paths program the same bytes in the same order.
        """
        geo = self.geo
        n = len(value)
        if geo.C or n % geo.W or geo.A != ATE_SIZE:
            ate = Ate(id, self.data_wra % geo.S, n + geo.C if n else 0)
            self._write_data(value, with_crc=True)
            self._write_ate(ate)
            return
        dwra = self.data_wra
        off = dwra % geo.S
        crc = ate_crc8(id, off, n, 0xFF)
        write = self.area.write
        try:
            if n:
                write(dwra, value)
            self.data_wra = dwra + n
            slot = self.ate_wra
            self.ate_wra = slot - ATE_SIZE
            self.generation += 1
            write(slot, _ATE_PACK(id, off, n, 0xFF, crc))
        except (FlashError, PowerLoss):
            if self._mutating:
                self.failed = True
            raise
        self.index.add(slot, _new_ate(Ate, (id, off, n, 0xFF, crc)))

    def _write_ate(self, ate: Ate) -> None:
        """Program ``ate`` at ``ate_wra`` and move ``ate_wra`` down one slot; index it."""
        slot = self.ate_wra
        self.ate_wra -= self.geo.A
        self.generation += 1
        sealed = Ate(ate.id, ate.offset, ate.len, ate.part,   # indexed as stored, CRC included
                     ate_crc8(ate.id, ate.offset, ate.len, ate.part))
        self._program(slot, sealed.pack())
        self.index.add(slot, sealed)

    def _erase_sector(self, s: int) -> None:
        """One flatten of the sector, then verify (ENXIO on a byte != erase value)."""
        S = self.geo.S
        self._dev(self.area.flatten, s * S, S)
        if not self._all_erased(s * S, S):
            raise error_for(_errno.ENXIO, f"{self._name()}: sector {s} at {s * S:#x} len {S:#x} "
                                          "not erased after erase")

    # ------------------------------------------------------------------ mount (§8)
    def mount(self) -> None:
        """Mount (``nvs_mount``): validate, recover, write a gc_done ATE on a fresh sector.

        Raises EINVAL, EDEADLK, ESPIPE, ENXIO or device errors; a failed mount leaves the
        store unmounted (NVS-11).
        """
        self.mounted = False
        self.failed = False
        self.generation += 1
        self.index = Index()
        self.index_current = False
        self.mount_notes = []
        self.orphan_data = []
        self.geo = self._resolve_geometry()
        geo = self.geo
        size = geo.N * geo.S
        image = self._read(0, size) if size <= _WHOLE_READ else None
        if image is not None:
            self._check_layout(image)
        self._mutating = True
        try:
            s = self._locate()
            self.rebuild_index(image)        # read-only: the ring as found, for the check
            self._check_write_block()
            self.index_current = False       # a recovery GC rebuilds it after its erase
            self._recover(s)
            if self.mount_notes:             # the recovery wrote: index what it left
                self.rebuild_index()
            self.index_current = True
        finally:
            self._mutating = False
        self.mounted = True

    def unmount(self) -> None:
        """Forget the RAM state; nothing is written."""
        self.generation += 1
        self.mounted = False
        self.failed = False
        self.index = Index()
        self.index_current = False

    def _find_write_sector(self) -> int:
        geo = self.geo
        S, N, L, F = geo.S, geo.N, geo.L, geo.F
        closed = 0
        for i in range(N):
            if not self._all_erased(i * S + L, 8):
                closed += 1
                nxt = (i + 1) % N
                if self._all_erased(nxt * S + L, 8):
                    return nxt
        if closed == N:
            if not self.config.init_bad_region:
                raise error_for(_errno.EDEADLK, f"{self._name()}: all {N} sectors are closed "
                                                "(not an NVS area, or damaged)")
            self.mount_notes.append("all sectors closed: whole area erased (init_bad_region)")
            self._dev(self.area.flatten, 0, N * S)
        return 0 if self._all_erased((N - 1) * S + F, 8) else N - 1

    def _startup(self) -> None:
        """Steps 1 to 6 of ``nvs_startup`` (§8)."""
        self._recover(self._locate())

    def _locate(self) -> int:
        """Steps 1 to 3: the write sector, ``ate_wra`` and ``data_wra``; reads only (but for
        init_bad_region's erase of an area whose sectors are all closed)."""
        geo = self.geo
        S, N, A, F = geo.S, geo.N, geo.A, geo.F
        s = self._find_write_sector()
        base = s * S
        nxt = (s + 1) % N
        if self._all_erased(base + F, 8) and not self._all_erased(nxt * S, S):
            # [fs] (N1) an interrupted GC whose first copy lost its ATE: slot F is erased, so
            # the sector holds no ATE, only copied data, which the reference's recover_last
            # scans as ATE slots (a CRC-valid window there, easy on 0x00-erased flash, sends
            # step 3 below the sector start: EINVAL on every mount in sector 0). Step 4 erases
            # this sector and collects the next one again either way.
            self.ate_wra = base + F
        else:
            self.ate_wra = self.recover_last(s)
        self.data_wra = base
        # step 3: find the first erased slot, tracking where the data ends
        while True:
            if self.ate_wra < base:
                if s == 0:  # the packed pointer wraps to 0xFFFFFFF8: the reference reads there
                    raise InvalidArgument(f"{self._name()}: every ATE slot of sector 0 is "
                                          "written; recovery would read outside the partition")
                break       # packed: offset 0xFFF8 of sector s-1, below data_wra
            if self.ate_wra < self.data_wra:
                break
            raw = self._read(self.ate_wra, 8)
            if raw == geo.erased_ate:
                break
            a = Ate.unpack(raw)
            if geo.valid(a):
                self.data_wra = base + geo.al(a.offset + a.len)
                if self.ate_wra == self.data_wra and a.len:
                    raise error_for(_errno.ESPIPE, f"{self._name()}: ATE at {self.ate_wra:#x} "
                                                   f"(id {a.id:#x}) has data reaching its own slot")
            self.ate_wra -= A
        return s

    def _recover(self, s: int) -> None:
        """Steps 4 to 6: finish an interrupted GC, skip orphan data, start an empty sector;
        every write or erase adds a line to ``mount_notes``."""
        geo = self.geo
        S, N, F = geo.S, geo.N, geo.F
        base = s * S
        nxt = (s + 1) % N
        # step 4: an interrupted garbage collection leaves the next sector dirty
        if not self._all_erased(nxt * S, S):
            if self._gc_done_above(s):
                self.mount_notes.append(f"interrupted GC with gc_done: erase sector {nxt}")
                self._erase_sector(nxt)
                # [fs] N3 (rule 4): the reference skips step 5 here: non-erased bytes in the free
                # area (damage) would be programmed over and the records written there lost
                self._skip_orphan_data()
            else:
                self.mount_notes.append(f"interrupted GC without gc_done: erase sector {s}, "
                                        f"collect sector {nxt} again")
                self._recovery_fits(s)
                self._erase_sector(s)
                self.ate_wra, self.data_wra = base + F, base
                self._gc()
        else:
            self._skip_orphan_data()
            # step 6 compares the packed address with S: it only fires in sector 0 (NVS-10)
            if s == 0 and self.ate_wra == F and self.data_wra != base:
                self.mount_notes.append("sector 0 holds only orphan data: erased")
                self._erase_sector(s)
                self.data_wra = base
        if self.ate_wra % S == F:
            self.mount_notes.append(f"empty write sector {s}: gc_done ATE written")
            self._write_ate(Ate(ID_MARKER, self.data_wra % S, 0))

    def _gc_done_above(self, s: int) -> bool:
        geo = self.geo
        end = s * geo.S + geo.L
        pos = self.ate_wra + geo.A
        while pos < end:
            if geo.is_gc_done(Ate.unpack(self._read(pos, 8))):
                return True
            pos += geo.A
        return False

    def _skip_orphan_data(self) -> None:
        """Step 5: data written without its ATE; leaving at ``ate_wra`` is success (§15 item 3)."""
        gap = self.ate_wra - self.data_wra
        if gap <= 0:
            return
        blob = self._read(self.data_wra, gap)
        e = self.geo.E
        last = len(blob) - 1
        while last >= 0 and blob[last] == e:
            last -= 1
        if last < 0:
            return
        w = self.geo.W
        needed = last // w + 1
        start = self.data_wra
        self.data_wra += min(needed, -(-gap // w)) * w
        self.orphan_data.append((start, self.data_wra))
        self.mount_notes.append(f"orphan data (written without its ATE) at {start:#x}.."
                                f"{self.data_wra:#x} skipped")

    # ------------------------------------------------------------------ close + GC (§10)
    def _close_sector(self) -> None:
        """Write the close ATE (result ignored, as the reference) and move to the next sector.

        The walk from the new ``ate_wra`` then visits what the index holds, unless the close
        ATE did not land or is not usable, or the first slot visited before or after the move
        is not erased: then the index is marked for a rebuild by the next GC (NVS-25).
        """
        geo = self.geo
        s = self.ate_wra // geo.S
        close = Ate(ID_MARKER, (self.ate_wra + geo.A) % geo.S, 0)
        was_failed = self.failed
        current = geo.close_valid(close) and self._all_erased(self.ate_wra, 8)
        try:
            self._program(s * geo.S + geo.L, close.pack())
        except FlashError:  # the reference ignores this write's result
            self.failed = was_failed
            current = False
        nxt = (s + 1) % geo.N
        self.ate_wra = nxt * geo.S + geo.F
        self.data_wra = nxt * geo.S
        if not (current and self._all_erased(self.ate_wra, 8)):
            self.index_current = False

    def _gc(self) -> None:
        """Copy the live entries of the oldest sector, write gc_done, erase the sector.

        [fs] The copies are planned first; NoSpace (ENOSPC) before anything is written when
        they do not fit the write sector (a damaged image, or one read with another geometry:
        the reference would program ATEs over the copied data and then erase the victim).
        """
        geo = self.geo
        if not self.index_current:     # after mount's erase, or a close that did not land
            self.rebuild_index()
        victim = (self.ate_wra // geo.S + 1) % geo.N
        vbase = victim * geo.S
        copies, victim_ids = self._gc_plan(victim)
        self._check_gc_fits(victim, copies)
        for src, a in copies:
            copy = Ate(a.id, self.data_wra % geo.S, a.len)
            self._move(src, a.len)
            self._write_ate(copy)
        if self.ate_wra >= self.data_wra + geo.A:
            self._write_ate(Ate(ID_MARKER, self.data_wra % geo.S, 0))
        self._erase_sector(victim)
        # The walk now ends before the erased victim: only its entries leave the index.
        self.index.drop_oldest(vbase, vbase + geo.S, victim_ids)

    def _gc_plan(self, victim: int) -> tuple[list[tuple[int, Ate]], set[int]]:
        """Read-only: ``([(data address, Ate)] to copy, ids with entries in the victim)``."""
        geo = self.geo
        vbase = victim * geo.S
        copies: list[tuple[int, Ate]] = []
        victim_ids: set[int] = set()
        close_raw = self._read(vbase + geo.L, 8)
        if close_raw == geo.erased_ate:
            return copies, victim_ids
        close = Ate.unpack(close_raw)
        stop = vbase + geo.F
        pos = vbase + close.offset if geo.close_valid(close) else self.recover_last(victim)
        read = self.sector_reader(victim)   # one flash read of the victim's ATEs
        while True:
            prev = pos
            raw, pos = self.step(pos, read)
            a = Ate.unpack(raw)
            if geo.valid(a):
                victim_ids.add(a.id)
                if a.len and self.index.newest_addr(a.id) == prev:
                    copies.append((vbase + a.offset, a))
            if prev == stop:
                break
        return copies, victim_ids

    def _check_gc_fits(self, victim: int, copies: list[tuple[int, Ate]]) -> None:
        """NoSpace unless every copy (data up from ``data_wra``, ATEs down from ``ate_wra``)
        fits without an ATE slot overlapping copied data."""
        if not copies:
            return
        geo = self.geo
        data_end = self.data_wra + sum(geo.al(a.len) for _, a in copies)
        last_slot = self.ate_wra - (len(copies) - 1) * geo.A
        if last_slot < data_end or last_slot < self._sector_base(self.ate_wra):
            raise NoSpace(f"{self._name()}: garbage collection of sector {victim} needs "
                          f"{data_end - self.data_wra} data bytes and {len(copies)} ATEs; sector "
                          f"{self.ate_wra // geo.S} has room for less (damaged store, or opened "
                          "with another geometry); nothing written")

    def _check_next_gc_fits(self) -> None:
        """Before a sector close: NoSpace if the GC that follows it could not fit (see
        :meth:`_gc`), so a write that cannot succeed leaves the image as it was."""
        geo = self.geo
        if not self.index_current:
            self.rebuild_index()
        nxt = (self.ate_wra // geo.S + 1) % geo.N
        saved = self.ate_wra, self.data_wra
        self.ate_wra, self.data_wra = nxt * geo.S + geo.F, nxt * geo.S
        try:
            self._check_gc_fits((nxt + 1) % geo.N, self._gc_plan((nxt + 1) % geo.N)[0])
        finally:
            self.ate_wra, self.data_wra = saved

    def _recovery_fits(self, s: int) -> None:
        """Dry run of mount's "erase sector s, collect the next one again" on an in-memory
        copy, so a recovery that cannot fit fails (NoSpace) before sector ``s`` is erased."""
        from ._scan import _memory_copy
        trial = NVSStore(_memory_copy(self.area), self.config.sector_size,
                         self.config.sector_count, self.config.data_crc,
                         self.config.init_bad_region)
        trial.geo = self.geo
        trial._erase_sector(s)
        trial.ate_wra, trial.data_wra = s * self.geo.S + self.geo.F, s * self.geo.S
        trial._gc()

    def _move(self, src: int, n: int) -> None:
        while n:
            chunk = min(32, n)
            self._write_data(self._read(src, chunk), with_crc=False)
            src += chunk
            n -= chunk

    # ------------------------------------------------------------------ write / delete (§9)
    def write(self, id: int, value: bytes) -> int:
        """``nvs_write``: store ``value`` under ``id``; returns ``len(value)``, or 0 when nothing
        was written (unchanged value, delete of a missing/deleted id). An empty value deletes.

        Raises EACCES, EINVAL (id 0xFFFF or outside 0..0xFFFE, value longer than
        ``S - 4A - C``), ENOSPC, ENXIO, EIO, device errors.
        """
        if self.failed or not self.mounted:
            self._check_ready("write")
        self._mutating = True      # as _mutate, inline: the hot path of every store user
        try:
            return self._write(id, value if type(value) is bytes else bytes(value))
        finally:
            self._mutating = False

    def delete(self, id: int) -> int:
        """``nvs_delete``: write a delete ATE; 0 (also when the id is missing or deleted)."""
        return self._mutate("delete", self._write, id, b"")

    def _write(self, id: int, value: bytes) -> int:
        geo = self.geo
        n = len(value)
        if not 0 <= id < ID_MARKER:
            raise InvalidArgument(f"{self._name()}: write of id {id:#x}: ids are 0..0xfffe "
                                  "(0xffff is the close/gc_done marker)")
        if n > geo.maxlen:
            raise InvalidArgument(f"{self._name()}: write of id {id:#x}: {n} bytes exceed the "
                                  f"largest value of {geo.maxlen} bytes")
        newest = self.index.newest(id)
        C = geo.C
        if newest is not None:
            addr, e = newest
            if n == 0 and e.len == 0:
                return 0
            if n and n + C == e.len:
                try:
                    same = self.area.read(addr - addr % geo.S + e.offset, n) == value
                except (FlashError, PowerLoss):
                    self.failed = True       # as _dev while mutating
                    raise
                if same:
                    return 0
        elif n == 0:
            return 0
        W = geo.W
        required = (n + W - 1) // W * W + geo.A + C if n else 0
        S = geo.S
        for _ in range(geo.N):
            wra = self.ate_wra
            if wra >= self.data_wra + required and wra % S != 0:
                self._append(id, value)
                return n
            self._check_next_gc_fits()
            self._close_sector()
            self._gc()
        raise NoSpace(f"{self._name()}: no room for id {id:#x} ({n} bytes) after collecting "
                      f"all {geo.N} sectors")

    # ------------------------------------------------------------------ reads (§11)
    def read(self, id: int) -> bytes:
        """The current value of ``id`` (bytes). ENOENT missing/deleted, EIO data-CRC mismatch."""
        return self.read_hist(id, 0)

    def read_hist(self, id: int, cnt: int = 0) -> bytes:
        """History ``cnt`` of ``id`` (0 = current; delete entries count). Errors as :meth:`read`."""
        if self.failed or not self.mounted:
            self._check_ready("read")
        _, data = self.read_entry(id, cnt, self.geo.S - 2 * self.geo.A)
        return data

    def read_entry(self, id: int, cnt: int, buf_len: int) -> tuple[int, bytes]:
        """``nvs_read_hist`` semantics: ``(stored length, first min(buf_len, length) bytes)``.

        EINVAL when ``buf_len > S - 2A``; ENOENT, EIO as :meth:`read`.
        """
        if self.failed or not self.mounted:
            self._check_ready("read")
        geo = self.geo
        if buf_len > geo.S - 2 * geo.A or buf_len < 0:
            raise InvalidArgument(f"{self._name()}: read of id {id:#x}: buffer of {buf_len} bytes "
                                  f"exceeds {geo.S - 2 * geo.A}")
        found = self.index.entry(id, cnt) if id != ID_MARKER else None
        if found is None:
            raise NotFound(f"{self._name()}: id {id:#x} history {cnt}: no such entry")
        addr, a = found
        if a.len == 0 or a.len < geo.C:
            raise NotFound(f"{self._name()}: id {id:#x} history {cnt}: no such entry")
        vlen = a.len - geo.C
        start = self._sector_base(addr) + a.offset
        data = self._read(start, min(buf_len, vlen))
        if geo.C and buf_len >= vlen and self._read(start + vlen, geo.C) != data_crc(data):
            raise DeviceIOError(f"{self._name()}: id {id:#x} data at {start:#x} len {vlen}: "
                                "data CRC mismatch")
        return vlen, data

    def _holds_value(self, id: int, length: int) -> bool:
        """Live: not the gc_done marker id, a value (not a delete) with room for its CRC."""
        return id != ID_MARKER and bool(length) and length >= self.geo.C

    # ------------------------------------------------------------------ space, sectors (§12)
    def free_space(self) -> int:
        """``nvs_calc_free_space`` (NVS-20): bytes that new data could still use."""
        self._check_ready("free_space")
        geo = self.geo
        free = (geo.N - 1) * (geo.S - 2 * geo.A)
        first: dict[int, int] = {}
        for addr, raw in self.walk():
            a = Ate.unpack(raw)
            first.setdefault(a.id, addr)
            if geo.valid(a):
                if a.len == 0:
                    if a.id == ID_MARKER:
                        free -= geo.A
                elif first[a.id] == addr:
                    free -= geo.al(a.len) + geo.A
        return free

    def raw_sector_max_data_size(self) -> int:
        """``ate_wra - data_wra - A - C`` as the reference computes it (may be negative)."""
        self._check_ready("sector_max_data_size")
        return self.ate_wra - self.data_wra - self.geo.A - self.geo.C

    def sector_max_data_size(self) -> int:
        """Largest value that fits the write sector without a sector switch (clamped at 0)."""
        return max(0, self.raw_sector_max_data_size())

    def use_next_sector(self) -> None:
        """``nvs_sector_use_next``: close the write sector and garbage-collect the next one."""
        def run():
            self._close_sector()
            self._gc()
        self._mutate("use_next_sector", run)

    def clear(self) -> None:
        """``nvs_clear``: erase every sector in order; the store is unmounted afterwards."""
        def run():
            for s in range(self.geo.N):
                self._erase_sector(s)
        self._mutate("clear", run)
        self.unmount()

    # ------------------------------------------------------------------ analysis
    def stats(self) -> dict:
        """Per-sector and store figures of the mounted store (see :func:`flashstack.nvs._scan.store_stats`)."""
        self._check_ready("stats")
        from ._scan import store_stats
        return store_stats(self)

    def scan(self):
        """Read-only analysis of the area (NVS-35); the store need not be mounted."""
        from ._scan import scan
        return scan(self.area, sector_size=self.config.sector_size,
                    sector_count=self.config.sector_count, data_crc=self.config.data_crc,
                    init_bad_region=self.config.init_bad_region)

    def __repr__(self) -> str:
        state = "mounted" if self.mounted else "unmounted"
        return f"NVSStore({self.area!r}, {state})"
