"""Bulk checks over runs of 8-byte NVS ATE slots, for mount (spec/zephyr-nvs.md §7, §8, NVS-24).

A mount of a 16 MiB store meets about 420,000 ATEs; checking each in Python costs seconds.
Here every per-slot test is done on whole runs at once: a byte column of the slots
(``blob[i::8]``) goes through ``bytes.translate`` and the columns are combined as big
integers, one byte (or one 64-bit lane) per slot, so no Python code runs per ATE. Every
function answers exactly what the slot-by-slot test (``Geometry.valid``, ``Ate.crc_ok``)
answers, slot for slot; ``tests/nvs/test_nvs_bulk.py`` checks them against it.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass

from .format import ATE_SIZE, crc_tables

__all__ = ["SlotFlags", "slot_flags", "fields", "ones", "misaligned", "windows", "close_count"]

_LITTLE = sys.byteorder == "little"
_TABLES: list[bytes] = []
_ONE_IF_ZERO = bytes([1]) + bytes(255)           # translate: 0 -> 1, anything else -> 0
_ONE_IF_NONZERO = bytes([0]) + bytes([1]) * 255


def _crc_byte_tables() -> list[bytes]:
    """Per byte position 0..6 of an ATE: the CRC-8 contribution of each byte value (the CRC
    is affine, so ``crc = K ^ T0[b0] ^ ... ^ T6[b6]``)."""
    if not _TABLES:
        t_id, t_off, t_len, t_part, _ = crc_tables()
        for field in (t_id, t_off, t_len):
            _TABLES.append(bytes(field[v] for v in range(256)))
            _TABLES.append(bytes(field[v << 8] for v in range(256)))
        _TABLES.append(bytes(t_part[v] for v in range(256)))
    return _TABLES


def _int(b: bytes | bytearray) -> int:
    return int.from_bytes(b, "little")


def ones(n: int) -> int:
    """``n`` lanes of one byte, each 1."""
    return _int(b"\x01" * n)


@dataclass
class SlotFlags:
    """Per-slot flags of a run of ``n`` slots, one byte each (1 = true), as big integers
    (byte ``j`` = slot ``j``): ``crc_ok`` (stored CRC-8 matches), ``in_range`` (``offset +
    len < L``), ``valid`` (both: NVS-4), ``data`` (valid, ``len > 0``, id not 0xFFFF)."""

    n: int
    crc_ok: int
    in_range: int
    valid: int
    data: int
    marker: int = 0      # id 0xFFFF
    has_len: int = 0     # len > 0

    @staticmethod
    def count(flags: int, n: int) -> int:
        """How many of the ``n`` lanes of ``flags`` are 1."""
        return flags.to_bytes(n, "little").count(1)

    def as_bytes(self, flags: int) -> bytes:
        return flags.to_bytes(self.n, "little")


def slot_flags(slab: bytes, L: int) -> SlotFlags:
    """Flags of the 8-byte slots in ``slab`` (``len(slab)`` a multiple of 8) for a sector
    whose close slot is at ``L``."""
    n = len(slab) // ATE_SIZE
    if not n:
        return SlotFlags(0, 0, 0, 0, 0)
    tabs = _crc_byte_tables()
    _, _, _, _, k = crc_tables()
    x = _int(bytes([k]) * n) ^ _int(slab[7::8])
    for i, tab in enumerate(tabs):
        x ^= _int(slab[i::8].translate(tab))
    crc_ok = _int(x.to_bytes(n, "little").translate(_ONE_IF_ZERO))
    # offset + len >= L, in 32-bit lanes (offset and len are 16-bit: the sum fits 17 bits)
    off, ln = bytearray(4 * n), bytearray(4 * n)
    off[0::4], off[1::4] = slab[2::8], slab[3::8]
    ln[0::4], ln[1::4] = slab[4::8], slab[5::8]
    over = (_int(off) + _int(ln) + _int(((1 << 16) - L).to_bytes(4, "little") * n)).to_bytes(4 * n, "little")[2::4]
    in_range = _int(over.translate(_ONE_IF_ZERO))
    valid = crc_ok & in_range
    has_len = _int(slab[4::8].translate(_ONE_IF_NONZERO)) | _int(slab[5::8].translate(_ONE_IF_NONZERO))
    marker = _int(slab[0::8].translate(_FF)) & _int(slab[1::8].translate(_FF))
    data = valid & has_len & ~marker
    return SlotFlags(n, crc_ok, in_range, valid, data, marker, has_len)


_FF = bytes(255) + b"\x01"                       # translate: 0xFF -> 1


def fields(slab: bytes) -> tuple[array, array, array]:
    """``(ids, offsets, lens)`` of the slots of ``slab`` as arrays of unsigned 16-bit ints."""
    a = array("H", slab)
    if not _LITTLE:
        a.byteswap()
    return a[0::4], a[1::4], a[2::4]


def misaligned(slab: bytes, w: int) -> int:
    """Lanes (one byte per slot) set where the slot's offset is not a multiple of ``w``
    (a power of two up to 256)."""
    tab = bytes(1 if v & (w - 1) else 0 for v in range(256))
    return _int(slab[2::8].translate(tab))


def windows(image: bytes, start: int, stride: int, count: int) -> bytes:
    """The 8-byte windows at ``start + k * stride`` (``k < count``; ``start`` and ``stride``
    multiples of 8, ``len(image)`` too), concatenated."""
    q = memoryview(image).cast("Q")
    return q[start // 8:start // 8 + count * (stride // 8):stride // 8].tobytes()


def close_usable(slab: bytes, T: int, A: int) -> tuple[bytes, array]:
    """For the close slots in ``slab`` (one 8-byte slot per sector of ``T`` bytes with ATE
    slots of ``A``): a byte per sector, 1 when its close ATE is usable (Geometry.close_valid:
    valid, id 0xFFFF, len 0, ``(T - offset) % A == 0``), and the recorded offsets."""
    n = len(slab) // ATE_SIZE
    f = slot_flags(slab, T - A)
    ok = f.valid & f.marker & ~f.has_len & ~misaligned(slab, A) & ones(n) if n else 0
    return ok.to_bytes(n, "little"), fields(slab)[1]


def close_count(image: bytes, T: int, A: int) -> int:
    """How many ``T``-byte sectors of ``image`` hold a close ATE that NVS with sector size
    ``T`` and ATE slots of ``A`` bytes accepts in their close slot, leaving out offset 0:
    a close ATE records the lowest ATE slot, never 0, while a gc_done ATE in slot F of a
    sector that started empty (a close ATE's twin) records offset 0."""
    n = len(image) // T
    if n < 1 or T % 8 or A % 8 or T % A:
        return 0
    slab = windows(image, T - A, T, n)
    usable, offsets = close_usable(slab, T, A)
    return sum(1 for u, o in zip(usable, offsets) if u and o)
