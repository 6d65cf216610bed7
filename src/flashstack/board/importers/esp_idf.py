"""ESP-IDF partition tables: ``partitions.csv`` and the binary table (IM-3, IM-4).

Format source: ESP-IDF ``components/partition_table/gen_esp32part.py`` and the "Partition
Tables" chapter of the ESP-IDF programming guide. CSV columns ``Name, Type, SubType, Offset,
Size, Flags``; ``#`` starts a comment; sizes and offsets in decimal or hex with an optional
``K``/``M`` suffix; an empty offset follows the previous partition, aligned to 64 KiB for
``app`` partitions and 4 KiB otherwise; the first free offset is 0x9000 (the table sits at
0x8000 and takes 0x1000). Binary entries are 32 bytes: magic ``AA 50``, type, subtype,
offset (u32 LE), size (u32 LE), name (16 bytes, NUL padded), flags (u32 LE: bit 0 encrypted,
bit 1 readonly); an ``EB EB`` entry carries the MD5 of the entries before it; ``FF`` bytes
end the table (at most 0xC00 bytes).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import struct

from ...errors import InvalidArgument
from ..model import Board
from ..soc_layouts import KiB, MiB
from ._common import Row, board_from_rows

TABLE_OFFSET = 0x8000
TABLE_SIZE = 0xC00
ENTRY = struct.Struct("<2sBBII16sI")
MAGIC = b"\xaa\x50"
MD5_MAGIC = b"\xeb\xeb"

TYPES = {"app": 0x00, "data": 0x01, "bootloader": 0x02, "partition_table": 0x03}
SUBTYPES = {
    0x00: {"factory": 0x00, "test": 0x20, **{f"ota_{i}": 0x10 + i for i in range(16)}},
    0x01: {"ota": 0x00, "phy": 0x01, "nvs": 0x02, "coredump": 0x03, "nvs_keys": 0x04,
           "efuse": 0x05, "undefined": 0x06, "esphttpd": 0x80, "fat": 0x81, "spiffs": 0x82,
           "littlefs": 0x83},
    0x02: {"primary": 0x00, "ota": 0x01, "recovery": 0x02},
    0x03: {"primary": 0x00, "ota": 0x01},
}
FLAGS = {"encrypted": 1, "readonly": 2}
_LAYOUT = "ESP32 SPI flash 4 KiB sectors (ESP-IDF spi_flash, zephyr flash_esp32.c)"


def _int(text: str, what: str, where: str) -> int:
    t = text.strip().lower()
    m = re.fullmatch(r"(0x[0-9a-f]+|\d+)\s*([km]?)", t)
    if m is None:
        raise InvalidArgument(f"{where}: {what} {text.strip()!r} is not a number (decimal or 0x, "
                              "optional K/M)")
    return int(m.group(1), 0) * {"": 1, "k": KiB, "m": MiB}[m.group(2)]


def _named_byte(text: str, names: dict, what: str, where: str, known: str, of: str = "") -> int:
    """A field given by one of ``names`` or as a number in 0..0xfe (EINVAL naming ``where``)."""
    t = text.strip().lower()
    if t in names:
        return names[t]
    try:
        v = int(t, 0)
    except ValueError:
        raise InvalidArgument(f"{where}: unknown {what} {text.strip()!r}{of} (known: {known})") from None
    if not 0 <= v <= 0xFE:
        raise InvalidArgument(f"{where}: {what} {v:#x} outside 0..0xfe")
    return v


def _type(text: str, where: str) -> int:
    return _named_byte(text, TYPES, "partition type", where, f"{', '.join(TYPES)} or a number")


def _subtype(ptype: int, text: str, where: str) -> int:
    known = SUBTYPES.get(ptype, {})
    if text.strip() == "" and ptype not in SUBTYPES:
        return 0
    return _named_byte(text, known, "subtype", where, ", ".join(known) or "numbers only",
                       f" for type {ptype:#x}")


def load_csv(path, table_offset: int = TABLE_OFFSET) -> Board:
    """A board from ``partitions.csv`` (see the module docstring). Errors: InvalidArgument
    (EINVAL) naming ``file:line`` for a bad field, a duplicate name, a misaligned or
    overlapping partition."""
    path = os.fspath(path)
    rows: list[Row] = []
    next_free = table_offset + 0x1000
    with open(path, encoding="utf-8", errors="strict", newline="") as f:
        try:
            lines = f.read().splitlines()
        except UnicodeDecodeError as e:
            raise InvalidArgument(f"{path}: not UTF-8 text ({e.reason})") from None
    for no, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        where = f"{path}:{no}"
        fields = next(csv.reader([text], skipinitialspace=True))
        if len(fields) < 5 or len(fields) > 6:
            raise InvalidArgument(f"{where}: {len(fields)} fields; a row is Name, Type, SubType, "
                                  "Offset, Size[, Flags]")
        name, ptype_s, sub_s, off_s, size_s = (x.strip() for x in fields[:5])
        flags_s = fields[5].strip() if len(fields) == 6 else ""
        if not name or len(name.encode()) > 16:
            raise InvalidArgument(f"{where}: partition name {name!r} must be 1..16 bytes")
        ptype = _type(ptype_s, where)
        sub = _subtype(ptype, sub_s, where)
        align = 0x10000 if ptype == 0x00 else 0x1000
        offset = _int(off_s, "offset", where) if off_s else next_free + (-next_free % align)
        size = _int(size_s, "size", where)
        if offset % align:
            raise InvalidArgument(f"{where}: {name}: offset {offset:#x} is not aligned to "
                                  f"{align:#x}")
        if size <= 0:
            raise InvalidArgument(f"{where}: {name}: size must be positive")
        flags = 0
        for flag in filter(None, (x.strip() for x in flags_s.split(":"))):
            if flag not in FLAGS:
                raise InvalidArgument(f"{where}: unknown flag {flag!r} (known: {', '.join(FLAGS)})")
            flags |= FLAGS[flag]
        rows.append(_row(name, ptype, sub, offset, size, flags, no, where, rows))
        next_free = offset + size
    return _board(path, rows, "ESP-IDF partitions.csv")


def _row(name, ptype, sub, offset, size, flags, line, where, rows) -> Row:
    for r in rows:
        if r.name == name:
            raise InvalidArgument(f"{where}: partition name {name!r} already used on line {r.line}")
        if offset < r.offset + r.size and r.offset < offset + size:
            raise InvalidArgument(f"{where}: {name} ({offset:#x}+{size:#x}) overlaps {r.name} "
                                  f"(line {r.line})")
    label = f"{_type_name(ptype)}/{_subtype_name(ptype, sub)}"
    return Row(name, offset, size, "flash0", line, read_only=bool(flags & FLAGS["readonly"]),
               label=label, address=offset)


def _type_name(ptype: int) -> str:
    return next((k for k, v in TYPES.items() if v == ptype), f"{ptype:#04x}")


def _subtype_name(ptype: int, sub: int) -> str:
    return next((k for k, v in SUBTYPES.get(ptype, {}).items() if v == sub), f"{sub:#04x}")


def _board(path: str, rows: list[Row], what: str) -> Board:
    stem = os.path.basename(path).rsplit(".", 1)[0]
    return board_from_rows(stem, path, rows, page=4 * KiB, wbs=4, layout_source=_LAYOUT,
                           base={"flash0": 0}, description=f"imported from {what}")


def find_binary_table(path) -> int | None:
    """Offset of a binary partition table in ``path``: 0 (a ``partition-table.bin``) or
    0x8000 (a flash dump), None when neither starts with an entry magic."""
    with open(os.fspath(path), "rb") as f:
        for off in (0, TABLE_OFFSET):
            f.seek(off)
            if f.read(2) == MAGIC:
                return off
    return None


def load_binary(path, offset: int | None = None) -> Board:
    """A board from a binary partition table at ``offset`` of ``path`` (default: found by
    :func:`find_binary_table`). Errors: InvalidArgument (EINVAL) naming the file and the byte
    offset of a bad entry, and an MD5 entry that does not match."""
    path = os.fspath(path)
    if offset is None:
        offset = find_binary_table(path)
        if offset is None:
            raise InvalidArgument(f"{path}: no ESP-IDF partition table at 0x0 or {TABLE_OFFSET:#x}")
    with open(path, "rb") as f:
        f.seek(offset)
        blob = f.read(TABLE_SIZE)
    rows: list[Row] = []
    for i in range(0, len(blob) - ENTRY.size + 1, ENTRY.size):
        at = offset + i
        entry = blob[i:i + ENTRY.size]
        if entry == b"\xff" * ENTRY.size:
            break
        if entry[:2] == MD5_MAGIC:
            if entry[16:] != hashlib.md5(blob[:i]).digest():
                raise InvalidArgument(f"{path}: byte {at:#x}: partition table MD5 does not match")
            continue
        magic, ptype, sub, poff, psize, raw_name, flags = ENTRY.unpack(entry)
        if magic != MAGIC:
            raise InvalidArgument(f"{path}: byte {at:#x}: entry magic {magic.hex()} is not aa50")
        name = raw_name.split(b"\0", 1)[0].decode("utf-8", "replace")
        where = f"{path}: byte {at:#x}"
        if not name or psize == 0:
            raise InvalidArgument(f"{where}: entry without a name or size")
        rows.append(_row(name, ptype, sub, poff, psize, flags, i // ENTRY.size + 1, where, rows))
    return _board(path, rows, f"ESP-IDF binary partition table at {offset:#x}")
