"""Read-only analysis of a Zephyr ZMS area: ``scan()``, ``store_stats()``, ``detect_zms()``.

docs/zephyr-zms.md "Read-only analysis" (ZMS-41). ``scan`` mounts an in-memory copy of the
area, records the writes and erases that mount would issue, and classifies every ATE the
reference's walk visits; the real storage is only read. Offsets are partition-relative.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from ..errors import FlashError
from ..nvs._scan import (AteInfo, ScanDict, _memory_copy, _recording_copy, count_states, entry_state,
                         read_live, try_mount, verdict)
from .format import ATE_SIZE, data_crc32, header_offsets
from .store import ZMSStore

__all__ = ["SectorInfo", "ZMSAteInfo", "ZMSDetection", "ZMSScan", "classify", "detect_zms",
           "mount_copy", "scan", "store_stats"]


@dataclass
class ZMSAteInfo(AteInfo):
    """One ATE slot the walk visits (:class:`~flashstack.nvs._scan.AteInfo`: ``address`` area
    offset, ``kind`` data|delete|gc_done|corrupt, ``state`` valid|deleted|superseded|corrupt|
    marker, ``newest`` for the id's newest) and the ``cycle`` it carries."""

    cycle: int = 0


@dataclass
class SectorInfo:
    """One sector as found: header fields, open/closed, cycle, gc_done, counts by state."""

    index: int
    offset: int
    state: str                            # open | closed | unused
    cycle: int | None = None              # the empty ATE's cycle when well-formed
    magic: int | None = None
    version: int | None = None
    ate_format: int | None = None
    close_offset: int | None = None       # last-ATE offset (close ATE, or recovered: F3)
    close_ate: str | None = None          # None, "valid" or "torn"
    gc_done: bool = False
    erased: bool = False
    counts: dict = field(default_factory=dict)
    data_bytes: int = 0


@dataclass
class ZMSScan(ScanDict):
    """Result of :func:`scan`. ``verdict``: empty, healthy, recoverable (mount repairs an
    interrupted operation), damaged (corrupt ATEs, data-CRC errors) or unmountable."""

    geometry: dict
    verdict: str
    mount_error: str | None
    mount_errno: int | None
    sectors: list[SectorInfo]
    ates: list[ZMSAteInfo]
    write_sector: int | None = None
    ate_wra: int | None = None
    data_wra: int | None = None
    sector_cycle: int | None = None
    mount_operations: list = field(default_factory=list)
    mount_notes: list = field(default_factory=list)
    free_space: int | None = None
    items: dict = field(default_factory=dict)          # id -> value bytes (live)
    read_errors: dict = field(default_factory=dict)    # id -> errno name
    settings: dict | None = None                       # Settings-on-ZMS names and values
    notes: list = field(default_factory=list)



def mount_copy(area, sector_size: int | None = None, sector_count: int | None = None,
               data_crc: bool = False, id_64bit: bool = False) -> ZMSStore:
    """A :class:`ZMSStore` mounted on an in-memory copy of ``area`` (never writes ``area``)."""
    st = ZMSStore(_memory_copy(area), sector_size, sector_count, data_crc, id_64bit)
    st.mount()
    return st


def classify(store: ZMSStore) -> list[ZMSAteInfo]:
    """Every programmed slot the walk of a mounted ``store`` visits, in walk order."""
    g = store.geo
    out = []
    cycles: dict[int, int] = {}
    for addr, raw in store.walk():
        if raw is None or raw == g.erased_ate:
            continue
        a = g.parse(raw)
        sector = addr // g.S
        if sector not in cycles:
            cycles[sector] = store.sector_cycle_of(sector)
        valid = g.valid(a, cycles[sector])
        newest = store.index.newest(a.id) if valid else None
        if not valid:
            kind = state = "corrupt"
        elif a.id == g.head:
            kind, state = ("gc_done", "marker") if a.len == 0 else ("data", "reserved-id")
        else:
            kind = "data" if a.len else "delete"
            state = entry_state(addr, a.len, newest)
        info = ZMSAteInfo(addr, sector, kind, a.id, a.offset if a.len > g.I else 0, a.len,
                          a.crc_ok, valid, state, newest=newest is not None and newest[0] == addr,
                          cycle=a.cycle)
        if valid and g.data_crc and a.len > g.I and kind == "data":
            body = store.area.read(sector * g.S + a.offset, a.len)
            info.data_crc_ok = data_crc32(body) == a.word2
        out.append(info)
    return out


def _sector_infos(store: ZMSStore) -> list[SectorInfo]:
    g = store.geo
    out = []
    for s in range(g.N):
        base = s * g.S
        blob = store.area.read(base, g.S)
        e = g.parse(blob[g.S - g.A:g.S - g.A + ATE_SIZE])
        info = SectorInfo(s, base, "unused", erased=blob.count(g.E) == g.S)
        if g.empty_valid(e):
            info.cycle, info.state = e.cycle, "open"
            info.version, info.magic, info.ate_format = (e.word2 & 0xFF, (e.word2 >> 8) & 0xFF,
                                                         g.meta_format(e))
            closed, last = store.closed(s)
            if closed:
                info.state, info.close_offset = "closed", last % g.S
                c = g.parse(blob[g.S - 2 * g.A:g.S - 2 * g.A + ATE_SIZE])
                info.close_ate = "valid" if g.close_valid(c) else "torn"
            for off in range(g.S - 3 * g.A, 0, -g.A):
                a = g.parse(blob[off:off + ATE_SIZE])
                if g.gc_done_valid(a) and a.cycle == e.cycle:
                    info.gc_done = True
                    break
        out.append(info)
    return out


def scan(area, sector_size: int | None = None, sector_count: int | None = None,
         data_crc: bool = False, id_64bit: bool = False) -> ZMSScan:
    """:func:`flashstack.nvs.scan` for ZMS (ZMS-41): ``area`` is only read; an unmountable
    image gives ``verdict == "unmountable"`` and the mount error, EINVAL only for a geometry
    impossible for the area."""
    copy, recorder = _recording_copy(area)
    store = ZMSStore(copy, sector_size, sector_count, data_crc, id_64bit)
    geo = store.geo = store._resolve_geometry()
    before = _sector_infos(store)
    erased_area = all(s.erased for s in before)
    err, code = try_mount(store)
    res = ZMSScan(geo.to_json(), "", err, code, before, [],
                  mount_operations=recorder.lines(), mount_notes=list(store.mount_notes))
    if store.mounted:
        _fill_mounted(res, store)
    res.verdict = verdict(res, erased_area)
    return res


def _fill_mounted(res: ZMSScan, store: ZMSStore) -> None:
    g = store.geo
    res.write_sector = store.ate_wra // g.S
    res.ate_wra, res.data_wra, res.sector_cycle = store.ate_wra, store.data_wra, store.sector_cycle
    res.free_space = store.free_space()
    res.ates = classify(store)
    count_states(res.sectors, res.ates, 0)
    res.notes += [f"value under the header id at {a.address:#x} (F6: not readable)"
                  for a in res.ates if a.state == "reserved-id"]
    read_live(store, res.items, res.read_errors)
    if not g.wide:
        from .settings import decode_settings
        res.settings = decode_settings(res.items)


def store_stats(store: ZMSStore) -> dict:
    """Figures of a mounted store: per sector (state, cycle, ATE counts, live data bytes) and
    for the store (live ids and bytes, ``ate_wra``, ``data_wra``, cycle, free space)."""
    g = store.geo
    sectors = _sector_infos(store)
    count_states(sectors, classify(store), 0)
    live = store.ids()
    live_bytes = 0
    for i in live:
        newest = store.index.newest(i)
        live_bytes += newest[1].len if newest else 0
    return {"geometry": g.to_json(), "sectors": [asdict(s) for s in sectors],
            "write_sector": store.ate_wra // g.S, "ate_wra": store.ate_wra,
            "data_wra": store.data_wra, "sector_cycle": store.sector_cycle,
            "live_ids": len(live), "live_bytes": live_bytes, "free_space": store.free_space()}


@dataclass(frozen=True)
class ZMSDetection:
    """What the bytes say: ``sector_size`` and ``sector_count`` (from the positions of the
    sector headers), ``id_64bit`` (ATE-format field), ``data_crc`` (external entries carrying
    their CRC-32), ``headers`` (sectors with a ZMS empty ATE)."""

    sector_size: int
    sector_count: int
    id_64bit: bool
    data_crc: bool
    headers: int


def detect_zms(area) -> ZMSDetection | None:
    """Find ZMS sector headers in ``area`` (empty ATEs with magic 0x42, version 1): the sector
    size is the greatest common divisor of their end offsets. None when no header is found or
    the sizes do not fit the device (explicit erase: a multiple of the erase page)."""
    w = area.align
    if not 1 <= w <= 32 or w & (w - 1):
        return None
    a_size = max(ATE_SIZE, w)
    blob = area.read(0, area.size)
    ends, wide_votes = [], 0
    for wide in (False, True):
        ends = [off + a_size for off in header_offsets(blob, wide)
                if (area.size - off) % a_size == 0]
        if ends:
            wide_votes = len(ends) if wide else 0
            break
    if not ends:
        return None
    s = 0
    for end in ends:
        s = math.gcd(s, end)
    if s < 5 * a_size or area.size // s < 2 or s % w:
        return None
    if area.device.explicit_erase:
        try:
            page = area.device.layout.by_offset(area.offset).size
        except FlashError:
            return None
        if s % page:
            return None
    wide = wide_votes > 0
    return ZMSDetection(s, area.size // s, wide, (not wide) and _has_data_crc(area, s, wide),
                        len(ends))


def _has_data_crc(area, s: int, wide: bool) -> bool:
    """True when an external entry of the image carries the CRC-32 of its data."""
    try:
        st = mount_copy(area, s, area.size // s, False, wide)
    except FlashError:
        return False
    g = st.geo
    for id_ in st.index.ids():
        newest = st.index.newest(id_)
        if newest is None:
            continue
        addr, a = newest
        if a.len > g.I and a.word2:  # type: ignore[attr-defined]
            body = st.area.read(addr - addr % g.S + a.offset, a.len)
            return data_crc32(body) == a.word2  # type: ignore[attr-defined]
    return False
