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

__all__ = ["RECORD_NAME", "HEX_NAME", "hex_ranges", "hex_text", "write_outputs", "import_intelhex"]

RECORD_NAME = "build.json"
HEX_NAME = "image.hex"


def import_intelhex():
    """The ``intelhex`` module; NotSupported (ENOSYS) naming the extra when it is missing."""
    try:
        import intelhex  # noqa: PLC0415 - optional extra, imported lazily
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
