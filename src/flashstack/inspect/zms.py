"""Zephyr ZMS in ``inspect``: the partition probe and the boardless finder.

The probe recognises ZMS by its sector headers (empty ATEs with magic 0x42, version 1) and
takes the geometry from where they sit (:func:`flashstack.zms.scan.detect_zms`) unless the
build record gives it; every parameter reports its source. The store layer
(:func:`flashstack.zms.scan.scan`) decodes the partition on an in-memory copy: nothing is
written. Offsets are partition-relative (probe) or image-relative (boardless).
"""

from __future__ import annotations

import re

from ..errors import FlashError
from ._identify import PartitionView, _report

__all__ = ["find_zms", "probe_zms"]

# bytes 12..15 of an empty ATE: version 1, magic 0x42, ATE format 0 or 1
_META = re.compile(rb"\x01\x42[\x00\x01]\x00")


def _config(v: PartitionView, hint: dict | None) -> tuple[dict, dict] | None:
    from ..zms.scan import detect_zms

    cfg = (hint or {}).get("config") or {}
    if cfg.get("sector_size"):
        found = {k: cfg.get(k) for k in ("sector_size", "sector_count", "data_crc", "id_64bit")}
        found["sector_count"] = found["sector_count"] or len(v.data) // cfg["sector_size"]
        return found, {k: "build record" for k in found}
    det = detect_zms(v.area)
    if det is None:
        return None
    found = {"sector_size": det.sector_size, "sector_count": det.sector_count,
             "data_crc": det.data_crc, "id_64bit": det.id_64bit}
    where = f"{det.headers} sector header(s)"
    return found, {"sector_size": f"greatest common divisor of the ends of {where}",
                   "sector_count": "partition size / sector size",
                   "data_crc": "external entries carrying their CRC-32",
                   "id_64bit": "ATE-format field of the sector headers"}


def probe_zms(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    """Report of a ZMS partition, or None when no ZMS sector header is found."""
    from ..zms.scan import scan

    got = _config(v, hint)
    if got is None:
        return None
    cfg, sources = got
    try:
        res = scan(v.area, cfg["sector_size"], cfg["sector_count"], bool(cfg["data_crc"]),
                   bool(cfg["id_64bit"]))
    except FlashError as exc:
        return _report("zephyr-zms", f"Zephyr ZMS headers, geometry unusable: {exc}", [str(exc)])
    problems, warnings = [], []
    if res.verdict == "unmountable":
        problems.append(f"does not mount: {res.mount_error}")
    elif res.verdict == "damaged":
        problems.append("corrupt ATEs or data-CRC errors" + (": " + ", ".join(
            f"id {i:#x} {e}" for i, e in res.read_errors.items()) if res.read_errors else ""))
    elif res.verdict == "recoverable":
        warnings.append("mount repairs an interrupted operation: " + "; ".join(res.mount_notes))
    counts: dict = {}
    for a in res.ates:
        counts[a.state] = counts.get(a.state, 0) + 1
    explicit = bool(res.geometry["explicit_erase"])
    summary = (f"Zephyr ZMS: {len(res.items)} ids in {cfg['sector_count']} sectors of "
               f"{cfg['sector_size']} ({'NOR' if explicit else 'erase-less'}), free "
               f"{res.free_space if res.free_space is not None else '?'} B, {res.verdict}")
    if res.settings is not None:
        summary += f"; Settings: {len(res.settings)} names"
    out = {"config": {**cfg, "explicit_erase": explicit, "sources": {
               **sources, "explicit_erase": "device parameters"}},
           "verdict": res.verdict, "ids": sorted(res.items),
           "items": {str(i): val.hex() for i, val in sorted(res.items.items())},
           "free_bytes": res.free_space, "ate_counts": counts, "write_sector": res.write_sector,
           "sector_cycles": [s.cycle for s in res.sectors],
           "settings": None if res.settings is None else
           {k: val.hex() for k, val in res.settings.items()}}
    if details:
        out["scan"] = res.to_json()
    return _report("zephyr-zms", summary, problems, warnings, zms=out)


def find_zms(data: bytes) -> list[dict]:
    """ZMS stores in a raw image without a partition table. Sector headers (empty ATEs with
    magic 0x42) closer than 1 MiB form one candidate store; its sector size is the greatest
    common divisor of the distances between their ends. Each item has ``offset`` (store
    start), ``sector_size``, ``sectors`` (first to last header), ``headers``, the device kind
    chosen for decoding (erase-less when a cycle counter other than 1 is seen, since NOR
    sectors are erased before each start) and the decoded verdict, ids and Settings names. A
    lone header is reported at its own offset with ``sector_size`` None (one header does not
    tell the geometry).
    """
    import itertools
    import math

    from ..zms.format import Geometry

    found: list[tuple[int, int]] = []     # (header end, cycle)
    for m in _META.finditer(data):
        start = m.start() - 12
        if start < 0 or start % 16:
            continue
        g = Geometry(1 << 20, 1, 1, 0xFF, True, False, data[m.start() + 2] == 1)
        e = g.parse(data[start:start + 16])
        if g.empty_valid(e):
            found.append((start + 16, e.cycle))
    clusters: list[list[tuple[int, int]]] = []
    for end, cycle in found:
        if clusters and end - clusters[-1][-1][0] < (1 << 20):
            clusters[-1].append((end, cycle))
        else:
            clusters.append([(end, cycle)])
    out: list[dict] = []
    for cl in clusters:
        stride = 0
        for (a, _), (b, _) in itertools.pairwise(cl):
            stride = math.gcd(stride, b - a)
        if len(cl) == 1 or stride < 80:
            out.append({"offset": cl[0][0] - 16, "sector_size": None, "headers": len(cl),
                        "note": "sector header only: the sector size is not determined"})
            continue
        first = cl[0][0] - stride
        n = (cl[-1][0] - cl[0][0]) // stride + 1
        explicit = all(c == 1 for _, c in cl)
        item = {"offset": first, "sector_size": stride, "sectors": n, "headers": len(cl),
                "explicit_erase": explicit}
        item.update(_decode(data[first:first + n * stride], stride, explicit))
        out.append(item)
    return out


def _decode(blob: bytes, sector: int, explicit: bool) -> dict:
    """Summary of a candidate store (decoded on a copy; the image is not touched)."""
    from ..device import SimulatedFlash
    from ..flash_map import FlashArea
    from ..zms.scan import scan

    dev = SimulatedFlash(len(blob), erase_page_size=sector, allow_double_writes=True,
                         explicit_erase=explicit, name="zms-scan")
    dev.restore(blob)
    area = FlashArea(None, 0, len(blob), dev, label="zms")
    try:
        res = scan(area, sector, len(blob) // sector)
    except FlashError as exc:
        return {"error": str(exc)}
    return {"verdict": res.verdict, "ids": sorted(res.items),
            "settings": sorted(res.settings) if res.settings else None}
