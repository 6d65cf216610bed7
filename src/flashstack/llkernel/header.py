"""The 32-byte Feature header and the LLKERNEL constants (docs/llkernel.md §3, §6).

Layout: eight little-endian uint32 at the slot start, ``struct '<8I'``:
``status, nb_subsectors, rom_address, rom_size, ram_address, ram_size, feature_index,
reserved``. Addresses are absolute 32-bit values. Upstream: MicroEJ
AbstractionLayer-KERNEL-FLASH 1.0.3 ``LLKERNEL_flash.h`` (header struct and magics) and
MicroEJ docs ``LLKERNEL_impl.h`` (return codes, alignments, init error codes).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "LLKERNEL_OK", "LLKERNEL_ERROR", "LLKERNEL_RAM_AREA_ALIGNMENT", "LLKERNEL_ROM_AREA_ALIGNMENT",
    "USED_MAGIC", "REMOVED_MAGIC", "ERASED_WORD", "HEADER_SIZE", "INIT_ERROR_NAMES",
    "INIT_ERRORS_THAT_FREE", "FeatureHeader", "status_state", "init_error_name",
    "to_int32", "to_u32",
]

LLKERNEL_OK = 0
LLKERNEL_ERROR = -1
LLKERNEL_RAM_AREA_ALIGNMENT = 8
LLKERNEL_ROM_AREA_ALIGNMENT = 16

#: ``LLKERNEL_FEATURE_USED_MAGIC_NUMBER`` (bytes E8 77 1C 18 on flash).
USED_MAGIC = 0x181C77E8
#: ``LLKERNEL_FEATURE_REMOVED_MAGIC_NUMBER`` (bytes A7 DC 3A 00 on flash).
REMOVED_MAGIC = 0x003ADCA7
ERASED_WORD = 0xFFFFFFFF
HEADER_SIZE = 32
_FMT = struct.Struct("<8I")

#: ``LLKERNEL_FEATURE_INIT_ERROR_*`` codes (Architecture 8.1+).
INIT_ERROR_NAMES = {
    1: "CORRUPTED_CONTENT",
    2: "INCOMPATIBLE_KERNEL_WRONG_UID",
    3: "TOO_MANY_INSTALLED",
    4: "ALREADY_INSTALLED",
    5: "INCOMPATIBLE_KERNEL_WRONG_ADDRESSES",
    6: "ROM_OVERLAP",
    7: "RAM_OVERLAP",
    8: "RAM_ADDRESS_CHANGED",
    9: "NULL_HANDLE",
}
#: Codes for which ``onFeatureInitializationError`` frees the Feature (LLK-24).
INIT_ERRORS_THAT_FREE = frozenset({1, 2, 5})


def init_error_name(code: int) -> str:
    """``LLKERNEL_FEATURE_INIT_ERROR_`` suffix for ``code``, ``"UNKNOWN"`` otherwise."""
    return INIT_ERROR_NAMES.get(code, "UNKNOWN")


def to_int32(value: int) -> int:
    """Reinterpret the low 32 bits of ``value`` as a signed C ``int32_t``."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def to_u32(value: int) -> int:
    """Reinterpret ``value`` (signed or unsigned) as an unsigned 32-bit address."""
    return value & 0xFFFFFFFF


def status_state(status: int) -> str:
    """``"used"``, ``"removed"``, ``"erased"`` (0xFFFFFFFF) or ``"other"`` for a status word."""
    if status == USED_MAGIC:
        return "used"
    if status == REMOVED_MAGIC:
        return "removed"
    if status == ERASED_WORD:
        return "erased"
    return "other"


@dataclass(frozen=True)
class FeatureHeader:
    """One decoded header; every field an unsigned 32-bit int (addresses absolute)."""

    status: int = ERASED_WORD
    nb_subsectors: int = ERASED_WORD
    rom_address: int = ERASED_WORD
    rom_size: int = ERASED_WORD
    ram_address: int = ERASED_WORD
    ram_size: int = ERASED_WORD
    feature_index: int = ERASED_WORD
    reserved: int = ERASED_WORD

    @classmethod
    def unpack(cls, raw: bytes) -> "FeatureHeader":
        """Decode the first 32 bytes of ``raw`` (``struct.error`` if shorter)."""
        return cls(*_FMT.unpack_from(raw, 0))

    def pack(self) -> bytes:
        """The 32 on-flash bytes."""
        return _FMT.pack(self.status, self.nb_subsectors, self.rom_address, self.rom_size,
                         self.ram_address, self.ram_size, self.feature_index, self.reserved)

    @property
    def state(self) -> str:
        """:func:`status_state` of the status word."""
        return status_state(self.status)

    @property
    def used(self) -> bool:
        """The status word is the USED magic."""
        return self.status == USED_MAGIC

    def fields(self) -> dict:
        """The decoded fields as a dict (reserved included)."""
        return {"status": self.status, "nb_subsectors": self.nb_subsectors,
                "rom_address": self.rom_address, "rom_size": self.rom_size,
                "ram_address": self.ram_address, "ram_size": self.ram_size,
                "feature_index": self.feature_index, "reserved": self.reserved}
