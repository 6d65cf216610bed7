"""Probes for the storage formats: AliOS KV, Zephyr NVS (and Settings), LLKERNEL KF regions.

Each probe recognises its format from a few header bytes, infers the geometry when no hint
gives it, and then lets the store layer decode the partition (``flashstack.kv``,
``flashstack.nvs``, ``flashstack.llkernel``); no format is re-implemented here. A probe that
mounts a store does so on the inspector's private in-memory copy of the image, never on the
user's file. Offsets are partition-relative, addresses absolute.
"""

from __future__ import annotations

import struct

from ..errors import FlashError
from ..kv.format import BLK_MAGIC, BLOCK_STATE_NAMES
from ..llkernel.config import DEFAULT_RAM_SIZE
from ..llkernel.header import HEADER_SIZE, REMOVED_MAGIC, USED_MAGIC
from .identify import PartitionView, _report

__all__ = ["probe_kv", "probe_nvs", "probe_llkernel", "kv_block_size", "llkernel_geometry",
           "KV_STATES", "LLK_USED", "LLK_REMOVED"]

# the layers' own format constants, under the names this package exports
KV_STATES = BLOCK_STATE_NAMES
LLK_USED, LLK_REMOVED = USED_MAGIC, REMOVED_MAGIC


# --- AliOS KV ---------------------------------------------------------------------------
def kv_block_header(data: bytes, off: int) -> str | None:
    """State name of a valid KV block header at ``off`` ('K', state, 00 00), else None."""
    if off + 4 > len(data) or data[off] != BLK_MAGIC or data[off + 2:off + 4] != b"\0\0":
        return None
    return KV_STATES.get(data[off + 1])


def kv_block_size(data: bytes, min_block: int = 1024) -> tuple[int, int] | None:
    """Infer ``(block_size, blocks)``: the smallest power-of-two block size (>= ``min_block``)
    at which at least two consecutive blocks from offset 0 carry valid block headers."""
    if kv_block_header(data, 0) is None:
        return None
    b = max(16, min_block)
    while 2 * b <= len(data):
        n = 0
        while (n + 1) * b <= len(data) and n < 255 and kv_block_header(data, n * b):
            n += 1
        if n >= 2:
            return b, n
        b *= 2
    return None


def _kv_config(v: PartitionView, hint: dict | None):
    from ..kv.config import KVConfig

    cfg = (hint or {}).get("config") or {}
    if cfg.get("block_size") and cfg.get("total_size"):
        keys = ("total_size", "block_size", "max_key_len", "max_val_len", "align")
        return KVConfig(**{k: cfg[k] for k in keys if k in cfg}), "build record"
    geo = kv_block_size(v.data, min(v.erase_page or 4096, 4096))
    if geo is None:
        return None, None
    return KVConfig(total_size=geo[0] * geo[1], block_size=geo[0]), "inferred from block headers"


def _printable(key: bytes) -> str:
    text = key.decode("latin-1")
    return text if key.isascii() and text.isprintable() else "0x" + key.hex()


def probe_kv(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    if kv_block_header(v.data, 0) is None:
        return None
    cfg, source = _kv_config(v, hint)
    if cfg is None:
        return None
    from ..kv.scan import scan as kv_scan
    from ..kv.store import KVStore

    problems, warnings = [], []
    scan = None
    try:
        scan = kv_scan(v.area, cfg)   # read-only: blocks, records, duplicates, repairs, verdict
    except FlashError as exc:
        warnings.append(f"scan failed: {exc}")
    try:
        store = KVStore(v.area, cfg)
        store.mount(run_gc=False)   # the dump's blocks as they are: a pending GC is reported, not run
        items = store.items()
        stats = store.stats()
    except FlashError as exc:
        return _report("alios-kv", f"AliOS KV ({source}) that does not mount: {exc}", [str(exc)])
    health = _kv_health(scan)
    problems.extend(health.pop("errors", []))
    warnings.extend(health.pop("warnings", []))
    blocks = stats["blocks"]
    states = {}
    for b in blocks:
        states[b["state"]] = states.get(b["state"], 0) + 1
    garbage = sum(b["dead"] for b in blocks)
    free = sum(b["free"] for b in blocks if b["state"] != "CLEAN")
    summary = (f"AliOS KV: {len(items)} keys in {cfg.blocks} blocks of {cfg.block_size} "
               f"({', '.join(f'{n} {s}' for s, n in sorted(states.items()))}); live {stats['live_bytes']} B, "
               f"garbage {garbage} B, free {free} B")
    if health.get("verdict") not in (None, "ok"):
        figures = [f"{health[k]} {k.replace('_', ' ')}" for k in ("crc_failures", "torn", "duplicates")
                   if health.get(k)]
        summary += f"; {health['verdict']}" + (f" ({', '.join(figures)})" if figures else "")
    out = {"config": {"total_size": cfg.total_size, "block_size": cfg.block_size,
                      "max_key_len": cfg.max_key_len, "max_val_len": cfg.max_val_len,
                      "align": cfg.align, "source": source},
           "keys": [_printable(k) for k, _ in items],
           "items": {_printable(k): val.hex() for k, val in items},
           "stats": {"live_keys": stats["live_keys"], "live_bytes": stats["live_bytes"],
                     "garbage_bytes": garbage, "free_bytes": free, "blocks": blocks,
                     "write_pos": stats["write_pos"]},
           "health": health}
    if details and scan is not None:
        out["scan"] = scan.to_dict()
    return _report("alios-kv", summary, problems, warnings, kv=out)


def _kv_health(scan) -> dict:
    """Health figures from the KV layer's scan report (:func:`flashstack.kv.scan.scan`):
    records by status, CRC failures, duplicate keys, repairs mount would make, verdict."""
    if scan is None:
        return {}
    statuses: dict[str, int] = {}
    for r in scan.records:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    health = {"verdict": scan.verdict, "records": len(scan.records), "by_status": statuses,
              "crc_failures": sum(1 for r in scan.records if r.state == 0xEE and not r.crc_ok),
              "torn": statuses.get("torn", 0), "duplicates": len(scan.duplicates),
              "corrupt_areas": len(scan.corrupt), "mount_operations": len(scan.mount_ops),
              "gc_would_run": scan.gc_would_run}
    errors = list(scan.problems) if scan.verdict == "data loss" else []
    warnings = list(scan.problems) if scan.verdict != "data loss" else []
    health["errors"], health["warnings"] = errors, warnings
    return health


# --- Zephyr NVS -------------------------------------------------------------------------
def probe_nvs(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    from ..nvs.scan import detect_nvs, scan

    cfg = (hint or {}).get("config") or {}
    sector = detect_nvs(v.area, [cfg["sector_size"]] if cfg.get("sector_size") else None)
    if sector is None:
        return None
    count = cfg.get("sector_count") or len(v.data) // sector
    res = scan(v.area, sector, count, data_crc=bool(cfg.get("data_crc", False)))
    problems, warnings = [], []
    if res.verdict == "unmountable":
        problems.append(f"does not mount: {res.mount_error}")
    elif res.verdict == "damaged":
        problems.append("corrupt ATEs or data-CRC errors: " + ", ".join(
            f"id {i:#x} {e}" for i, e in res.read_errors.items()) if res.read_errors else "corrupt ATEs")
    elif res.verdict == "recoverable":
        warnings.append("mount repairs an interrupted operation: " + "; ".join(res.mount_notes))
    counts: dict = {}
    for a in res.ates:
        counts[a.state] = counts.get(a.state, 0) + 1
    summary = (f"Zephyr NVS: {len(res.items)} ids in {count} sectors of {sector}, "
               f"free {res.free_space if res.free_space is not None else '?'} B, {res.verdict}")
    if res.settings is not None:
        summary += f"; Settings: {len(res.settings)} names"
    out = {"config": {"sector_size": sector, "sector_count": count,
                      "data_crc": bool(cfg.get("data_crc", False))},
           "verdict": res.verdict, "ids": sorted(res.items), "items": {str(i): val.hex() for i, val in sorted(res.items.items())},
           "free_bytes": res.free_space, "ate_counts": counts, "write_sector": res.write_sector,
           "settings": None if res.settings is None else {k: val.hex() for k, val in res.settings.items()}}
    if details:
        out["scan"] = res.to_dict()
    return _report("zephyr-nvs", summary, problems, warnings, nvs=out)


# --- LLKERNEL ---------------------------------------------------------------------------
def llkernel_headers(data: bytes, subsector: int) -> list[tuple[int, int, tuple]]:
    """``(offset, status, fields)`` of every subsector start holding a USED/REMOVED status."""
    out = []
    for off in range(0, len(data) - HEADER_SIZE + 1, subsector):
        words = struct.unpack_from("<8I", data, off)
        if words[0] in (LLK_USED, LLK_REMOVED):
            out.append((off, words[0], words))
    return out


def llkernel_geometry(size: int, subsector: int, headers, base: int | None,
                      max_features: int | None = None) -> tuple[int | None, int]:
    """Infer (kf_start, N). kf_start: ``base`` or from a USED header's ``rom_address`` (slot
    start + 32, the header size). N: the given one, else the smallest N whose slot starts hold every header
    (with one header, 16 — the MicroEJ default — when it fits); among the N that give the same
    slot size, the largest."""
    if base is None:
        for off, status, w in headers:
            if status == LLK_USED:
                base = w[2] - HEADER_SIZE - off
                break
    if max_features:
        return base, max_features
    offsets = [off for off, _, _ in headers]
    def fits(n):
        slot = (size // subsector // n) * subsector
        return slot >= subsector and all(o % slot == 0 and o // slot < n for o in offsets)
    if len(offsets) < 2 and fits(16):
        return base, 16
    subs = size // subsector
    for n in range(1, subs + 1):
        if fits(n):
            # every N with the same slot size reads the same: take the one that fills the region
            return base, subs // (subs // n)
    return base, 16


def probe_llkernel(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    sub = v.erase_page or 4096
    first = struct.unpack_from("<I", v.data, 0)[0] if len(v.data) >= 4 else None
    if first not in (LLK_USED, LLK_REMOVED) and not (hint and hint.get("type") == "llkernel"):
        return None
    cfg = (hint or {}).get("config") or {}
    headers = llkernel_headers(v.data, sub)
    base = cfg.get("kf_start") or v.address
    base, n = llkernel_geometry(len(v.data), sub, headers, base, cfg.get("max_features"))
    if base is None or base <= 0:
        base = 0x1000 * ((max(sub, 0x1000) + 0xFFF) // 0x1000)   # scan only: any valid start works
        note = "absolute address unknown; addresses shown relative to a nominal start"
    else:
        note = None
    from ..llkernel.store import FeatureStore

    try:
        store = FeatureStore(v.area, base, max_features=n, kf_size=cfg.get("kf_size"),
                             ram_base=cfg.get("ram_buffer_address"),
                             ram_size=cfg.get("ram_buffer_size") or DEFAULT_RAM_SIZE,
                             ram_align=cfg.get("ram_align") or 256)
        features = [f.to_json() for f in store.features()]
        scan = store.scan()
    except FlashError as exc:
        return _report("llkernel", f"LLKERNEL KF region that cannot be read: {exc}", [str(exc)])
    anomalies = [a.to_json() for a in scan.all_anomalies()]
    errors = [a["message"] for a in anomalies if a["severity"] == "error"]
    warnings = [a["message"] for a in anomalies if a["severity"] == "warning"]
    removed = sum(1 for s in scan.slots if s.state == "removed")
    summary = (f"LLKERNEL KF region: {len(features)} features in {n} slots of "
               f"{store.slot_size // 1024} KiB ({removed} removed, {n - len(features) - removed} free)")
    out = {"config": {**store.config.to_json(), "source": "build record" if cfg else "inferred"},
           "features": features, "removed_slots": [s.slot for s in scan.slots if s.state == "removed"],
           "anomalies": anomalies}
    if note:
        out["note"] = note
    if details:
        out["scan"] = scan.to_json()
    return _report("llkernel", summary, errors, warnings, llkernel=out)
