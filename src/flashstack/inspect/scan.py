"""Boardless inspection: find known structures in one raw image without a partition table.

Looks, at every ``step``-byte boundary (1 KiB by default), for AliOS KV block headers
(``4B <state> 00 00`` followed by an item header or erased bytes), LLKERNEL slot headers
(USED/REMOVED status word at a 4 KiB boundary), littlefs superblocks and MCUboot image
headers, and reports their offsets. Runs of KV block headers at a constant stride are
grouped into candidate stores and decoded with the KV layer.
"""

from __future__ import annotations

import hashlib
import struct

from ..errors import InvalidArgument
from .analysis import byte_summary
from .littlefs import find_superblock, summarize_littlefs
from .mcuboot import IMAGE_MAGIC, parse_image
from .stores import LLK_REMOVED, LLK_USED, kv_block_header

__all__ = ["scan_image", "scan_file"]


def _kv_blocks(data: bytes, step: int) -> list[dict]:
    out = []
    for off in range(0, len(data) - 3, step):
        state = kv_block_header(data, off)
        if state is None:
            continue
        nxt = data[off + 4:off + 6]
        if nxt[:1] not in (b"I", b"\xff") and nxt != b"":
            continue   # a block header is followed by a record ('I') or erased bytes
        out.append({"offset": off, "state": state})
    return out


def _kv_groups(blocks: list[dict]) -> list[dict]:
    """Consecutive headers at one stride (the block size): candidate stores."""
    groups: list[dict] = []
    i = 0
    while i < len(blocks):
        start = blocks[i]["offset"]
        best = None
        for j in range(i + 1, len(blocks)):
            stride = blocks[j]["offset"] - start
            if stride & (stride - 1):
                continue
            n = 1
            while any(b["offset"] == start + n * stride for b in blocks):
                n += 1
            if n >= 2 and (best is None or stride < best[0]):
                best = (stride, n)
            break
        if best is None:
            i += 1
            continue
        stride, n = best
        groups.append({"offset": start, "block_size": stride, "blocks": n})
        end = start + n * stride
        while i < len(blocks) and blocks[i]["offset"] < end:
            i += 1
    return groups


def _decode_kv(data: bytes, group: dict) -> dict:
    """Mount a copy of the candidate store with the KV layer; keys and counts."""
    from ..device import SimulatedFlash
    from ..flash_map import FlashArea
    from .identify import PartitionView
    from .stores import probe_kv

    size = group["block_size"] * group["blocks"]
    dev = SimulatedFlash(size, erase_page_size=group["block_size"], allow_double_writes=True, name="kv-scan")
    dev.restore(data[group["offset"]:group["offset"] + size])
    area = FlashArea(None, 0, size, dev, label=f"kv@{group['offset']:#x}")
    hint = {"type": "alios-kv", "config": {"block_size": group["block_size"], "total_size": size}}
    try:
        rep = probe_kv(PartitionView(area.name, dev.snapshot(), area, erase_page=group["block_size"]), hint, False)
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}
    if rep is None:
        return {"error": "not decodable"}
    return {"summary": rep["summary"], "keys": rep["kv"]["keys"], "health": rep["health"]}


def _llk_slots(data: bytes, step: int = 4096) -> list[dict]:
    out = []
    for off in range(0, len(data) - 31, step):
        w = struct.unpack_from("<8I", data, off)
        if w[0] == LLK_USED:
            out.append({"offset": off, "status": "used", "nb_subsectors": w[1], "rom_address": w[2],
                        "rom_size": w[3], "ram_address": w[4], "ram_size": w[5], "feature_index": w[6],
                        "slot_address": w[2] - 32})
        elif w[0] == LLK_REMOVED:
            out.append({"offset": off, "status": "removed"})
    return out


def scan_image(data: bytes, step: int = 1024) -> dict:
    """Scan raw ``data`` (offsets relative to its start). See the module docstring."""
    kv_blocks = _kv_blocks(data, step)
    groups = _kv_groups(kv_blocks)
    for g in groups:
        g.update(_decode_kv(data, g))
    llk = _llk_slots(data)
    lfs, mcu = [], []
    for off in range(0, len(data) - 44, step):
        if data[off + 8:off + 16] == b"littlefs":
            sb = find_superblock(data[off:])
            pair = lfs and lfs[-1]["offset"] + lfs[-1]["block_size"] == off   # second copy of the pair
            if sb and not pair:
                info = summarize_littlefs(data[off:], sb)
                lfs.append({"offset": off, **{k: v for k, v in sb.items() if k != "found_at"},
                            "files": info.get("files"), "used_blocks": info.get("used_blocks")})
        if int.from_bytes(data[off:off + 4], "little") == IMAGE_MAGIC:
            img = parse_image(data[off:])
            if img is not None:
                mcu.append({"offset": off, "version": img.version, "image_size": img.image_size,
                            "hash_ok": img.hash_ok})
    found = []
    if groups:
        found.append(f"{len(groups)} AliOS KV store(s) at " + ", ".join(f"{g['offset']:#x}" for g in groups))
    if llk:
        found.append(f"{len(llk)} LLKERNEL slot header(s) at " + ", ".join(f"{s['offset']:#x}" for s in llk))
    if lfs:
        found.append(f"littlefs superblock at " + ", ".join(f"{s['offset']:#x}" for s in lfs))
    if mcu:
        found.append(f"MCUboot image at " + ", ".join(f"{s['offset']:#x}" for s in mcu))
    return {"board": None, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "summary": "; ".join(found) or "no known structure found",
            "kv_blocks": kv_blocks, "kv_stores": groups, "llkernel_slots": llk,
            "littlefs": lfs, "mcuboot": mcu, "bytes": byte_summary(data)}


def scan_file(path) -> dict:
    """:func:`scan_image` of a raw or Intel HEX file (HEX: offsets are absolute addresses,
    the image spans the lowest to the highest address, gaps erased)."""
    from .job import read_image_file

    raw, segments = read_image_file(path)
    base = 0
    if raw is None:
        if not segments:
            raise InvalidArgument(f"{path}: Intel HEX file holds no data")
        base = min(a for a, _ in segments)
        end = max(a + len(d) for a, d in segments)
        buf = bytearray(b"\xff" * (end - base))
        for a, d in segments:
            buf[a - base:a - base + len(d)] = d
        raw = bytes(buf)
    out = scan_image(raw)
    out["image"] = str(path)
    out["base_address"] = base
    if base:
        for key in ("kv_blocks", "kv_stores", "llkernel_slots", "littlefs", "mcuboot"):
            for item in out[key]:
                item["address"] = base + item["offset"]
    return out
