"""The operation recorder: a flash device that logs what a store does to the device it wraps.

Scans and dry runs mount a store on a recording copy so that the writes and erases a mount
would perform are shown instead of hidden (NVS, ZMS and KV scans). Offsets are device-relative
bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from .base import FlashDevice

__all__ = ["FlashOp", "RecordingFlash"]

OpKind = Literal["read", "write", "erase"]


@dataclass(frozen=True)
class FlashOp:
    """One recorded operation: ``kind``, device ``offset`` and ``length`` in bytes, ``data``
    (the bytes a write programs; None for a read or an erase) and ``note`` (what the caller
    said it was doing when it issued the operation, or None)."""

    kind: OpKind
    offset: int
    length: int
    data: bytes | None = None
    note: str | None = None

    def line(self) -> str:
        """Spec notation: ``"P off: hex bytes"`` for a write, ``"E off len"`` for an erase,
        ``"R off len"`` for a read (decimal offsets)."""
        if self.kind == "write":
            assert self.data is not None, "a write records its bytes"
            return f"P {self.offset}: {self.data.hex(' ')}"
        return f"{'E' if self.kind == 'erase' else 'R'} {self.offset} {self.length}"


class RecordingFlash(FlashDevice):
    """``device`` with every write and erase (and, with ``reads``, every read) appended to
    ``ops`` as a :class:`FlashOp` before it is passed on, so an operation cut by a power loss
    is recorded too. ``note`` (optional) is called for each operation and its answer stored
    in :attr:`FlashOp.note`. Geometry is the wrapped device's; any other attribute (e.g.
    ``snapshot``, ``stats``) is read from it."""

    def __init__(self, device: FlashDevice, *, reads: bool = False,
                 note: Callable[[], str] | None = None):
        self.device = device
        self.reads = reads
        self.note = note
        self.ops: list[FlashOp] = []
        self.name = device.name
        self.parameters = device.parameters
        self.layout = device.layout
        self.program_page_size = device.program_page_size
        self.fill_buffer_size = device.fill_buffer_size
        self.erase_supported = device.erase_supported

    def __getattr__(self, name: str):
        # only reached for attributes not set above (the wrapped device's extras)
        if name == "device":  # not yet set: during unpickling or a failed __init__
            raise AttributeError(name)
        return getattr(self.device, name)

    def _record(self, kind: OpKind, off: int, n: int, data: bytes | None = None) -> None:
        self.ops.append(FlashOp(kind, off, n, data, self.note() if self.note else None))

    def read(self, off: int, n: int) -> bytes:
        if self.reads:
            self._record("read", off, n)
        return self.device.read(off, n)

    def write(self, off: int, data) -> None:
        self._record("write", off, len(data), bytes(data))
        self.device.write(off, data)

    def erase(self, off: int, n: int) -> None:
        self._record("erase", off, n)
        self.device.erase(off, n)

    @property
    def is_ready(self) -> bool:
        return self.device.is_ready

    def close(self) -> None:
        self.device.close()

    def lines(self) -> list[str]:
        """Every recorded operation in spec notation (:meth:`FlashOp.line`), oldest first."""
        return [op.line() for op in self.ops]

    def take(self) -> list[FlashOp]:
        """The operations recorded so far; the log starts empty again."""
        ops, self.ops = self.ops, []
        return ops
