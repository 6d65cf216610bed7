"""The ATE walk of Zephyr NVS and the RAM index built from it (spec/zephyr-nvs.md §7, §13).

Upstream: zephyr subsys/fs/nvs/nvs.c ``nvs_prev_ate`` and ``nvs_recover_last_ate``. The
reference answers every lookup by walking ATEs from ``ate_wra``; flashstack walks once (at
mount) into an :class:`Index` and keeps it current on every ATE write and sector erase, so
lookups cost O(1) and answer exactly like the walk (NVS-24, NVS-25).
"""

from __future__ import annotations

from collections import deque
from typing import Iterator

from .format import Ate

__all__ = ["Index", "Walker"]


class Index:
    """``id -> deque[(slot address, Ate), ...]`` of valid ATEs, oldest first (newest = last).

    A deque: garbage collection drops the oldest entries of a history, appends add the newest.
    """

    __slots__ = ("_hist",)

    def __init__(self):
        self._hist: dict[int, deque[tuple[int, Ate]]] = {}

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
        """Forget the entries of ``ids`` whose slot lies in ``[lo, hi)`` (an erased sector).

        The erased sector is the oldest of the ring (the walk visits it last), so its entries
        lead each history (the index is kept in walk order): dropping them costs O(entries
        dropped), not O(history). ``tests/nvs/test_nvs_index.py`` checks this against the walk.
        """
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

    rebuild_index = rebuild_index_walk
