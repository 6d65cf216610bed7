"""On-flash format of the AliOS-Things KV (docs/alios-kv.md §4): block and item headers,
states, CRC-8, record encoding.

Upstream: AliOS-Things ``components/kv/internal/kv_types.h`` @cbad6ec8 and
``components/kv/src/kv.c`` @8690e33f (``utils_crc8``, ``kv_item_store``).
"""

from __future__ import annotations

import struct

from .._crc8 import crc8_table, crc8_with

__all__ = [
    "BLK_MAGIC", "ITEM_MAGIC", "BLK_STATE_CLEAN", "BLK_STATE_USED", "BLK_STATE_DIRTY",
    "ITEM_STATE_NORMAL", "ITEM_STATE_DELETE", "BLK_HDR_SIZE", "STATE_OFFSET", "BLOCK_HEADER_CLEAN",
    "crc8", "align_up", "item_header_size", "encode_record", "decode_header", "BLOCK_STATE_NAMES",
    "read_block_state",
]

BLK_MAGIC = 0x4B            # 'K'
ITEM_MAGIC = 0x49           # 'I'
BLK_STATE_CLEAN = 0xEE
BLK_STATE_USED = 0xCC
BLK_STATE_DIRTY = 0x44
ITEM_STATE_NORMAL = 0xEE
ITEM_STATE_DELETE = 0x00
BLK_HDR_SIZE = 4
STATE_OFFSET = 1            # KV_STATE_OFFSET: the state byte of block and item headers
BLOCK_HEADER_CLEAN = bytes((BLK_MAGIC, BLK_STATE_CLEAN, 0, 0))
# keyed by the RAM state too, which is None for a block mount has not read (no name)
BLOCK_STATE_NAMES: dict[int | None, str] = {BLK_STATE_CLEAN: "CLEAN", BLK_STATE_USED: "USED", BLK_STATE_DIRTY: "DIRTY"}


_CRC8_TABLE = crc8_table(0x31)


def crc8(data, crc: int = 0) -> int:
    """CRC-8, polynomial 0x31, initial 0, MSB first, no final XOR (§4.5); ``crc8(b"123456789") == 0xA2``."""
    return crc8_with(_CRC8_TABLE, data, crc)


def align_up(n: int, align: int) -> int:
    return (n + align - 1) & ~(align - 1)


def item_header_size(pos32: bool) -> int:
    """8 bytes with 16-bit positions, 10 with 32-bit positions (§4.3)."""
    return 10 if pos32 else 8


_HDR16 = struct.Struct("<BBBBHH")
_HDR32 = struct.Struct("<BBBBHI")


def header_struct(pos32: bool) -> struct.Struct:
    """``(magic, state, crc, key_len, val_len, origin_off)`` layout of an item header."""
    return _HDR32 if pos32 else _HDR16


def encode_record(key: bytes, value: bytes, origin: int, *, pos32: bool, align: int) -> bytes:
    """The aligned record ``header || key || value || 00-padding`` in state NORMAL (§4.3)."""
    hdr = header_struct(pos32)
    body = key + value
    raw = hdr.pack(ITEM_MAGIC, ITEM_STATE_NORMAL, crc8(body), len(key), len(value), origin) + body
    return raw + bytes(align_up(len(raw), align) - len(raw))


def decode_header(data, pos32: bool) -> tuple[int, int, int, int, int, int]:
    """``(magic, state, crc, key_len, val_len, origin_off)`` from the first header bytes of ``data``."""
    return header_struct(pos32).unpack_from(data)


# Reserved bytes (header offsets 2..3) a block header holds unless an erase was cut: ``00 00``
# after a format, ``00 FF`` / ``FF FF`` when the format's 4-byte header program was cut after 3 /
# 2 bytes. A cut erase sets random bits of all four bytes, so any other pair means "partly erased".
_RESERVED_UNERASED = (b"\x00\x00", b"\x00\xff", b"\xff\xff")


def _partial(x: int, frm: int, to: int) -> bool:
    """``x`` lies strictly between ``frm`` and ``to`` of the bit-clearing program ``frm -> to``:
    it kept every 0 bit of ``frm``, kept every 1 bit of ``to``, and is neither endpoint."""
    return x & frm == x and x & to == to and x not in (frm, to)


def read_block_state(header) -> tuple[int | None, bool]:
    """How mount reads a 4-byte block header: ``(state, torn)``.

    ``state`` is CLEAN, USED or DIRTY, or None for an invalid header (mount formats the block).
    ``torn`` is True when the state byte is not a legal state but a 1-byte state program cut
    at bit level **[fs]** (the reference formats such a block): between CLEAN and USED
    (``EC``/``CE``) it reads CLEAN, so mount takes the KV-11 path (holds data: unclean; empty:
    mount completes the program to USED); any other byte between CLEAN or USED and DIRTY reads
    DIRTY. **[fs]** A header whose reserved bytes are not ``00 00`` (or ``00 FF`` / ``FF FF``,
    a format header program cut after 3 / 2 bytes) was partly erased by a cut erase and is
    invalid, whatever its state byte. Reasoning in :mod:`flashstack.kv.engine`.
    """
    if header[0] != BLK_MAGIC or bytes(header[2:4]) not in _RESERVED_UNERASED:
        return None, False  # no magic, or a partly erased header (cut erase): format the block
    st = header[1]
    if st in BLOCK_STATE_NAMES:
        return st, False
    if _partial(st, BLK_STATE_CLEAN, BLK_STATE_USED):
        return BLK_STATE_CLEAN, True
    if _partial(st, BLK_STATE_USED, BLK_STATE_DIRTY) or _partial(st, BLK_STATE_CLEAN, BLK_STATE_DIRTY):
        return BLK_STATE_DIRTY, True
    return None, False
