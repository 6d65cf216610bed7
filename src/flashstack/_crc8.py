"""CRC-8 tables (MSB first, not reflected, no final XOR), shared by the store formats.

AliOS KV uses polynomial 0x31 with initial value 0 (docs/alios-kv.md §4.5); Zephyr NVS and ZMS
use ``crc8_ccitt``, polynomial 0x07 with initial value 0xFF (docs/zephyr-nvs.md §4.3). A
256-entry table is about 20 times faster than the bit loop in pure Python.
"""

from __future__ import annotations

__all__ = ["crc8_table", "crc8_with", "crc8_rows"]


def crc8_table(poly: int) -> bytes:
    """The 256-entry table of the MSB-first CRC-8 with generator ``poly`` (e.g. 0x31, 0x07)."""
    out = bytearray(256)
    for b in range(256):
        c = b
        for _ in range(8):
            c = ((c << 1) ^ poly) & 0xFF if c & 0x80 else (c << 1) & 0xFF
        out[b] = c
    return bytes(out)


def crc8_with(table: bytes, data, crc: int) -> int:
    """CRC-8 of ``data`` (bytes-like) with ``table`` from :func:`crc8_table`, starting at ``crc``."""
    for b in data:
        crc = table[crc ^ b]
    return crc


_SHIFTED: dict[bytes, list[bytes]] = {}


def _shifted(table: bytes, k: int) -> bytes:
    """``T_k[b]``: CRC-8 (initial 0) of byte ``b`` followed by ``k`` zero bytes. ``T_0`` is
    ``table``; each zero byte maps the state through ``table`` once more."""
    tabs = _SHIFTED.setdefault(table, [table])
    while len(tabs) <= k:
        tabs.append(tabs[-1].translate(table))
    return tabs[k]


def crc8_rows(table: bytes, blob: bytes, width: int, crc: int = 0, *, start: int = 0,
              stride: int | None = None, count: int | None = None) -> bytes:
    """The CRC-8 of ``count`` rows of ``width`` bytes of ``blob``, row ``j`` at ``start + j *
    stride`` (default: the rows fill ``blob``, ``stride = width``), each starting at ``crc``:
    byte ``j`` of the result is ``crc8_with(table, row j, crc)``. The CRC is affine in the
    row's bytes, so each byte column goes through one ``bytes.translate`` and the columns are
    XOR-ed as big integers: no Python code runs per row, which pays off from a few dozen rows on."""
    stride = stride or width
    if count is None:
        count = (len(blob) - start) // stride if width else 0
    if count <= 0:
        return b""
    span = (count - 1) * stride + 1
    acc = int.from_bytes(bytes([crc8_with(table, bytes(width), crc)]) * count, "little")
    for j in range(width):
        col = blob[start + j:start + j + span:stride]
        acc ^= int.from_bytes(col.translate(_shifted(table, width - 1 - j)), "little")
    return acc.to_bytes(count, "little")
