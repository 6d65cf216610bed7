"""The typed interface a store takes: where it lives, in partition-relative bytes.

A :class:`~flashstack.flash_map.FlashArea` is one; so are the AliOS HAL partition view and the
two-partition span (``flashstack.hal``). Offsets are bytes from the storage start.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Storage"]


@runtime_checkable
class Storage(Protocol):
    """Bytes a store reads, programs and erases: ``size`` bytes, offsets from its start.

    ``read`` returns ``n`` bytes; ``write`` programs (NOR rules of the device below);
    ``erase`` erases ``[off, off + n)`` (erase-page granular). Errors are
    ``flashstack.errors`` exceptions (EINVAL out of bounds, EACCES read-only, the device's);
    a simulated power cut raises ``PowerLoss``."""

    @property
    def size(self) -> int: ...   # read-only: FlashArea's size is a property

    def read(self, off: int, n: int) -> bytes: ...

    def write(self, off: int, data: bytes) -> None: ...

    def erase(self, off: int, n: int) -> None: ...
