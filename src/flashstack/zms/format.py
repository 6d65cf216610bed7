"""Zephyr ZMS on-flash format: the 16-byte ATE (two id formats), its CRC-8, the geometry.

Upstream: zephyr subsys/fs/zms/zms_priv.h @078f92a4 (packed ``struct zms_ate``, version 1,
magic 0x42, ATE-format field), lib/crc (``crc8_ccitt``, ``crc32_ieee``); docs/zephyr-zms.md
"On-flash format". The CRC-8 is the one NVS uses, imported from :mod:`flashstack.nvs.format`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from ..nvs.format import SectorConfig, SectorGeometry, crc8_ccitt

__all__ = [
    "ATE_SIZE",
    "BLOCK_SIZE",
    "HEAD_ID_32",
    "HEAD_ID_64",
    "MAGIC",
    "VERSION",
    "Ate",
    "Geometry",
    "ZMSConfig",
    "crc8_ccitt",
    "data_crc32",
]

ATE_SIZE = 16         # bytes of a packed ATE before write-block padding
BLOCK_SIZE = 32       # ZMS_BLOCK_SIZE: GC copy chunk, largest write block
VERSION = 1           # ZMS_DEFAULT_VERSION
MAGIC = 0x42          # ZMS_MAGIC_NUMBER
HEAD_ID_32 = 0xFFFFFFFF
HEAD_ID_64 = 0xFFFFFFFFFFFFFFFF
EMPTY_LEN = 0xFFFF    # len of the empty ATE
_A32 = struct.Struct("<BBHI8s")
_A64 = struct.Struct("<BBHQ4s")


def _position_tables() -> tuple[int, list[bytes]]:
    """CRC-8 of 15 bytes is affine: ``crc = C ^ T[0][b0] ^ ... ^ T[14][b14]``."""
    const = crc8_ccitt(bytes(15))
    tables = [bytes(crc8_ccitt(bytes(i) + bytes([b]) + bytes(14 - i), 0) for b in range(256))
              for i in range(15)]
    return const, tables


_CRC_CONST, _CRC_TABLES = _position_tables()


def crc8_slots(blob: bytes, first: int, count: int, step: int) -> bytes:
    """The CRC-8 (over bytes 1..15) of ``count`` ATE slots of ``blob`` starting at ``first``,
    ``step`` bytes apart, all at once (one ``bytes.translate`` per byte position); equal to
    ``crc8_ccitt`` of each slot. Mount's hot loop."""
    if count <= 0:
        return b""
    span = (count - 1) * step + 1
    acc = int.from_bytes(bytes([_CRC_CONST]) * count, "big")
    for i, table in enumerate(_CRC_TABLES):
        col = blob[first + 1 + i:first + 1 + i + span:step]
        acc ^= int.from_bytes(col.translate(table), "big")
    return acc.to_bytes(count, "big")


def header_offsets(image: bytes, wide: bool) -> list[int]:
    """Offsets of the ZMS sector headers in ``image``: 16-byte-aligned well-formed empty ATEs
    (ZMS-5) whose metadata carries magic 0x42, version 1 and the ATE format of ``wide``.
    Candidates are found by their magic byte (offset 13 in both id formats), so the cost is
    a search, not a parse per slot."""
    g = Geometry(16, 1, 1, 0xFF, True, False, wide)
    col = image[13:len(image) - len(image) % ATE_SIZE:ATE_SIZE]
    out = []
    i = col.find(MAGIC)
    while i >= 0:
        off = i * ATE_SIZE
        e = g.parse(image[off:off + ATE_SIZE])
        if g.empty_valid(e) and e.word2 & 0xFF == VERSION and g.meta_format(e) == int(wide):
            out.append(off)
        i = col.find(MAGIC, i + 1)
    return out


def data_crc32(value: bytes) -> int:
    """CRC-32/IEEE of ``value`` (Zephyr ``crc32_ieee``), as an int."""
    return zlib.crc32(value) & 0xFFFFFFFF


class Ate(NamedTuple):
    """One ATE as its fields (ZMS-4). ``tail`` is the last 8 bytes (32-bit ids) or 4 bytes
    (64-bit ids): an inline value, or ``offset`` (+ ``data_crc`` / ``metadata``)."""

    crc8: int
    cycle: int
    len: int
    id: int
    tail: bytes
    wide: bool = False          # 64-bit id format

    @property
    def crc_ok(self) -> bool:
        """CRC-8 of bytes 1..15 equals byte 0."""
        return crc8_ccitt(self.pack()[1:]) == self.crc8

    @property
    def offset(self) -> int:
        """The u32 data offset (external entries, close and gc_done ATEs)."""
        t = self.tail
        return int.from_bytes(t[:4], "little")

    @property
    def word2(self) -> int:
        """Bytes 12..15 of a 32-bit-id ATE (data CRC or metadata); the union field of 64-bit."""
        return int.from_bytes(self.tail[-4:], "little")

    def pack(self) -> bytes:
        """The 16 bytes as stored (the CRC-8 as held in ``crc8``)."""
        st = _A64 if self.wide else _A32
        return st.pack(self.crc8, self.cycle, self.len, self.id, self.tail)

    def sealed(self) -> Ate:
        """The same entry with its CRC-8 recomputed."""
        raw = self.pack()
        return self._replace(crc8=crc8_ccitt(raw[1:]))

    @classmethod
    def unpack(cls, raw: bytes, wide: bool = False) -> Ate:
        """Parse the first 16 bytes of ``raw``."""
        st = _A64 if wide else _A32
        return cls._make((*st.unpack_from(raw), wide))

    @classmethod
    def build(cls, id: int, length: int, cycle: int, tail: bytes, wide: bool) -> Ate:
        """An entry with its CRC-8 computed."""
        raw = (_A64 if wide else _A32).pack(0, cycle, length, id, tail)
        return cls(crc8_ccitt(raw[1:]), cycle, length, id, tail, wide)


@dataclass(frozen=True)
class ZMSConfig(SectorConfig):
    """What a user chooses (spec §3): :class:`~flashstack.nvs.format.SectorConfig` sizes
    (None: from the area at mount), ``data_crc`` (CONFIG_ZMS_DATA_CRC) and ``id_64bit``
    (CONFIG_ZMS_ID_64BIT), format options; ``no_double_write`` (CONFIG_ZMS_NO_DOUBLE_WRITE)
    only changes behaviour.
    """

    id_64bit: bool = False
    no_double_write: bool = False


@dataclass(frozen=True)
class Geometry(SectorGeometry):
    """Resolved geometry (:class:`~flashstack.nvs.format.SectorGeometry`: S, N, W, E) and
    format options (all sizes in bytes)."""

    X: bool               # explicit erase needed (NOR); False on RRAM/MRAM-like devices
    data_crc: bool = False
    wide: bool = False    # 64-bit ids

    @cached_property
    def A(self) -> int:
        """ATE slot size: 16 rounded up to the write block."""
        return self.al(ATE_SIZE)

    @cached_property
    def I(self) -> int:  # noqa: E743 - the spec's own name for the inline capacity
        """Inline capacity: 8 bytes (4 with 64-bit ids)."""
        return 4 if self.wide else 8

    @cached_property
    def head(self) -> int:
        """The all-ones id of header ATEs."""
        return HEAD_ID_64 if self.wide else HEAD_ID_32

    @cached_property
    def maxlen(self) -> int:
        """Largest value: ``min(S - 5A, 65535)``."""
        return min(self.S - 5 * self.A, 0xFFFF)

    @cached_property
    def chunk(self) -> int:
        """GC copy chunk: ZMS_BLOCK_SIZE rounded down to the write block."""
        return BLOCK_SIZE - BLOCK_SIZE % self.W if self.W > 1 else BLOCK_SIZE

    @cached_property
    def metadata(self) -> int:
        """Metadata of the empty ATE: version | magic << 8 | ATE format << 16."""
        return VERSION | MAGIC << 8 | (1 if self.wide else 0) << 16

    @cached_property
    def erased_ate(self) -> bytes:
        """16 bytes of the erase value."""
        return bytes([self.E]) * ATE_SIZE

    # --- ATE kinds (ZMS-4, ZMS-5) ---------------------------------------------------
    def entry(self, id: int, value: bytes, cycle: int, offset: int) -> Ate:
        """A data or delete entry; ``offset`` is used for external values only."""
        n = len(value)
        size = 4 if self.wide else 8
        if 0 < n <= self.I:
            tail = value + bytes(size - n)
        elif n > self.I:
            crc = data_crc32(value) if self.data_crc and not self.wide else 0
            tail = offset.to_bytes(4, "little") + (b"" if self.wide else crc.to_bytes(4, "little"))
        else:
            tail = bytes(size)
        return Ate.build(id, n, cycle, tail, self.wide)

    def marker(self, offset: int, cycle: int) -> Ate:
        """A close or gc_done ATE: fields 0xFF, id HEAD, len 0, ``offset``."""
        tail = offset.to_bytes(4, "little") + (b"" if self.wide else b"\xff" * 4)
        return Ate.build(self.head, 0, cycle, tail, self.wide)

    def empty(self, cycle: int) -> Ate:
        """The empty ATE of a sector started with ``cycle``."""
        tail = (bytes(4) if not self.wide else b"") + self.metadata.to_bytes(4, "little")
        return Ate.build(self.head, EMPTY_LEN, cycle, tail, self.wide)

    @property
    def unpack_from(self):
        """``struct.unpack_from`` of this id format (fields without ``wide``)."""
        return (_A64 if self.wide else _A32).unpack_from

    def parse(self, raw: bytes) -> Ate:
        """The ATE in ``raw`` (16 bytes) in this geometry's id format."""
        return Ate.unpack(raw, self.wide)

    def valid(self, a: Ate, cycle: int) -> bool:
        """ZMS-4 (with [fs] F10): CRC-8 ok, cycle matches, external data inside the sector."""
        return a.cycle == cycle and a.crc_ok and self.data_in_sector(a)

    def data_in_sector(self, a: Ate) -> bool:
        """[fs] F10: an external value lies in ``[0, S - 3A)`` at a write-block multiple."""
        if a.len > self.I and a.id != self.head:
            off = a.offset
            return off + a.len <= self.S - 3 * self.A and off % self.W == 0
        return True

    def empty_valid(self, a: Ate) -> bool:
        """ZMS-5: a well-formed empty ATE (its own cycle)."""
        return a.len == EMPTY_LEN and a.id == self.head and a.crc_ok

    def close_valid(self, a: Ate) -> bool:
        """ZMS-5: a well-formed close ATE whose offset is a slot boundary."""
        return (a.len == 0 and a.id == self.head and a.crc_ok
                and (self.S - a.offset) % self.A == 0)

    def gc_done_valid(self, a: Ate) -> bool:
        """ZMS-5: id HEAD, len 0, CRC ok (the cycle is checked by the caller, F8)."""
        return a.len == 0 and a.id == self.head and a.crc_ok

    def meta_format(self, a: Ate) -> int:
        """ATE-format field of an empty ATE's metadata (bits 16..19)."""
        return (a.word2 >> 16) & 0xF

    def to_json(self) -> dict:
        """The geometry for reports; sizes in bytes."""
        return {"sector_size": self.S, "sector_count": self.N, "write_block_size": self.W,
                "erase_value": self.E, "explicit_erase": self.X, "data_crc": self.data_crc,
                "id_64bit": self.wide, "ate_size": self.A, "max_value_size": self.maxlen}
