"""The ATE walk of Zephyr NVS and the RAM index built from it (docs/zephyr-nvs.md §7, §13).

Upstream: zephyr subsys/fs/nvs/nvs.c ``nvs_prev_ate`` and ``nvs_recover_last_ate``. The
reference answers every lookup by walking ATEs from ``ate_wra``; flashstack walks once (at
mount) into an :class:`Index` and keeps it current on every ATE write and sector erase, so
lookups cost O(1) and answer exactly like the walk (NVS-24, NVS-25).
"""

from __future__ import annotations

import gc
import struct
from collections import deque
from typing import Iterable, Iterator, Mapping

from .format import ATE_SIZE, Ate, Geometry, crc_tables

__all__ = ["Index", "Walker"]


class Index:
    """``id -> deque[(slot address, Ate), ...]`` of valid ATEs, oldest first (newest = last).

    A deque: garbage collection drops the oldest entries of a history, appends add the newest.
    """

    __slots__ = ("_hist",)

    def __init__(self):
        self._hist: dict[int, deque[tuple[int, Ate]]] = {}

    @classmethod
    def from_histories(cls, hist: Mapping[int, Iterable[tuple[int, Ate]]]) -> "Index":
        """An index from ``{id: [(slot address, Ate), ...]}``, each list oldest first (a
        mount's one-pass build); the lists become the deques :meth:`drop` pops from."""
        idx = cls()
        idx._hist = {k: deque(v) for k, v in hist.items()}
        return idx

    def add(self, addr: int, ate: Ate) -> None:
        """Record a valid ATE that became the newest entry of its id (prepended to the walk)."""
        h = self._hist.get(ate.id)
        if h is None:
            self._hist[ate.id] = deque(((addr, ate),))
        else:
            h.append((addr, ate))

    def newest(self, id: int) -> tuple[int, Ate] | None:
        """``(slot address, Ate)`` of the newest valid ATE of ``id``, or None."""
        h = self._hist.get(id)
        return h[-1] if h else None

    def newest_addr(self, id: int) -> int | None:
        """Slot address of the newest valid ATE of ``id``, or None."""
        h = self._hist.get(id)
        return h[-1][0] if h else None

    def entry(self, id: int, cnt: int) -> tuple[int, Ate] | None:
        """History entry ``cnt`` of ``id`` (0 = newest), or None when it has fewer entries."""
        h = self._hist.get(id)
        if h is None or not 0 <= cnt < len(h):
            return None
        return h[-1 - cnt]

    def history(self, id: int) -> list[tuple[int, Ate]]:
        """Every valid ``(slot address, Ate)`` of ``id``, oldest first (empty if unknown)."""
        return list(self._hist.get(id, ()))

    def ids(self) -> list[int]:
        """Ids with at least one valid ATE, in the order they were first recorded."""
        return list(self._hist)

    def drop(self, lo: int, hi: int, ids) -> None:
        """Forget the entries of ``ids`` whose slot lies in ``[lo, hi)``, wherever they are
        in each history (O(history) per id)."""
        hist = self._hist
        for id_ in ids:
            h = hist.get(id_)
            if h is None:
                continue
            kept = [e for e in h if not lo <= e[0] < hi]
            if kept:
                hist[id_] = deque(kept)  # a deque, as drop_oldest pops from the front
            else:
                del hist[id_]

    def drop_oldest(self, lo: int, hi: int, ids) -> None:
        """:meth:`drop` for the oldest sector of the ring (the one garbage collection erases):
        the walk visits it last, so its entries lead each history and leave from the front
        of the deque in O(entries dropped), not O(history). ``tests/nvs/test_nvs_index.py``
        checks the result against the walk over many GC cycles."""
        hist = self._hist
        for id_ in ids:
            h = hist.get(id_)
            if h is None:
                continue
            while h and lo <= h[0][0] < hi:
                h.popleft()
            if not h:
                del hist[id_]


class Walker:
    """Mixin: the reference's walk over ``self.area`` with geometry ``self.geo``.

    Needs ``geo``, ``ate_wra``, ``_read(off, n)`` and ``index`` on the host object.
    """

    geo: Geometry
    ate_wra: int
    index: Index

    def _read(self, off: int, n: int) -> bytes:  # pragma: no cover - provided by the store
        raise NotImplementedError

    def recover_last(self, s: int) -> int:
        """``nvs_recover_last_ate`` for sector ``s``: address of its last valid ATE, else slot F.

        **[fs]** (N1) Once a written slot has been seen, the first erased slot below it ends
        the scan. NVS programs ATEs contiguously down from slot F, so below such a gap lie only
        free space and data written without its ATE; the reference reads that data as ATE slots
        and, on 0x00-erased flash, takes a value's tail followed by erased 0x00 bytes for a
        CRC-valid ATE (about 1 in 256 clean cuts between a data write and its ATE), then fails
        every later mount. Leading erased slots are still skipped (Zephyr's raw-image test
        ``test_nvs_gc_corrupt_close_ate``), so every image whose written slots are contiguous
        (every image the reference writes, power cuts included) recovers as in the reference.

        **[fs]** The slot that starts exactly where the data of the last valid ATE ends is
        examined too (the reference stops above it). Only an ATE can be there: a delete written
        when ``ate_wra`` had come down to ``data_wra`` (a full sector, then a delete). The
        reference misses it when the sector's close ATE is torn, so GC resurrects the deleted
        value (torture: ``--geometry 3072:1024:8 --workload fill --ops 60 --seed 0 --cut 853
        --tear prefix``). Slot 0 is still never examined.
        """
        geo = self.geo
        base = s * geo.S
        best = base + geo.F
        data_end = base
        pos = base + geo.F
        blob = self._read(base, geo.S)
        erased = geo.erased_ate
        written = False
        while pos > data_end or pos == data_end != base:
            raw = blob[pos - base:pos - base + 8]
            if raw == erased:
                if written:
                    break
            else:
                written = True
                a = Ate.unpack(raw)
                if geo.valid(a):
                    data_end = base + a.offset + a.len
                    best = pos
            pos -= geo.A
        return best

    def step(self, pos: int, read=None) -> tuple[bytes, int]:
        """``nvs_prev_ate``: the 8 bytes at ``pos`` and the next position of the walk.
        ``read(off, n)`` defaults to the store's flash read."""
        geo = self.geo
        read = read or self._read
        raw = read(pos, 8)
        nxt = pos + geo.A
        if nxt % geo.S != geo.L:
            return raw, nxt
        prev_sector = (nxt // geo.S - 1) % geo.N
        craw = read(prev_sector * geo.S + geo.L, 8)
        if craw == geo.erased_ate:
            return raw, self.ate_wra
        close = Ate.unpack(craw)
        if geo.close_valid(close):
            return raw, prev_sector * geo.S + close.offset
        return raw, self.recover_last(prev_sector)

    def sector_reader(self, only: int | None = None):
        """A ``read(off, n)`` for :meth:`step` that reads each sector from flash once (only
        sector ``only`` when given; other reads go to flash). For a walk over unchanged
        sectors: a garbage collection does not write the sector it collects."""
        geo = self.geo
        sectors: dict[int, bytes] = {}
        direct = self._read

        def read(off: int, n: int) -> bytes:
            s, o = divmod(off, geo.S)
            if only is not None and s != only:
                return direct(off, n)
            blob = sectors.get(s)
            if blob is None:
                blob = sectors[s] = direct(s * geo.S, geo.S)
            return blob[o:o + n]
        return read

    def walk(self) -> Iterator[tuple[int, bytes]]:
        """Every slot the reference visits from ``ate_wra``, in order: ``(address, 8 bytes)``.

        Each sector is read from flash once per walk. A guard stops after ``N + 1`` sector
        changes (the reference would loop forever on a ring without an open sector; mount
        never leaves one).
        """
        geo = self.geo
        read = self.sector_reader()
        start = pos = self.ate_wra
        jumps = 0
        while True:
            raw, nxt = self.step(pos, read)
            yield pos, raw
            if nxt == start:
                return
            if nxt // geo.S != pos // geo.S:
                jumps += 1
                if jumps > geo.N:
                    return
            pos = nxt

    def rebuild_index_walk(self) -> None:
        """One ATE-by-ATE walk over the ring into a fresh :class:`Index` (NVS-24)."""
        geo = self.geo
        found: list[tuple[int, Ate]] = []
        for addr, raw in self.walk():
            a = Ate.unpack(raw)
            if geo.valid(a):
                found.append((addr, a))
        idx = Index()
        for addr, a in reversed(found):
            idx.add(addr, a)
        self.index = idx
        self.index_current = True

    def rebuild_index(self) -> None:
        """:meth:`rebuild_index_walk` in one pass over each sector's ATE slots (NVS-24).

        The walk visits, per sector, a run of slots from a start up to slot F, then jumps to
        the previous sector; this follows the same jumps, unpacks each run in bulk
        (``struct.iter_unpack``) and checks CRCs by table, with Python's cyclic garbage
        collector paused while the index's objects are created. Runs that the walk would not
        take slot by slot from a regular position (write blocks above 8 bytes, a start outside
        the slot range) fall back to the walk.
        """
        geo = self.geo
        S, A, L, F, N = geo.S, geo.A, geo.L, geo.F, geo.N
        start = self.ate_wra
        if A != ATE_SIZE or start % S > F or (F - start % S) % A:
            self.rebuild_index_walk()
            return
        read = self.sector_reader()
        runs: list[tuple[int, int, int]] = []       # (sector base, first offset, last offset)
        pos, jumps = start, 0
        while True:
            base = pos - pos % S
            if pos < start <= base + F:              # back at the start: the walk ends
                runs.append((base, pos % S, start % S - A))
                break
            runs.append((base, pos % S, F))
            prev = (base // S - 1) % N
            craw = read(prev * S + L, 8)
            if craw == geo.erased_ate:
                break                                # the walk returns to ate_wra
            close = Ate.unpack(craw)
            nxt = prev * S + close.offset if geo.close_valid(close) else self.recover_last(prev)
            if nxt == start:
                break
            jumps += 1
            if jumps > N:
                break
            if nxt % S > F or (F - nxt % S) % A:
                self.rebuild_index_walk()
                return
            pos = nxt
        was = gc.isenabled()
        gc.disable()
        try:
            self.index = _index_of_runs(runs, read, L)
        finally:
            if was:
                gc.enable()
        self.index_current = True



_ATES = struct.Struct("<HHHBB")
_new = tuple.__new__


def _index_of_runs(runs: list[tuple[int, int, int]], read, L: int) -> Index:
    """The :class:`Index` of the valid ATEs in ``runs`` (walk order: each run ascending, runs
    from newest to oldest); built oldest first."""
    t_id, t_off, t_len, t_part, base_crc = crc_tables()
    hist: dict[int, deque] = {}
    for base, first, last in reversed(runs):
        if last < first:
            continue
        blob = read(base, last + ATE_SIZE)
        ates = list(_ATES.iter_unpack(memoryview(blob)[first:last + ATE_SIZE]))
        addr = base + last
        for a in reversed(ates):
            id_, off, n, part, crc = a
            if (base_crc ^ t_id[id_] ^ t_off[off] ^ t_len[n] ^ t_part[part]) == crc and off + n < L:
                h = hist.get(id_)
                if h is None:
                    hist[id_] = deque(((addr, _new(Ate, a)),))
                else:
                    h.append((addr, _new(Ate, a)))
            addr -= ATE_SIZE
    idx = Index()
    idx._hist = hist
    return idx
