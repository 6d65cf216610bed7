"""The ATE walk of Zephyr ZMS and the RAM index built from it (docs/zephyr-zms.md "Walks").

Upstream: zephyr subsys/fs/zms/zms.c @078f92a4 ``zms_prev_ate``, ``zms_compute_prev_addr``,
``zms_recover_last_ate``, ``zms_find_ate_with_id``. The reference answers each lookup by
walking ATEs from ``ate_wra``; flashstack walks once (at mount, and after unusual states)
into an :class:`Index` kept current on every ATE write and sector reset (ZMS-28, ZMS-29).
Positions are partition-relative byte offsets ``sector * S + offset``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

from ..nvs.walk import Index, LiveItems
from .format import ATE_SIZE, Ate, Geometry, crc8_ccitt, crc8_slots

__all__ = ["Index", "Walker"]

Reader = Callable[[int, int], bytes]


class Walker(LiveItems):
    """Mixin: the reference's walks over ``self.area`` with geometry ``self.geo``.

    Needs ``geo`` and ``ate_wra`` on the host object.
    """

    geo: Geometry
    ate_wra: int

    # --- sector headers (ZMS-5, ZMS-6) ---------------------------------------------
    def _ate_at(self, pos: int, read: Reader | None = None) -> Ate:
        return self.geo.parse((read or self._read)(pos, ATE_SIZE))

    def sector_cycle_of(self, s: int, read: Reader | None = None) -> int:
        """Cycle of sector ``s``: its empty ATE's cycle when well-formed, else 0."""
        g = self.geo
        e = self._ate_at(s * g.S + g.S - g.A, read)
        return e.cycle if g.empty_valid(e) else 0

    def closed(self, s: int, read: Reader | None = None) -> tuple[bool, int]:
        """ZMS-6: ``(closed, position of the last ATE)`` of sector ``s``.

        **[fs] F3**: on an explicit-erase device a valid empty ATE with a programmed but
        invalid close slot also means closed; the last ATE is then found by
        :meth:`scan_last`.
        """
        g = self.geo
        base = s * g.S
        read = read or self._read
        e = self._ate_at(base + g.S - g.A, read)
        if not g.empty_valid(e):
            return False, 0
        craw = read(base + g.S - 2 * g.A, ATE_SIZE)
        c = g.parse(craw)
        if g.close_valid(c) and c.cycle == e.cycle:
            return True, base + c.offset
        if g.X and craw != g.erased_ate:
            return True, self.scan_last(s, e.cycle, read)[0]
        return False, 0

    def scan_last(self, s: int, cycle: int, read: Reader | None = None) -> tuple[int, int]:
        """ZMS-13 ``zms_recover_last_ate`` for sector ``s`` with ATE cycle ``cycle``:
        ``(position of the last valid ATE or slot S-4A, data end)``.

        **[fs] F7**: the scan starts at slot ``S - 3A`` (the first ATE slot, where GC writes
        its first copy); the reference starts one slot lower.
        """
        g = self.geo
        base = s * g.S
        blob = (read or self._read)(base, g.S)
        best = base + g.S - 4 * g.A
        data_end = base
        slot = base + g.S - 3 * g.A
        while slot > data_end:
            a = g.parse(blob[slot - base:slot - base + ATE_SIZE])
            if g.valid(a, cycle):
                if a.len > g.I:
                    data_end = base + a.offset + g.al(a.len)
                best = slot
            slot -= g.A
        return best, data_end

    # --- the walk (§7) -----------------------------------------------------------------
    def step(self, pos: int, read: Reader | None = None) -> tuple[bytes | None, int]:
        """``zms_prev_ate``: the 16 bytes at ``pos`` and the next position of the walk.

        **[fs] F4**: the slot at ``ate_wra`` reads as None (never a valid ATE).
        """
        g = self.geo
        read = read or self._read
        raw = None if pos == self.ate_wra else read(pos, ATE_SIZE)
        nxt = pos + g.A
        if nxt % g.S != g.S - 2 * g.A:
            return raw, nxt
        prev = (nxt // g.S - 1) % g.N
        closed, last = self.closed(prev, read)
        return raw, (last if closed else self.ate_wra)

    def _runs(self) -> Iterator[tuple[int, int, bytes]]:
        """The walk as runs ``(sector, first offset, sector bytes)``: each run visits the
        slots from its first offset up to ``S - 3A``, then the walk jumps to the previous
        sector's last ATE when that sector is closed, else ends (ZMS-11).

        A guard ends the walk after ``N + 1`` runs or at a position off the slot grid (the
        reference would loop forever in a ring without an open sector, vector e07, or run
        past a header slot)."""
        g = self.geo
        S, A = g.S, g.A
        last = S - 3 * A
        blobs: dict[int, bytes] = {}

        def read(off: int, n: int) -> bytes:
            s, o = divmod(off, S)
            blob = blobs.get(s)
            if blob is None:
                blob = blobs[s] = self._read(s * S, S)
            return blob[o:o + n]

        start = pos = self.ate_wra
        for _ in range(g.N + 1):
            s, o = divmod(pos, S)
            if not 0 <= s < g.N or o > last or (last - o) % A:
                return
            read(s * S, 1)
            yield s, o, blobs[s]
            closed, nxt = self.closed((s - 1) % g.N, read)
            if not closed or nxt == start:
                return
            pos = nxt

    def walk(self) -> Iterator[tuple[int, bytes | None]]:
        """Every slot the reference visits from ``ate_wra``, in order: ``(position, 16 bytes)``
        (None for the slot at ``ate_wra``, F4). Equals repeated :meth:`step` calls."""
        g = self.geo
        start = self.ate_wra
        for s, o, blob in self._runs():
            for off in range(o, g.S - 3 * g.A + 1, g.A):
                p = s * g.S + off
                yield p, (None if p == start else blob[off:off + ATE_SIZE])

    def walk_valid(self) -> Iterator[tuple[int, Ate]]:
        """The valid ATEs of the walk (each checked against its sector's cycle), newest first.

        Fast path for mount: the cycle byte and the CRC-8 are checked on the raw bytes
        before an ATE is parsed."""
        g = self.geo
        cycles: dict[int, int] = {}
        S = g.S
        for pos, raw in self.walk():
            if raw is None:
                continue
            s = pos // S
            c = cycles.get(s)
            if c is None:
                c = cycles[s] = self.sector_cycle_of(s)
            if raw[1] != c or crc8_ccitt(raw[1:]) != raw[0]:
                continue
            a = g.parse(raw)
            if g.data_in_sector(a):
                yield pos, a

    def walk_index(self) -> Index:
        """A fresh :class:`Index` of the valid data and delete entries (id HEAD excluded).

        Mount's fast path (ZMS-28): one pass over each sector's bytes; the cycle byte and the
        CRC-8 are checked before an ATE is parsed."""
        g = self.geo
        S, A, head, start = g.S, g.A, g.head, self.ate_wra
        unpack, wide, fits = g.unpack_from, g.wide, g.data_in_sector
        hist: dict[int, deque] = {}
        last = S - 3 * A
        for s, o, blob in self._runs():
            c = self.sector_cycle_of(s)
            base = s * S
            n = (last - o) // A + 1
            crcs = crc8_slots(blob, o, n, A)
            stored = blob[o:o + (n - 1) * A + 1:A]
            cycles = blob[o + 1:o + 1 + (n - 1) * A + 1:A]
            for j in range(n):
                if cycles[j] != c or crcs[j] != stored[j]:
                    continue
                off = o + j * A
                if base + off == start:
                    continue
                a = Ate._make((*unpack(blob, off), wide))
                if a.id == head or not fits(a):
                    continue
                h = hist.get(a.id)
                if h is None:
                    hist[a.id] = deque(((base + off, a),))
                else:
                    h.append((base + off, a))
        for h in hist.values():
            if len(h) > 1:
                h.reverse()  # the index keeps each id's entries oldest first
        return Index.from_histories(hist)
