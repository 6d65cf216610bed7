"""Zephyr NVS in boardless ``inspect``: find stores in a raw image without a partition table.

NVS writes nothing at a sector's start: its allocation table grows down from the sector end,
so a sector is recognised by its last two ATE slots (close slot erased or a CRC-correct close
ATE, first slot a CRC-correct ATE), at every candidate sector size (1 KiB to 32 KiB). A store
is the first such sector and the NVS or erased sectors that follow it; it is decoded with the
registry's NVS kind on a private copy (the write block, which the bytes do not record, is the
first of 1, 2, 4, 8 under which the store reads healthy). Offsets are image-relative.
"""

from __future__ import annotations

from ..nvs.format import ATE_SIZE, Ate, Geometry

__all__ = ["find_nvs"]

_SECTOR_SIZES = (0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000)


def _nvs_sector(data: bytes, off: int, geo: Geometry) -> bool:
    close = data[off + geo.L:off + geo.L + ATE_SIZE]
    if close != geo.erased_ate and not geo.close_valid(Ate.unpack(close)):
        return False
    return geo.valid(Ate.unpack(data[off + geo.F:off + geo.F + ATE_SIZE]))


def _runs(data: bytes, s: int) -> list[tuple[int, int, int]]:
    """``(offset, sectors, erased sectors after the last NVS one)`` of each candidate store
    at sector size ``s``."""
    geo = Geometry(s, 1, 1, 0xFF, 0)
    erased = b"\xff" * s
    out: list[tuple[int, int, int]] = []
    off = 0
    while off + s <= len(data):
        if not _nvs_sector(data, off, geo):
            off += s
            continue
        end = last = off + s
        while end + s <= len(data) and (data[end:end + s] == erased or _nvs_sector(data, end, geo)):
            end += s
            if data[end - s:end] != erased:
                last = end
        out.append((off, (end - off) // s, (end - last) // s))
        off = end
    return out


def find_nvs(data: bytes) -> list[dict]:
    """Zephyr NVS stores in ``data``: ``{"offset", "sector_size", "sector_count",
    "erased_after", "write_block", "summary", "ids", "health"}`` each (see the module
    docstring). Without a partition table the store's end is unknown: ``sector_count`` counts
    its sectors up to the last one in use plus one erased sector (NVS keeps one free),
    ``erased_after`` the erased sectors that follow (they may belong to it)."""
    found: list[dict] = []
    taken: list[range] = []
    for s in reversed(_SECTOR_SIZES):   # the largest first: a smaller size inside it is its data
        for off, total, tail in _runs(data, s):
            n = min(total, max(total - tail + 1, 2))
            span = range(off, off + n * s)
            if n < 2 or any(span.start < r.stop and r.start < span.stop for r in taken):
                continue
            got = _decode(data[off:off + n * s], s)
            if got is not None:
                found.append({"offset": off, "sector_size": s, "sector_count": n,
                              "erased_after": total - n, **got})
                taken.append(span)
    return sorted(found, key=lambda f: f["offset"])


def _decode(region: bytes, s: int) -> dict | None:
    from ..device import SimulatedFlash
    from ..flash_map import FlashArea
    from ..stores import PartitionView, lookup

    kind = lookup("zephyr-nvs")
    best = None
    for w in (1, 2, 4, 8):
        dev = SimulatedFlash(len(region), erase_page_size=s, write_block_size=w,
                             allow_double_writes=True, name="nvs-scan")
        dev.restore(region)
        area = FlashArea(None, 0, len(region), dev, label="nvs-scan")
        view = PartitionView(area.name, region, area, erase_page=s, write_block=w)
        rep = kind.describe(view, {"type": kind.name, "config": {"sector_size": s}}, False)
        if rep is None or rep["nvs"]["verdict"] == "unmountable":
            continue
        got = {"write_block": w, "summary": rep["summary"], "ids": rep["nvs"]["ids"],
               "health": rep["health"]}
        if rep["nvs"]["verdict"] == "healthy":
            return got
        best = best or got
    return best
