"""Zephyr NVS on-flash format: the ATE, its CRC-8, the data CRC and the derived geometry.

Upstream: zephyr subsys/fs/nvs/nvs_priv.h (8-byte packed ``struct nvs_ate``),
lib/crc/crc8_sw.c (``crc8_ccitt``), lib/crc/crc32_sw.c (``crc32_ieee``);
docs/zephyr-nvs.md §3, §4.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, NamedTuple

from .._crc8 import crc8_table, crc8_with
from ..errors import FlashError

__all__ = ["ATE_SIZE", "ID_MARKER", "DATA_CRC_SIZE", "BLOCK_SIZE", "crc8_ccitt", "ate_crc8", "data_crc",
           "Ate", "Geometry", "NVSConfig"]

ATE_SIZE = 8          # bytes of a packed ATE (before write-block padding)
ID_MARKER = 0xFFFF    # id of close and gc_done ATEs (reserved for data in flashstack, §15 item 5)
DATA_CRC_SIZE = 4     # CRC-32 appended to a value when data CRC is on
BLOCK_SIZE = 32       # NVS_BLOCK_SIZE: GC copy chunk and largest supported write block
_ATE = struct.Struct("<HHHBB")


_CRC8 = crc8_table(0x07)


def _field_table(pos: int, width: int) -> list[int]:
    """Contribution to the ATE CRC-8 of a ``width``-byte LE field at byte ``pos`` of the 7
    CRC'd bytes: the CRC is affine in its input bits, so ``crc = K ^ T_id ^ T_off ^ ...``."""
    size = 1 << (8 * width)
    zero = bytes(7)
    base = crc8_ccitt(zero)
    unit = []
    for bit in range(8 * width):
        b = bytearray(zero)
        b[pos:pos + width] = (1 << bit).to_bytes(width, "little")
        unit.append(crc8_ccitt(bytes(b)) ^ base)
    table = [0]
    for u in unit:              # table[v | 1 << bit] = table[v] ^ unit[bit]
        table += [t ^ u for t in table]
    assert len(table) == size
    return table


_TABLES: list[list[int]] = []
_ATE_CRC_BASE = 0


def _tables() -> list[list[int]]:
    global _ATE_CRC_BASE
    if not _TABLES:
        _TABLES.extend([_field_table(0, 2), _field_table(2, 2), _field_table(4, 2),
                        _field_table(6, 1)])
        _ATE_CRC_BASE = crc8_ccitt(bytes(7))
    return _TABLES


def crc_tables() -> tuple[list[int], list[int], list[int], list[int], int]:
    """``(T_id, T_offset, T_len, T_part, K)``: ``crc8 == K ^ T_id[id] ^ ... ^ T_part[part]``."""
    t = _TABLES or _tables()
    return t[0], t[1], t[2], t[3], _ATE_CRC_BASE


def ate_crc8(id: int, offset: int, len: int, part: int) -> int:
    """``crc8_ccitt(0xFF, ate, 7)`` of an ATE from its fields (table lookups, same value)."""
    t_id, t_off, t_len, t_part = _TABLES or _tables()
    return _ATE_CRC_BASE ^ t_id[id] ^ t_off[offset] ^ t_len[len] ^ t_part[part]


def crc8_ccitt(data: bytes, crc: int = 0xFF) -> int:
    """CRC-8, polynomial 0x07, MSB first, no reflection, no final XOR (spec §4.3).

    Zephyr ``crc8_ccitt(0xFF, ate, 7)``; ``crc8_ccitt(b"123456789") == 0xFB``.
    """
    return crc8_with(_CRC8, data, crc)


def data_crc(value: bytes) -> bytes:
    """The 4 little-endian bytes of CRC-32/IEEE over ``value`` (Zephyr ``crc32_ieee``)."""
    return struct.pack("<I", zlib.crc32(value) & 0xFFFFFFFF)


class Ate(NamedTuple):
    """One allocation table entry (spec §4.2). ``offset`` is relative to the ATE's sector."""

    id: int
    offset: int
    len: int
    part: int = 0xFF
    crc8: int | None = None   # None = computed when packed

    def pack(self) -> bytes:
        """The 8 on-flash bytes; the CRC-8 is computed unless given."""
        crc = self.crc8
        if crc is None:
            crc = ate_crc8(self.id, self.offset, self.len, self.part)
        return _ATE.pack(self.id, self.offset, self.len, self.part, crc)

    @classmethod
    def unpack(cls, raw: bytes) -> "Ate":
        """Parse 8 bytes (the stored CRC is kept in ``crc8``)."""
        return cls(*_ATE.unpack(bytes(raw[:8])))

    @property
    def crc_ok(self) -> bool:
        """The stored CRC-8 matches the first 7 bytes (True when no CRC was given)."""
        if self.crc8 is None:
            return True
        return self.crc8 == ate_crc8(self.id, self.offset, self.len, self.part)


def align_up(x: int, w: int) -> int:
    """``x`` rounded up to a multiple of ``w`` (a power of two; unchanged for ``w <= 1``)."""
    return x if w <= 1 else (x + w - 1) & ~(w - 1)


@dataclass(frozen=True)
class SectorConfig:
    """The choices every sector-log store has (NVS, ZMS): ``sector_size`` bytes (a multiple of
    the erase page at the area start; None: from the area at mount), ``sector_count`` (None:
    the whole area) and ``data_crc`` (a CRC after each value)."""

    sector_size: int | None = None
    sector_count: int | None = None
    data_crc: bool = False


def first_page_size(area, bad: Callable[[str], Exception]) -> int:
    """Size of the erase page at the start of ``area`` (bytes); ``bad(why)`` is raised when
    the device has no page there (NVS-1, ZMS-1)."""
    try:
        return area.device.layout.by_offset(area.offset).size
    except FlashError:
        raise bad(f"no erase page at device offset {area.offset:#x}") from None


def sector_count(area, s: int, count: int | None, bad: Callable[[str], Exception]) -> int:
    """The sector count: ``count``, or as many ``s``-byte sectors as ``area`` holds; ``bad(why)``
    is raised below two (NVS-1, ZMS-1)."""
    n = area.size // s if count is None else int(count)
    if n < 2:
        raise bad(f"sector count {n} (need at least 2 sectors of {s} bytes)")
    return n


def check_sector_boundaries(area, s: int, n: int, bad: Callable[[str], Exception]) -> None:
    """``bad(why)`` unless each of the ``n`` sectors of ``s`` bytes of ``area`` starts on an
    erase-page boundary (NVS-1, ZMS-1)."""
    layout = area.device.layout
    for i in range(1, n):
        if not layout.is_boundary(area.offset + i * s):
            raise bad(f"sector {i} at {i * s:#x} does not start on an erase-page boundary")


@dataclass(frozen=True)
class NVSConfig(SectorConfig):
    """What a user chooses (spec §3): :class:`SectorConfig` (``data_crc`` is
    CONFIG_NVS_DATA_CRC) and ``init_bad_region`` (CONFIG_NVS_INIT_BAD_REGION). All four are
    part of the on-flash format.
    """

    init_bad_region: bool = False


@dataclass(frozen=True)
class SectorGeometry:
    """What every sector-log geometry (NVS, ZMS) resolves to, in bytes."""

    S: int            # sector size
    N: int            # sector count
    W: int            # write block size
    E: int            # erase value

    def al(self, x: int) -> int:
        """``x`` rounded up to a multiple of the write block (unchanged for W <= 1)."""
        return align_up(x, self.W)


@dataclass(frozen=True)
class Geometry(SectorGeometry):
    """Resolved geometry with the derived sizes of spec §3 (all in bytes)."""

    C: int            # data CRC size (0 or 4)

    @cached_property
    def A(self) -> int:
        """ATE slot size: 8 rounded up to the write block."""
        return self.al(ATE_SIZE)

    @cached_property
    def L(self) -> int:
        """Offset of the close-ATE slot in a sector."""
        return self.S - self.A

    @cached_property
    def F(self) -> int:
        """Offset of the first ATE slot in a sector."""
        return self.S - 2 * self.A

    @cached_property
    def maxlen(self) -> int:
        """Largest value in bytes: S - 4A - C."""
        return self.S - 4 * self.A - self.C

    @cached_property
    def erased_ate(self) -> bytes:
        """An erased 8-byte ATE slot (erase value everywhere)."""
        return bytes([self.E]) * ATE_SIZE

    # --- validity rules (NVS-4) ----------------------------------------------
    def valid(self, a: Ate) -> bool:
        """CRC-8 matches and ``offset + len < S - A``."""
        return a.crc_ok and a.offset + a.len < self.L

    def close_valid(self, a: Ate) -> bool:
        """A usable close ATE: valid, len 0, id 0xFFFF, ``(S - offset) % A == 0``."""
        return (self.valid(a) and a.len == 0 and a.id == ID_MARKER
                and (self.S - a.offset) % self.A == 0)

    def is_gc_done(self, a: Ate) -> bool:
        """A valid gc_done ATE: id 0xFFFF, length 0 (§4.4)."""
        return a.id == ID_MARKER and a.len == 0 and self.valid(a)

    def to_json(self) -> dict:
        """The geometry for reports; sizes in bytes."""
        return {"sector_size": self.S, "sector_count": self.N, "write_block_size": self.W,
                "erase_value": self.E, "data_crc": bool(self.C), "ate_size": self.A,
                "max_value_size": self.maxlen}
