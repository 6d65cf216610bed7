"""The ATE walk of Zephyr NVS and the RAM index built from it (docs/zephyr-nvs.md §7, §13).

Upstream: zephyr subsys/fs/nvs/nvs.c ``nvs_prev_ate`` and ``nvs_recover_last_ate``. The
reference answers every lookup by walking ATEs from ``ate_wra``; flashstack walks once (at
mount) into an :class:`Index` and keeps it current on every ATE write and sector erase, so
lookups cost O(1) and answer exactly like the walk (NVS-24, NVS-25).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from array import array
from itertools import compress
from bisect import bisect_right
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Self, Sequence, TypeVar

from ._bulk import SlotFlags, close_usable, fields, slot_flags
from ..errors import FlashError, PowerLoss
from ..flash_map import FlashArea
from .format import ATE_SIZE, Ate, Geometry

__all__ = ["Index", "LiveItems", "Walker"]

T = TypeVar("T")


class Index:
    """``id -> deque[(slot address, Ate), ...]`` of valid ATEs, oldest first (newest = last).

    A deque: garbage collection drops the oldest entries of a history, appends add the newest.

    A bulk mount (:meth:`from_runs`) does not build a Python object per ATE: it keeps the
    mounted entries as one *base layer* (an array of ids in walk order, oldest first, cut in
    runs of one sector each) and only each id's newest entry as an object. Older entries are
    found in the array and decoded from the mounted bytes when asked for (``read_hist`` with
    ``cnt > 0``, :meth:`history`); garbage collection drops the oldest sector's run whole.
    Anything else that would change the base layer first turns it into ordinary histories
    (:meth:`_materialise`).
    """

    __slots__ = ("_hist", "_ids", "_runs", "_starts", "_r0", "_top", "_decode")

    def __init__(self):
        self._hist: dict[int, deque[tuple[int, Ate]]] = {}
        self._ids: Sequence[int] = ()                   # base layer: ids, oldest first
        self._runs: list[BaseRun] = []
        self._starts: list[int] = []                    # first base position of each run
        self._r0 = 0                                    # runs before this one were dropped
        self._top: dict[int, int] = {}                  # id -> base position of its _hist[0]
        self._decode: Callable[[int], Ate] | None = None

    @classmethod
    def from_histories(cls, hist: Mapping[int, Iterable[tuple[int, Ate]]]) -> "Index":
        """An index from ``{id: [(slot address, Ate), ...]}``, each list oldest first (a
        mount's one-pass build); the lists become the deques :meth:`drop` pops from."""
        idx = cls()
        idx._hist = {k: deque(v) for k, v in hist.items()}
        return idx

    @classmethod
    def from_runs(cls, ids: Sequence[int], runs: "list[BaseRun]",
                  decode: Callable[[int], Ate]) -> "Index":
        """The index of the valid entries whose ids are ``ids`` (walk order, oldest first),
        cut in ``runs`` (one sector each, oldest first, covering ``ids``); ``decode(address)``
        reads the ATE of a slot (unchanged while the entry is indexed: a slot is written once
        per erase)."""
        idx = cls()
        idx._ids, idx._runs, idx._decode = ids, runs, decode
        idx._starts = [r.start for r in runs]
        idx._top = top = _last_positions(ids, runs)
        addr = idx._addr
        idx._hist = {i: deque(((a, decode(a)),)) for i, a in ((i, addr(p)) for i, p in top.items())}
        return idx

    def _addr(self, pos: int) -> int:
        """Slot address of base position ``pos``."""
        r = self._runs[bisect_right(self._starts, pos) - 1]
        return r.addrs[pos - r.start] if r.addrs is not None else r.top - ATE_SIZE * (pos - r.start)

    def _base_start(self) -> int:
        return self._runs[self._r0].start if self._r0 < len(self._runs) else len(self._ids)

    def _older(self, id: int) -> list[int]:
        """Slot addresses of ``id``'s base-layer entries older than its ``_hist`` ones."""
        top = self._top.get(id)
        lo = self._base_start()
        if top is None or top < lo:
            return []
        ids, out = self._ids, []
        j = ids.index(id, lo)                # type: ignore[call-arg]
        while j < top:
            out.append(self._addr(j))
            j = ids.index(id, j + 1)         # type: ignore[call-arg]
        return out

    def _has_older(self, id: int) -> bool:
        top = self._top.get(id)
        lo = self._base_start()
        return top is not None and top >= lo and self._ids.index(id, lo) < top  # type: ignore[call-arg]

    def _materialise(self) -> None:
        """Move the base layer into the ordinary histories."""
        if not self._runs:
            return
        decode = self._decode
        assert decode is not None
        for id_ in list(self._top):
            older = self._older(id_)
            if older:
                self._hist[id_].extendleft((a, decode(a)) for a in reversed(older))
        self._ids, self._runs, self._starts, self._r0, self._top = (), [], [], 0, {}

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
        if h is None or cnt < 0:
            return None
        if cnt < len(h):
            return h[-1 - cnt]
        older = self._older(id)
        k = cnt - len(h)
        if k >= len(older):
            return None
        assert self._decode is not None
        addr = older[-1 - k]
        return addr, self._decode(addr)

    def history(self, id: int) -> list[tuple[int, Ate]]:
        """Every valid ``(slot address, Ate)`` of ``id``, oldest first (empty if unknown)."""
        older = self._older(id)
        head = [(a, self._decode(a)) for a in older] if older and self._decode else []
        return head + list(self._hist.get(id, ()))

    def ids(self) -> list[int]:
        """Ids with at least one valid ATE, in the order they were first recorded."""
        return list(self._hist)

    def drop(self, lo: int, hi: int, ids) -> None:
        """Forget the entries of ``ids`` whose slot lies in ``[lo, hi)``, wherever they are
        in each history (O(history) per id)."""
        self._materialise()
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
        if self._r0 < len(self._runs):
            if lo <= self._runs[self._r0].base < hi:
                self._r0 += 1                # the base layer's oldest run is this sector
            else:
                self._materialise()          # not the oldest run: walk order is unusual
        hist = self._hist
        for id_ in ids:
            if self._runs and self._has_older(id_):
                continue                     # older entries outside [lo, hi) lead its history
            h = hist.get(id_)
            if h is None:
                continue
            while h and lo <= h[0][0] < hi:
                h.popleft()
            if not h:
                del hist[id_]


def _last_positions(ids: Sequence[int], runs: "list[BaseRun]") -> dict[int, int]:
    """``{id: position of its last occurrence in ids}``, keys in the order of their first
    occurrence. A set of each run's ids (no Python code per entry), then a search for the
    few ids that a run holds first (oldest runs first) or last (newest first)."""
    sets = [set(ids[r.start:r.end]) for r in runs]
    first: dict[int, int] = {}
    for r, seen in zip(runs, sets):
        for id_ in seen.difference(first):
            first[id_] = ids.index(id_, r.start)       # type: ignore[call-arg]
    top: dict[int, int] = {}
    for r, seen in zip(reversed(runs), reversed(sets)):
        for id_ in seen.difference(top):
            j = r.end - 1
            while ids[j] != id_:
                j -= 1
            top[id_] = j
    return {i: top[i] for i in sorted(top, key=first.__getitem__)}


class BaseRun(NamedTuple):
    """One sector's run of an :class:`Index` base layer: positions ``start..end`` (exclusive)
    of the id array; slot address ``top - 8 * (pos - start)``, or ``addrs[pos - start]`` when
    some slots of the run were invalid and left out."""

    base: int
    start: int
    end: int
    top: int
    addrs: Sequence[int] | None


class LiveItems(ABC):
    """Base of the NVS and ZMS stores: flash reads that fail the store (NVS-29, ZMS-34),
    ``ids()`` and ``items()`` over the RAM index and ``read()``, and :meth:`mount_readonly`
    over the store's constructor (``area`` first) and ``mount()``."""

    area: FlashArea
    index: Index
    failed: bool
    _mutating: bool

    @abstractmethod
    def mount(self) -> None:
        """Mount the store on its area (each store's own recovery)."""

    @abstractmethod
    def read(self, id: int) -> bytes:
        """The newest value of ``id``."""

    @abstractmethod
    def _check_ready(self, what: str) -> None:
        """EACCES when not mounted, EIO when failed (each store's order)."""

    @abstractmethod
    def _holds_value(self, id: int, length: int) -> bool:
        """Whether an id whose newest valid entry has ``length`` is live (not a delete)."""

    def _dev(self, fn: Callable[..., T], *args: Any) -> T:
        """Run an area operation; a flash error or power cut inside a writing call fails the
        store (NVS-29, ZMS-34)."""
        try:
            return fn(*args)
        except (FlashError, PowerLoss):  # a cut fails the store too: PowerLoss is no FlashError
            if self._mutating:
                self.failed = True
            raise

    def _read(self, off: int, n: int) -> bytes:
        return self._dev(self.area.read, off, n)

    def _mutate(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """Run a writing call of the store: ready check, then ``fn`` with flash errors and
        power cuts failing the store (:meth:`_dev`)."""
        self._check_ready(what)
        self._mutating = True
        try:
            return fn(*args)
        finally:
            self._mutating = False

    def ids(self) -> list[int]:
        """Ids whose newest valid entry holds a value, ascending."""
        self._check_ready("ids")
        out = []
        for id_ in self.index.ids():
            newest = self.index.newest(id_)
            if newest is not None and self._holds_value(id_, newest[1].len):
                out.append(id_)
        return sorted(out)

    @classmethod
    def mount_readonly(cls, area: FlashArea, *args: Any, **kwargs: Any) -> Self:
        """The store mounted on an in-memory copy of ``area`` (:meth:`FlashArea.memory_copy
        <flashstack.flash_map.FlashArea.memory_copy>`): ``area`` is read once and never
        written, whatever mount repairs (those land on the copy). Arguments as the
        constructor; mount errors propagate."""
        make: Callable[..., Self] = cls        # each store's own constructor, area first
        store = make(area.memory_copy(name=f"copy:{area.name}"), *args, **kwargs)
        store.mount()
        return store

    def items(self) -> Iterator[tuple[int, bytes]]:
        """``(id, value)`` for every live id, ascending; EIO for a damaged value (data CRC)."""
        for id_ in self.ids():
            yield id_, self.read(id_)


class Walker(LiveItems):
    """Mixin: the reference's walk over ``self.area`` with geometry ``self.geo``.

    Needs ``geo``, ``ate_wra`` and ``index`` on the host object.
    """

    geo: Geometry
    ate_wra: int
    index: Index

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

    def sector_reader(self, only: int | None = None, image: bytes | None = None):
        """A ``read(off, n)`` for :meth:`step` that reads each sector from flash once (only
        sector ``only`` when given; other reads go to flash). For a walk over unchanged
        sectors: a garbage collection does not write the sector it collects. ``image``: the
        area's bytes from offset 0, already read (mount), served instead of flash."""
        geo = self.geo
        if image is not None:
            return lambda off, n: image[off:off + n]
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
        slab = b"".join(a.pack() for _, a in found)
        self.mount_slots = (slab, slot_flags(slab, geo.L))

    def rebuild_index(self, image: bytes | None = None) -> None:
        """:meth:`rebuild_index_walk` in one pass over each sector's ATE slots (NVS-24).

        The walk visits, per sector, a run of slots from a start up to slot F, then jumps to
        the previous sector; this follows the same jumps and checks every run's slots at once
        (:mod:`flashstack.nvs._bulk`) into the index's base layer (``image``: the area's bytes,
        when the caller has read them since the last write). Runs that the walk would not
        take slot by slot from a regular position (write blocks above 8 bytes, a start outside
        the slot range) fall back to the walk.
        """
        geo = self.geo
        S, A, L, F, N = geo.S, geo.A, geo.L, geo.F, geo.N
        start = self.ate_wra
        if A != ATE_SIZE or start % S > F or (F - start % S) % A:
            self.rebuild_index_walk()
            return
        read = self.sector_reader(image=image)
        closes = b"".join(read(k * S + L, 8) for k in range(N))
        usable, offsets = close_usable(closes, S, A)
        runs: list[tuple[int, int, int]] = []       # (sector base, first offset, last offset)
        pos, jumps = start, 0
        while True:
            base = pos - pos % S
            if pos < start <= base + F:              # back at the start: the walk ends
                runs.append((base, pos % S, start % S - A))
                break
            runs.append((base, pos % S, F))
            prev = (base // S - 1) % N
            if closes[8 * prev:8 * prev + 8] == geo.erased_ate:
                break                                # the walk returns to ate_wra
            nxt = prev * S + offsets[prev] if usable[prev] else self.recover_last(prev)
            if nxt == start:
                break
            jumps += 1
            if jumps > N:
                break
            if nxt % S > F or (F - nxt % S) % A:
                self.rebuild_index_walk()
                return
            pos = nxt
        self.index, slab, flags = _index_of_runs(runs, read, L)
        self.index_current = True
        self.mount_slots = (slab, flags)



def _index_of_runs(runs: list[tuple[int, int, int]], read, L: int) -> tuple[Index, bytes, SlotFlags]:
    """The :class:`Index` of the valid ATEs in ``runs`` (walk order: each run ascending, runs
    from newest to oldest), built in bulk (:mod:`flashstack.nvs._bulk`): the slots of every run,
    oldest first, are checked at once and kept as the index's base layer. Also returns those
    slots (8 bytes each, oldest first) and their flags, for mount's write-block check."""
    pieces: list[bytes] = []
    spans: list[tuple[int, int, int]] = []      # (sector base, slots, top slot address)
    for base, first, last in runs:
        if last < first:
            continue
        pieces.append(read(base + first, last + ATE_SIZE - first))
        spans.append((base, (last + ATE_SIZE - first) // ATE_SIZE, base + last))
    spans.reverse()
    q = array("Q", b"".join(pieces))
    q.reverse()                                # walk order reversed: oldest slot first
    slab = q.tobytes()
    flags = slot_flags(slab, L)
    ids_all = fields(slab)[0]
    sel = flags.as_bytes(flags.valid)
    all_valid = sel.count(0) == 0
    ids = ids_all if all_valid else array("H")
    table, pos, p = [], 0, 0
    for base, n, top in spans:
        keep = None if all_valid else sel[p:p + n]
        addrs = None
        if keep is not None and keep.count(0):
            ids.extend(compress(ids_all[p:p + n], keep))
            addrs = array("q", compress(range(top, top - ATE_SIZE * n, -ATE_SIZE), keep))
            k = len(addrs)
        else:
            if keep is not None:
                ids.extend(ids_all[p:p + n])
            k = n
        table.append(BaseRun(base, pos, pos + k, top, addrs))
        pos += k
        p += n

    def decode(addr: int) -> Ate:
        return Ate.unpack(read(addr, ATE_SIZE))
    idx = Index.from_runs(ids, table, decode)
    if len({b for b, _, _ in spans}) != len(spans):   # a sector visited twice: plain histories
        idx._materialise()
    return idx, slab, flags
