"""UF2 output (Microsoft's USB flashing format, as the RP2040/RP2350 boot ROMs take it).

A UF2 file is a sequence of 512-byte blocks, little endian: magic 0x0A324655, magic
0x9E5D5157, flags, target address, payload size, block number, number of blocks, family ID
(flag 0x2000) or file size, 476 bytes of data (payload first, zero padded), end magic
0x0AB16F30. flashstack writes 256-byte payloads at 256-byte aligned addresses, numbers the
blocks 0..n-1 with n in every block, and sets the family ID flag (docs/build-outputs.md UF2-1..3).
"""

from __future__ import annotations

import struct

from ..errors import InvalidArgument

__all__ = [
    "FAMILIES",
    "FLAG_FAMILY_ID",
    "PAYLOAD",
    "UF2_MAGIC_END",
    "UF2_MAGIC_START0",
    "UF2_MAGIC_START1",
    "family_id",
    "uf2_blocks",
    "uf2_bytes",
]

UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
PAYLOAD = 256
_BLOCK = struct.Struct("<8I476sI")
#: family names -> IDs (UF2 project's uf2families.json; the RP2350 IDs from its boot ROM)
FAMILIES = {"rp2040": 0xE48BFF56, "rp2xxx-absolute": 0xE48BFF57, "rp2xxx-data": 0xE48BFF58,
            "rp2350-arm-s": 0xE48BFF59, "rp2350-riscv": 0xE48BFF5A, "rp2350-arm-ns": 0xE48BFF5B}


def family_id(name: str | int) -> int:
    """A family ID from a name in FAMILIES or a number; EINVAL naming the known families."""
    if isinstance(name, int) and not isinstance(name, bool):
        if 0 <= name < 1 << 32:
            return name
    elif isinstance(name, str):
        if name.lower() in FAMILIES:
            return FAMILIES[name.lower()]
        try:
            return family_id(int(name, 0))
        except ValueError:
            pass
    raise InvalidArgument(f"UF2 family {name!r}: expected one of {', '.join(FAMILIES)} or a 32-bit number")


def uf2_blocks(segments: list[tuple[int, bytes]], erase_value: int = 0xFF) -> list[tuple[int, bytes]]:
    """``(address, 256 bytes)`` payloads covering ``segments`` (absolute address, bytes), in
    address order; a partial page is filled with ``erase_value``. EINVAL on overlapping segments."""
    pages: dict[int, bytearray] = {}
    owner: dict[int, int] = {}
    for address, data in sorted(segments):
        start = address - address % PAYLOAD
        for page in range(start, address + len(data), PAYLOAD):
            buf = pages.setdefault(page, bytearray([erase_value]) * PAYLOAD)
            lo, hi = max(page, address), min(page + PAYLOAD, address + len(data))
            if owner.get(page, -1) >= lo:
                raise InvalidArgument(f"UF2: data at {lo:#x} is given twice")
            buf[lo - page:hi - page] = data[lo - address:hi - address]
            owner[page] = hi - 1
    return [(a, bytes(pages[a])) for a in sorted(pages)]


def uf2_bytes(segments: list[tuple[int, bytes]], family: int, erase_value: int = 0xFF) -> bytes:
    """The UF2 file of ``segments`` for ``family`` (a family ID)."""
    blocks = uf2_blocks(segments, erase_value)
    n = len(blocks)
    return b"".join(_BLOCK.pack(UF2_MAGIC_START0, UF2_MAGIC_START1, FLAG_FAMILY_ID, addr, PAYLOAD, i, n, family,
                                data, UF2_MAGIC_END) for i, (addr, data) in enumerate(blocks))
