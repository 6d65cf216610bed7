"""Read-only analysis of a Zephyr NVS area: ``scan()``, ``store_stats()``, ``looks_like_nvs()``.

docs/zephyr-nvs.md §18 (NVS-35). ``scan`` mounts an in-memory copy of the area, records the
writes and erases the mount would issue, and classifies every ATE the reference's walk
visits; the real storage is only read. Offsets are partition-relative bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..device import RecordingFlash
from ..errors import FlashError, errno_name
from ..flash_map.area import FlashArea
from .format import ID_MARKER, Ate, Geometry, data_crc

__all__ = ["AteInfo", "SectorInfo", "NVSScan", "scan", "store_stats", "classify",
           "looks_like_nvs", "detect_nvs", "mount_copy"]


@dataclass
class AteInfo:
    """One non-erased ATE slot: ``address`` (area offset), kind ``data|delete|gc_done|corrupt``,
    state ``valid|deleted|superseded|corrupt|marker``; ``newest`` for the id's newest entry."""

    address: int
    sector: int
    kind: str
    id: int
    offset: int
    len: int
    crc_ok: bool
    valid: bool
    state: str
    newest: bool = False
    data_crc_ok: bool | None = None


@dataclass
class SectorInfo:
    """One sector of the image as found: ``state`` open/closed, close ATE and gc_done marker."""

    index: int
    offset: int
    state: str
    close_ate: str | None = None          # None (open), "valid" or "corrupt"
    close_offset: int | None = None       # last-ATE offset the close ATE records
    gc_done: bool = False
    erased: bool = False
    counts: dict = field(default_factory=dict)
    data_bytes: int = 0                   # bytes of live values stored in this sector


class ScanDict:
    """``to_json`` of a scan result with ``items`` (id -> bytes) and ``settings`` (NVS, ZMS)."""

    items: dict
    settings: dict | None

    def to_json(self) -> dict:
        """JSON-ready form (values as hex strings)."""
        d = asdict(self)  # type: ignore[call-overload]  # every user is a dataclass
        d["items"] = {str(k): v.hex() for k, v in self.items.items()}
        if self.settings is not None:
            d["settings"] = {k: v.hex() for k, v in self.settings.items()}
        return d


@dataclass
class NVSScan(ScanDict):
    """Result of :func:`scan`. ``verdict`` is one of ``empty``, ``healthy``, ``recoverable``
    (mount repairs an interrupted operation), ``damaged`` (corrupt ATEs or data-CRC errors;
    values still readable) or ``unmountable``."""

    geometry: dict
    verdict: str
    mount_error: str | None
    mount_errno: int | None
    sectors: list[SectorInfo]
    ates: list[AteInfo]
    walk_order: bool
    write_sector: int | None = None
    ate_wra: int | None = None
    data_wra: int | None = None
    mount_operations: list = field(default_factory=list)  # spec §14 notation: "P off: bytes", "E off len"
    mount_notes: list = field(default_factory=list)
    orphan_data: list = field(default_factory=list)       # [start, end) area offsets skipped by mount
    free_space: int | None = None
    items: dict = field(default_factory=dict)          # id -> value bytes (live)
    read_errors: dict = field(default_factory=dict)    # id -> errno name
    marker_id_data: list = field(default_factory=list)  # addresses of data under id 0xFFFF
    settings: dict | None = None                       # name -> value bytes, when §17 ids used
    notes: list = field(default_factory=list)



def _memory_copy(area) -> FlashArea:
    """An in-memory copy of ``area`` (same pages, write block, erase value)."""
    return area.memory_copy(name="scan-copy")


def _recording_copy(area) -> tuple[FlashArea, RecordingFlash]:
    """:func:`_memory_copy` on an operation recorder: the scan's mount runs on it so the
    writes and erases it would perform are shown (spec §14 notation) instead of hidden."""
    return _memory_copy(area).recorded()


def mount_copy(area, sector_size: int | None = None, sector_count: int | None = None,
               data_crc: bool = False, init_bad_region: bool = False):
    """An :class:`NVSStore` mounted on an in-memory copy of ``area``: reads (history
    included) without ever writing the real storage. Mount errors propagate."""
    from .store import NVSStore
    st = NVSStore(_memory_copy(area), sector_size, sector_count, data_crc, init_bad_region)
    st.mount()
    return st


def classify(store) -> list[AteInfo]:
    """Every non-erased slot the walk of a mounted ``store`` visits, in walk order."""
    geo: Geometry = store.geo
    out = []
    for addr, raw in store.walk():
        if raw == geo.erased_ate:
            continue
        a = Ate.unpack(raw)
        valid = geo.valid(a)
        sector = addr // geo.S
        if not valid:
            kind, state = "corrupt", "corrupt"
        elif a.id == ID_MARKER and a.len == 0:
            kind, state = "gc_done", "marker"
        else:
            kind = "data" if a.len else "delete"
            state = entry_state(addr, a.len, store.index.newest(a.id))
        info = AteInfo(addr, sector, kind, a.id, a.offset, a.len, a.crc_ok, valid, state)
        if valid and kind in ("data", "delete"):
            info.newest = store.index.newest_addr(a.id) == addr
            if geo.C and a.len >= geo.C:
                start = sector * geo.S + a.offset
                body = store.area.read(start, a.len)
                info.data_crc_ok = data_crc(body[:-geo.C]) == body[-geo.C:]
        out.append(info)
    return out


def entry_state(addr: int, length: int, newest) -> str:
    """State of a valid data or delete ATE at ``addr``: ``deleted`` (a delete, or superseded by
    one), ``valid`` (its id's newest entry, ``newest`` = (address, ATE) or None) or
    ``superseded`` (NVS and ZMS alike)."""
    if not length:
        return "deleted"
    if newest is not None and newest[0] == addr:
        return "valid"
    return "deleted" if newest and newest[1].len == 0 else "superseded"


def count_states(sectors: list, ates: list, overhead: int) -> None:
    """Add each ATE to its sector's ``counts`` by state, and the live value bytes (length
    less ``overhead``, a data CRC) to ``data_bytes``."""
    for a in ates:
        counts = sectors[a.sector].counts
        counts[a.state] = counts.get(a.state, 0) + 1
        if a.state == "valid":
            sectors[a.sector].data_bytes += a.len - overhead


def read_live(store, items: dict, read_errors: dict) -> None:
    """Every live id of a mounted ``store`` into ``items``, or its errno name into
    ``read_errors`` when the read fails."""
    for id_ in store.ids():
        try:
            items[id_] = store.read(id_)
        except FlashError as exc:
            read_errors[id_] = errno_name(exc.errno or 5)


def _sector_infos(area, geo: Geometry) -> list[SectorInfo]:
    out = []
    erased_ate = geo.erased_ate
    for s in range(geo.N):
        base = s * geo.S
        blob = area.read(base, geo.S)
        close_raw = blob[geo.L:geo.L + 8]
        info = SectorInfo(s, base, "open", erased=blob == bytes([geo.E]) * geo.S)
        if close_raw != erased_ate:
            c = Ate.unpack(close_raw)
            info.state = "closed"
            info.close_ate = "valid" if geo.close_valid(c) else "corrupt"
            info.close_offset = c.offset
        for off in range(geo.F, -1, -geo.A):
            if geo.is_gc_done(Ate.unpack(blob[off:off + 8])):
                info.gc_done = True
                break
        out.append(info)
    return out


def verdict(result, erased_area: bool) -> str:
    """A scan's verdict (NVS and ZMS): unmountable, empty, damaged (read errors or corrupt
    ATEs), recoverable (mount repaired something) or healthy."""
    if result.mount_error is not None:
        return "unmountable"
    if erased_area:
        return "empty"
    if result.read_errors or any(a.state == "corrupt" for a in result.ates):
        return "damaged"
    repairs = [n for n in result.mount_notes if not n.startswith("empty write sector")]
    return "recoverable" if repairs else "healthy"


def try_mount(store) -> tuple[str | None, int | None]:
    """Mount ``store`` (a scan's copy): ``(message, errno)`` of the flashstack error a failed
    mount raised, ``(None, None)`` when it mounted."""
    try:
        store.mount()
    except FlashError as exc:
        return str(exc), exc.errno
    return None, None


def scan(area, sector_size: int | None = None, sector_count: int | None = None,
         data_crc: bool = False, init_bad_region: bool = False) -> NVSScan:
    """Analyse ``area`` as Zephyr NVS without writing it (NVS-35). Never raises for bad
    content: an unmountable image gives ``verdict == "unmountable"`` and the mount error.
    Raises EINVAL only when the geometry itself is impossible for the area."""
    from .store import NVSStore
    copy, recorder = _recording_copy(area)
    store = NVSStore(copy, sector_size, sector_count, data_crc, init_bad_region)
    geo = store._resolve_geometry()
    sectors = _sector_infos(copy, geo)
    erased_area = all(s.erased for s in sectors)
    err, errno_ = try_mount(store)
    res = NVSScan(geo.to_json(), "", err, errno_, sectors, [], walk_order=store.mounted,
                  mount_operations=recorder.lines(), mount_notes=list(store.mount_notes),
                  orphan_data=[list(r) for r in store.orphan_data])
    if store.mounted:
        _fill_mounted(res, store, geo)
    else:
        res.ates = _raw_slots(area, geo)
    res.verdict = verdict(res, erased_area)
    return res


def _fill_mounted(res: NVSScan, store, geo: Geometry) -> None:
    res.write_sector = store.ate_wra // geo.S
    res.ate_wra, res.data_wra = store.ate_wra, store.data_wra
    res.free_space = store.free_space()
    res.ates = classify(store)
    count_states(res.sectors, res.ates, geo.C)
    res.marker_id_data = [a.address for a in res.ates if a.valid and a.id == ID_MARKER and a.len]
    read_live(store, res.items, res.read_errors)
    if res.marker_id_data:
        res.notes.append("values stored under the reserved id 0xFFFF (reference quirk)")
    from .settings import decode_settings
    res.settings = decode_settings(res.items)


def _raw_slots(area, geo: Geometry) -> list[AteInfo]:
    out = []
    for s in range(geo.N):
        blob = area.read(s * geo.S, geo.S)
        for off in range(geo.F, -1, -geo.A):
            raw = blob[off:off + 8]
            if raw == geo.erased_ate:
                continue
            a = Ate.unpack(raw)
            v = geo.valid(a)
            kind = "corrupt" if not v else ("gc_done" if a.id == ID_MARKER and not a.len
                                            else "data" if a.len else "delete")
            out.append(AteInfo(s * geo.S + off, s, kind, a.id, a.offset, a.len, a.crc_ok, v,
                               "corrupt" if not v else "unknown"))
    return out


def store_stats(store) -> dict:
    """Figures of a mounted store: per sector (state, ATE counts by state, live data bytes)
    and for the store (live ids and bytes, ``ate_wra``, ``data_wra``, free space)."""
    geo = store.geo
    sectors = _sector_infos(store.area, geo)
    count_states(sectors, classify(store), geo.C)
    live = store.ids()
    live_bytes = sum(store.index.newest(i)[1].len - geo.C for i in live)
    return {"geometry": geo.to_json(), "sectors": [asdict(s) for s in sectors],
            "write_sector": store.ate_wra // geo.S, "ate_wra": store.ate_wra,
            "data_wra": store.data_wra, "live_ids": len(live), "live_bytes": live_bytes,
            "free_space": store.free_space()}


def detect_nvs(area, sector_sizes=None) -> int | None:
    """The sector size under which ``area`` looks like Zephyr NVS, or None (cheap: reads the
    first and close slots of each sector). Tries the erase page × 1, 2, 4, 8 by default."""
    try:
        page = area.device.layout.by_offset(area.offset).size
    except FlashError:
        return None
    cands = sector_sizes or [page * m for m in (1, 2, 4, 8)]
    w = area.align
    for s in cands:
        if s <= 0 or s > 0xFFFF or area.size // s < 2 or not 1 <= w <= 32:
            continue
        geo = Geometry(s, area.size // s, w, area.erased_val, 0)
        if _looks(area, geo):
            return s
    return None


def looks_like_nvs(area, sector_size: int | None = None) -> bool:
    """True when ``area`` plausibly holds Zephyr NVS: not every sector closed, every close slot
    erased or a CRC-correct 0xFFFF ATE, and at least one CRC-correct ATE in a first slot."""
    return detect_nvs(area, [sector_size] if sector_size else None) is not None


def _looks(area, geo: Geometry) -> bool:
    """Every close slot erased or a CRC-correct 0xFFFF ATE, not all sectors closed, and every
    sector holding anything has a valid ATE in its first slot (gc_done or a GC copy)."""
    closed = 0
    first_ok = False
    erased = bytes([geo.E]) * geo.S
    for s in range(geo.N):
        base = s * geo.S
        close_raw = area.read(base + geo.L, 8)
        if close_raw != geo.erased_ate:
            c = Ate.unpack(close_raw)
            if not (c.crc_ok and c.id == ID_MARKER and c.len == 0):
                return False
            closed += 1
        first = Ate.unpack(area.read(base + geo.F, 8))
        if geo.valid(first):
            first_ok = True
        elif area.read(base, geo.S) != erased:
            return False
    return first_ok and closed < geo.N
