"""``file`` and ``erased`` partition contents.

``type = "file"``: keys ``file`` (required, raw bytes) and ``offset`` (partition-relative
start, default 0). The bytes are padded with the erase value up to the device's write block.
Read-only partitions are allowed (the build writes through ``FlashArea.privileged()``).

``type = "erased"``: no keys; the partition stays at the erase value.
"""

from __future__ import annotations

import hashlib

from ...flash_map import FlashArea
from .base import Options, Provider

__all__ = ["FileProvider", "ErasedProvider", "write_padded"]


def write_padded(area: FlashArea, off: int, data: bytes) -> None:
    """Program ``data`` at partition offset ``off``, padded with the erase value to whole write
    blocks (``off`` must be write-block aligned; the device raises EINVAL otherwise)."""
    wbs = max(1, area.align)
    tail = (-len(data)) % wbs
    if tail:
        data = bytes(data) + bytes([area.erased_val]) * tail
    # Program in chunks so a huge file does not make one huge device call.
    step = 1 << 16
    for pos in range(0, len(data), step):
        area.write(off + pos, data[pos:pos + step])


class FileProvider(Provider):
    """Raw bytes from a file at a partition-relative offset."""

    type = "file"

    def __init__(self, entry):
        super().__init__(entry)
        opts = Options(entry)
        self.path = opts.file("file", required=True)
        self.offset = opts.integer("offset", 0, minimum=0)
        opts.finish()
        self.data = self.path.read_bytes()

    def check(self, area: FlashArea) -> None:
        end = self.offset + len(self.data)
        if end > area.size:
            raise self.fail(f"content of {len(self.data)} bytes at offset {self.offset:#x} ends at "
                            f"{end:#x}, past the partition size {area.size:#x} "
                            f"({end - area.size} bytes too large)", "file")
        wbs = max(1, area.align)
        if self.offset % wbs:
            raise self.fail(f"offset {self.offset:#x} is not a multiple of the write block "
                            f"size {wbs}", "offset")

    def render(self, area: FlashArea) -> None:
        if self.data:
            write_padded(area, self.offset, self.data)

    def describe(self) -> dict:
        return {"type": self.type, "file": str(self.path), "offset": self.offset,
                "length": len(self.data), "sha256": hashlib.sha256(self.data).hexdigest()}


class ErasedProvider(Provider):
    """Nothing: the partition keeps the erase value."""

    type = "erased"

    def __init__(self, entry):
        super().__init__(entry)
        Options(entry).finish()

    def check(self, area: FlashArea) -> None:
        return None

    def render(self, area: FlashArea) -> None:
        return None
