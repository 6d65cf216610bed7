"""Build outputs: raw images, Intel HEX, the JSON build record; written all at once.

:func:`write_outputs` writes every file into a fresh temporary folder next to the output
folder and only then moves the files into place, so a failure leaves no partial output.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import InvalidArgument, NotSupported

__all__ = ["HEX_NAME", "RECORD_NAME", "hex_ranges", "hex_text", "import_intelhex", "write_outputs"]

RECORD_NAME = "build.json"
HEX_NAME = "image.hex"


def import_intelhex():
    """The ``intelhex`` module; NotSupported (ENOSYS) naming the extra when it is missing."""
    try:
        import intelhex
    except ImportError:
        raise NotSupported("Intel HEX needs intelhex: pip install 'flashstack[hex]'") from None
    return intelhex


def hex_ranges(image: bytes, pages: list[tuple[int, int]], erase_value: int) -> list[tuple[int, int]]:
    """Device-relative ``[start, end)`` ranges worth emitting: every erase page (``(offset,
    size)`` pairs) that is not entirely erased, adjacent pages merged."""
    out: list[tuple[int, int]] = []
    for start, size in pages:
        chunk = image[start:start + size]
        if chunk.count(erase_value) == len(chunk):
            continue
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], start + size)
        else:
            out.append((start, start + size))
    return out


def hex_text(segments: list[tuple[int, bytes]]) -> str:
    """``(absolute address, bytes)`` segments as the text of one Intel HEX file (32 data
    bytes per record, extended linear address records as needed, start address omitted)."""
    import io

    intelhex = import_intelhex()
    ih = intelhex.IntelHex()
    for address, data in segments:
        if address + len(data) > 1 << 32:
            raise InvalidArgument(f"Intel HEX: segment at {address:#x}+{len(data):#x} is past 4 GiB")
        ih.frombytes(data, offset=address)
    out = io.StringIO()
    ih.write_hex_file(out, write_start_addr=False, byte_count=32)
    return out.getvalue()


def write_outputs(out_dir: str | os.PathLike, files: dict[str, bytes | str]) -> list[Path]:
    """Write ``{file name: content}`` into ``out_dir`` atomically per file set.

    The files are first written into a temporary folder beside ``out_dir``; then each is
    moved into ``out_dir`` with ``os.replace``. Other files already in ``out_dir`` stay.
    Returns the final paths.
    """
    out = Path(out_dir)
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name or 'build'}.tmp-", dir=parent))
    try:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            (tmp / name).write_bytes(data)
        out.mkdir(parents=True, exist_ok=True)
        final = []
        for name in files:
            os.replace(tmp / name, out / name)
            final.append(out / name)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dumps_record(record: dict) -> str:
    """The build record as the text of ``build.json`` (indented JSON, key order kept)."""
    return json.dumps(record, indent=2, sort_keys=False) + "\n"


UF2_NAME = "image.uf2"
__all__ += ["UF2_NAME", "merge_base", "partition_segments", "read_hex_segments", "uf2_family_for"]


def read_hex_segments(path: str | os.PathLike) -> list[tuple[int, bytes]]:
    """``(absolute address, bytes)`` segments of an Intel HEX file. NotFound (ENOENT) when
    missing, InvalidArgument (EINVAL) naming the file when it is not valid HEX."""
    from ..errors import NotFound
    intelhex = import_intelhex()
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"base HEX {str(p)!r} not found")
    ih = intelhex.IntelHex()
    try:
        ih.loadhex(str(p))
    except (intelhex.IntelHexError, ValueError) as exc:
        raise InvalidArgument(f"{p}: not a valid Intel HEX file: {exc}") from None
    return [(s, ih.tobinstr(start=s, end=e - 1)) for s, e in ih.segments()]


def merge_base(segments: list[tuple[int, bytes]], base: list[tuple[int, bytes]], base_name: str = "base HEX"
               ) -> list[tuple[int, bytes]]:
    """The build's ``segments`` merged into the firmware's ``base`` segments (both absolute).
    Bytes both define must be equal: the first difference raises InvalidArgument (EINVAL)
    naming its address and ``base_name`` (docs/build-outputs.md OUT-3)."""
    for b_addr, b_data in base:
        b_end = b_addr + len(b_data)
        for s_addr, s_data in segments:
            lo, hi = max(b_addr, s_addr), min(b_end, s_addr + len(s_data))
            if lo >= hi:
                continue
            mine, theirs = s_data[lo - s_addr:hi - s_addr], b_data[lo - b_addr:hi - b_addr]
            if mine != theirs:
                at = lo + next(i for i in range(hi - lo) if mine[i] != theirs[i])
                raise InvalidArgument(f"{base_name}: byte at {at:#x} is {theirs[at - lo]:#04x} in the base "
                                      f"but {mine[at - lo]:#04x} in the build; refusing to merge overlapping "
                                      "data that differs")
    out: list[tuple[int, bytes]] = []
    for addr, data in sorted(base + segments):
        if out and out[-1][0] + len(out[-1][1]) >= addr:
            prev_addr, prev = out[-1]
            keep = prev[:addr - prev_addr]
            tail = prev[addr - prev_addr + len(data):]
            out[-1] = (prev_addr, keep + data + tail)
        else:
            out.append((addr, data))
    return out


def uf2_family_for(board_name: str, given: str | int | None) -> tuple[int, str]:
    """(family ID, where it came from): given, else the Raspberry Pi board name (rpi_pico →
    rp2040, rpi_pico2 → rp2350-arm-s); InvalidArgument (EINVAL) when neither says."""
    from ._uf2 import family_id
    if given is not None:
        return family_id(given), "given"
    name = board_name.lower()
    if "rpi_pico2" in name or "rp2350" in name:
        return family_id("rp2350-arm-s"), f"board {board_name}"
    if "rpi_pico" in name or "rp2040" in name:
        return family_id("rp2040"), f"board {board_name}"
    raise InvalidArgument(f"UF2 output for board {board_name}: give the family (--uf2-family rp2040, "
                          "rp2350-arm-s, ... or a number)")


def partition_segments(board, device_base: dict, images: dict[str, bytes], built: set[str]
                       ) -> list[tuple[int, bytes]]:
    """Absolute segments for UF2: every partition with content (``built`` labels) whole — so
    flashing replaces old data there — plus any other non-erased 256-byte page. InvalidArgument
    (EINVAL) for a device without an absolute address that has something to write."""
    segs: list[tuple[int, bytes]] = []
    for d in board.devices:
        img = images[d.name]
        base = device_base.get(d.name, d.base_address)
        ranges = [(p.offset, p.offset + p.size) for p in board.partitions
                  if p.device == d.name and p.name in built]
        ranges += hex_ranges(img, [(o, 256) for o in range(0, len(img), 256)], d.erase_value)
        if not ranges:
            continue
        if base is None:
            raise InvalidArgument(f"UF2 output needs an absolute address for device {d.name}; "
                                  f"add [devices.{d.name}] base_address = 0x...")
        for start, end in _union(ranges):
            segs.append((base + start, img[start:end]))
    return segs


def _union(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def extra_outputs(plan, images: dict[str, bytes], formats, hex_segments, outputs: dict, *,
                  uf2_family: str | int | None = None, base_hex: str | os.PathLike | None = None,
                  built: set[str] | None = None) -> tuple[dict[str, bytes], list[tuple[int, bytes]] | None]:
    """UF2 and the ``--base`` merge for :func:`flashstack.build.build`: returns (files to write,
    the HEX segments after merging the base) and notes both in ``outputs`` (the record).
    ``built``: labels of the partitions with content (default: those of ``plan``)."""
    from ._uf2 import uf2_bytes
    files: dict[str, bytes] = {}
    base = read_hex_segments(base_hex) if base_hex is not None else None
    if base is not None:
        if hex_segments is None and "uf2" not in formats:
            raise InvalidArgument("--base merges into the HEX or UF2 output: add --format hex or uf2")
        outputs["base"] = {"file": str(base_hex), "segments": len(base)}
        if hex_segments is not None:
            hex_segments = merge_base(hex_segments, base, str(base_hex))
    if "uf2" in formats:
        family, source = uf2_family_for(plan.board.name, uf2_family)
        if built is None:
            built = {p.label for p in plan.partitions if p.provider is not None}
        segs = partition_segments(plan.board, plan.manifest.device_base, images, built)
        if base is not None:
            segs = merge_base(segs, base, str(base_hex))
        erase = plan.board.devices[0].erase_value if plan.board.devices else 0xFF
        files[UF2_NAME] = uf2_bytes(segs, family, erase)
        outputs["uf2"] = {"file": UF2_NAME, "family_id": f"{family:#010x}", "family_source": source,
                          "blocks": len(files[UF2_NAME]) // 512}
    return files, hex_segments
