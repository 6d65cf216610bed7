"""Boardless inspection: find known structures in one raw image without a partition table.

Looks, at every ``step``-byte boundary (1 KiB by default), for AliOS KV block headers
(``4B <state> 00 00`` followed by an item header or erased bytes), LLKERNEL slot headers
(USED/REMOVED status word at a 4 KiB boundary), littlefs superblocks and MCUboot image
headers, and reports their offsets. Zephyr NVS stores are found by their sector ends
(:func:`flashstack.inspect.nvs.find_nvs`). Runs of KV block headers at a constant stride are
grouped into candidate stores and decoded with the KV layer; Zephyr ZMS sector headers are
found anywhere (16-byte grid) and grouped into stores (:func:`flashstack.inspect.zms.find_zms`).

An Intel HEX file is scanned window by window: segments closer than :data:`HEX_WINDOW_GAP`
are joined (gaps read as erased), windows further apart (e.g. internal flash at 0x0 and QSPI
at 0x90000000) are scanned separately, so a sparse address space is never materialised.
"""

from __future__ import annotations

import hashlib

from ..errors import InvalidArgument
from ..llkernel.header import HEADER_SIZE
from ..llkernel.header import USED_MAGIC as LLK_USED
from ..mcuboot.image import IMAGE_MAGIC, parse_image
from ..stores.kv import kv_block_header
from ..stores.llkernel import llkernel_headers
from .analysis import byte_summary, entropy
from .littlefs import find_superblock, summarize_littlefs

__all__ = ["scan_image", "scan_file", "HEX_WINDOW_GAP"]

#: HEX segments less than this many bytes apart are scanned as one erased-filled window.
HEX_WINDOW_GAP = 16 << 20
_FOUND = ("kv_blocks", "kv_stores", "llkernel_slots", "littlefs", "mcuboot", "zms_stores", "nvs_stores")


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
    from ..stores import PartitionView, lookup

    size = group["block_size"] * group["blocks"]
    dev = SimulatedFlash(size, erase_page_size=group["block_size"], allow_double_writes=True, name="kv-scan")
    dev.restore(data[group["offset"]:group["offset"] + size])
    area = FlashArea(None, 0, size, dev, label=f"kv@{group['offset']:#x}")
    hint = {"type": "alios-kv", "config": {"block_size": group["block_size"], "total_size": size}}
    view = PartitionView(area.name, data[group["offset"]:group["offset"] + size], area,
                         erase_page=group["block_size"])
    try:
        rep = lookup("alios-kv").describe(view, hint, False)
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}
    if rep is None:
        return {"error": "not decodable"}
    return {"summary": rep["summary"], "keys": rep["kv"]["keys"], "health": rep["health"]}


def _llk_slots(data: bytes, step: int = 4096) -> list[dict]:
    out = []
    for off, status, w in llkernel_headers(data, step):
        if status == LLK_USED:
            out.append({"offset": off, "status": "used", "nb_subsectors": w[1], "rom_address": w[2],
                        "rom_size": w[3], "ram_address": w[4], "ram_size": w[5], "feature_index": w[6],
                        "slot_address": w[2] - HEADER_SIZE})
        else:
            out.append({"offset": off, "status": "removed"})
    return out


def scan_image(data: bytes, step: int = 1024) -> dict:
    """Scan raw ``data`` (offsets relative to its start). See the module docstring.

    Returns ``{"board": None, "size", "sha256", "summary", "kv_blocks", "kv_stores",
    "llkernel_slots", "littlefs", "mcuboot", "bytes"}``; every item found has an ``offset``."""
    return _scan(data, step)


def _scan(data: bytes, step: int = 1024, erased_after: bool = False) -> dict:
    return _result(len(data), hashlib.sha256(data).hexdigest(), _find(data, step, erased_after),
                   byte_summary(data))


def _find(data: bytes, step: int, erased_after: bool = False) -> dict:
    """The structures found in ``data`` (see :data:`_FOUND`), offsets relative to its start.
    ``erased_after``: ``data`` is a HEX window, followed by at least HEX_WINDOW_GAP unprogrammed
    (erased) bytes, so a littlefs whose last blocks are erased still mounts."""
    kv_blocks = _kv_blocks(data, step)
    groups = _kv_groups(kv_blocks)
    for g in groups:
        g.update(_decode_kv(data, g))
    llk = _llk_slots(data)
    lfs: list[dict] = []
    mcu: list[dict] = []
    for off in range(0, len(data) - 44, step):
        if data[off + 8:off + 16] == b"littlefs":
            sb = find_superblock(data[off:])
            pair = lfs and lfs[-1]["offset"] + lfs[-1]["block_size"] == off   # second copy of the pair
            if sb and not pair:
                info = summarize_littlefs(_fs_bytes(data, off, sb, erased_after), sb)
                lfs.append({"offset": off, **{k: v for k, v in sb.items() if k != "found_at"},
                            "files": info.get("files"), "used_blocks": info.get("used_blocks")})
        if int.from_bytes(data[off:off + 4], "little") == IMAGE_MAGIC:
            img = parse_image(data[off:])
            if img is not None:
                mcu.append({"offset": off, "version": img.version, "image_size": img.image_size,
                            "hash_ok": img.hash_ok})
    from .nvs import find_nvs
    from .zms import find_zms
    return {"kv_blocks": kv_blocks, "kv_stores": groups, "llkernel_slots": llk, "littlefs": lfs,
            "mcuboot": mcu, "zms_stores": find_zms(data), "nvs_stores": find_nvs(data)}


def _result(size: int, sha256: str, found_items: dict, stats: dict) -> dict:
    groups, llk, lfs, mcu = (found_items[k] for k in ("kv_stores", "llkernel_slots", "littlefs", "mcuboot"))
    found = []
    if groups:
        found.append(f"{len(groups)} AliOS KV store(s) at " + ", ".join(f"{g['offset']:#x}" for g in groups))
    if llk:
        found.append(f"{len(llk)} LLKERNEL slot header(s) at " + ", ".join(f"{s['offset']:#x}" for s in llk))
    if lfs:
        found.append("littlefs superblock at " + ", ".join(f"{s['offset']:#x}" for s in lfs))
    if mcu:
        found.append("MCUboot image at " + ", ".join(f"{s['offset']:#x}" for s in mcu))
    zms = found_items.get("zms_stores") or []
    if zms:
        found.append("Zephyr ZMS at " + ", ".join(
            f"{z['offset']:#x}" + ("" if z["sector_size"] else " (sector header only)")
            for z in zms))
    nvs = found_items.get("nvs_stores") or []
    if nvs:
        found.append("Zephyr NVS at " + ", ".join(
            f"{n['offset']:#x} ({n['sector_count']} x {n['sector_size']})" for n in nvs))
    return {"board": None, "size": size, "sha256": sha256,
            "summary": "; ".join(found) or "no known structure found", **found_items, "bytes": stats}


def _fs_bytes(data: bytes, off: int, sb: dict, erased_after: bool) -> bytes:
    """The bytes of the littlefs at ``off``; past the end of a HEX window, erased bytes (up
    to HEX_WINDOW_GAP of them: the span known to be unprogrammed)."""
    want = sb["block_size"] * sb["block_count"]
    have = len(data) - off
    if erased_after and have < want <= have + HEX_WINDOW_GAP:
        return data[off:] + b"\xff" * (want - have)
    return data[off:]


def scan_file(path) -> dict:
    """:func:`scan_image` of a raw or Intel HEX file. HEX: the image spans the lowest to the
    highest address (``size``, gaps erased; ``sha256`` of that span), offsets are relative to
    the lowest address (``base_address``) and each item also gets its absolute ``address``.
    InvalidArgument (EINVAL) for a HEX file without data."""
    from .job import read_image_file

    raw, segments = read_image_file(path)
    base = 0
    if raw is not None:
        out = scan_image(raw)
    else:
        if not segments:
            raise InvalidArgument(f"{path}: Intel HEX file holds no data")
        windows = _hex_windows(segments)
        base = windows[0][0]
        out = _scan(windows[0][1], erased_after=True) if len(windows) == 1 else _scan_windows(windows)
    out["image"] = str(path)
    out["base_address"] = base
    if base:
        for key in _FOUND:
            for item in out[key]:
                item["address"] = base + item["offset"]
    return out


def _hex_windows(segments, erase_value: int = 0xFF) -> list[tuple[int, bytes]]:
    """``(start address, bytes)`` windows: segments closer than HEX_WINDOW_GAP joined, the
    gaps filled with the erase value."""
    windows: list[tuple[int, bytearray]] = []
    for addr, data in sorted(segments):
        if windows and addr - (windows[-1][0] + len(windows[-1][1])) < HEX_WINDOW_GAP:
            start, buf = windows[-1]
            gap = addr - (start + len(buf))
            buf += bytes([erase_value]) * max(gap, 0)
            buf[addr - start:addr - start + len(data)] = data
        else:
            windows.append((addr, bytearray(data)))
    return [(a, bytes(b)) for a, b in windows]


def _scan_windows(windows, erase_value: int = 0xFF) -> dict:
    """One report for windows far apart: items from each window (offsets relative to the first
    window's start), the SHA-256 of the whole span streamed with erased gaps, and byte figures
    of the span (``entropy`` over the windows' non-erased spans only, not the gaps)."""
    base = windows[0][0]
    found_items: dict = {k: [] for k in _FOUND}
    sha = hashlib.sha256()
    gap_chunk = bytes([erase_value]) * (1 << 20)
    first = last = None
    programmed = bytearray()
    pos = base
    for start, data in windows:
        for n in range(start - pos, 0, -len(gap_chunk)):
            sha.update(gap_chunk[:min(n, len(gap_chunk))])
        sha.update(data)
        pos = start + len(data)
        for key, items in _find(data, 1024, erased_after=True).items():
            for item in items:
                item["offset"] += start - base
            found_items[key].extend(items)
        stats = byte_summary(data, erase_value)
        if stats["first_non_erased"] is not None:
            first = stats["first_non_erased"] + start - base if first is None else first
            last = stats["last_non_erased"] + start - base
            programmed += data[stats["first_non_erased"]:stats["last_non_erased"] + 1]
    size = pos - base
    stats = {"entropy": round(entropy(programmed), 3), "first_non_erased": first, "last_non_erased": last,
             "erased_bytes": size - sum(len(d) - d.count(erase_value) for _, d in windows), "size": size}
    return _result(size, sha.hexdigest(), found_items, stats)
