"""Image-file backing of a simulated device (docs/device.md §4.6, DEV-27/28).

The image is a raw file, byte ``i`` = device offset ``i``, no header: interchangeable with
raw dumps and Zephyr native_sim ``flash.bin``. Standard library only.
"""

from __future__ import annotations

import mmap
import os

from ..errors import InvalidArgument, NotFound


def create_image(path: str, size: int, erase_value: int) -> None:
    """Write a new image of ``size`` bytes of ``erase_value`` (sparse when 0x00)."""
    with open(path, "wb") as f:
        if erase_value == 0:
            f.truncate(size)
            return
        chunk = bytes([erase_value]) * min(size, 1 << 20)
        left = size
        while left:
            left -= f.write(chunk[:left])


def map_image(path: str, size: int, erase_value: int, *, create: bool = True, readonly: bool = False,
              device: str = "flash"):
    """Open and mmap (shared) the image at ``path``; returns ``(file, mmap)``.

    A missing file is created erased when ``create`` (and not ``readonly``), else NotFound
    (ENOENT). An existing file is used as is, never re-initialised (zephyr#22089); its length
    must equal ``size``, else InvalidArgument (EINVAL) naming both lengths.
    """
    if not os.path.exists(path):
        if not create or readonly:
            raise NotFound(f"{device}: image file {path} does not exist")
        create_image(path, size, erase_value)
    actual = os.path.getsize(path)
    if actual != size:
        raise InvalidArgument(f"{device}: image file {path} has {actual} bytes, device has {size} bytes")
    f = open(path, "rb" if readonly else "r+b")
    try:
        m = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ if readonly else mmap.ACCESS_WRITE)
    except BaseException:
        f.close()
        raise
    return f, m


#: In-memory devices larger than this (bytes) keep their image sparse (:class:`SparseImage`).
SPARSE_THRESHOLD = 64 << 20


class _Bytes(bytearray):
    """A slice read from a :class:`SparseImage`: a bytearray that also has ``tobytes()`` (the
    device's hot path treats it like a memoryview slice)."""

    def tobytes(self) -> bytes:
        return bytes(self)


class SparseImage:
    """A device image held in 64 KiB chunks that exist only where something not erased was
    written: a declared 4 GiB flash costs memory for what is written, not for its size.

    Supports what :class:`~flashstack.device.simulated.SimulatedFlash` does with its buffer:
    ``len``, ``bytes()``, integer and slice reads (a bytearray with ``tobytes()``) and writes
    of the same length (no resizing; ValueError otherwise). A chunk written back to all erase
    value is dropped again.
    """

    CHUNK = 1 << 16

    def __init__(self, size: int, erase_value: int):
        self._size = size
        self._ev = erase_value
        self._blank = bytes([erase_value]) * self.CHUNK
        self._chunks: dict[int, bytearray] = {}

    def __len__(self) -> int:
        return self._size

    @property
    def resident_bytes(self) -> int:
        """Bytes of image actually held in memory (whole chunks)."""
        return len(self._chunks) * self.CHUNK

    def _span(self, key: slice) -> tuple[int, int]:
        start, stop, step = key.indices(self._size)
        if step != 1:
            raise ValueError("SparseImage slices take no step")
        return start, max(start, stop)

    def _index(self, i: int) -> int:
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError("SparseImage index out of range")
        return i

    def _pieces(self, start: int, stop: int):
        """``(chunk number, offset in chunk, length)`` covering ``[start, stop)``."""
        c = self.CHUNK
        pos = start
        while pos < stop:
            k, o = divmod(pos, c)
            n = min(c - o, stop - pos)
            yield k, o, n
            pos += n

    def __getitem__(self, key):
        if isinstance(key, int):
            i = self._index(key)
            chunk = self._chunks.get(i // self.CHUNK)
            return self._ev if chunk is None else chunk[i % self.CHUNK]
        start, stop = self._span(key)
        out = _Bytes()
        for k, o, n in self._pieces(start, stop):
            chunk = self._chunks.get(k)
            out += (self._blank if chunk is None else chunk)[o:o + n]
        return out

    def __setitem__(self, key, value) -> None:
        if isinstance(key, int):
            i = self._index(key)
            chunk = self._chunk(i // self.CHUNK)
            chunk[i % self.CHUNK] = value
            return
        start, stop = self._span(key)
        data = memoryview(value).cast("B")
        if len(data) != stop - start:
            raise ValueError(f"SparseImage: {len(data)} bytes into a slice of {stop - start}")
        pos = 0
        for k, o, n in self._pieces(start, stop):
            piece = data[pos:pos + n]
            pos += n
            if k not in self._chunks and piece == self._blank[:n]:
                continue
            if n == self.CHUNK and piece == self._blank:
                self._chunks.pop(k, None)
                continue
            self._chunk(k)[o:o + n] = piece

    def erase(self, start: int, stop: int) -> None:
        """Set ``[start, stop)`` to the erase value without building the bytes."""
        for k, o, n in self._pieces(start, stop):
            kept = self._chunks.get(k)
            if kept is not None:
                kept[o:o + n] = self._blank[:n]
                if kept == self._blank:
                    del self._chunks[k]

    def _chunk(self, k: int) -> bytearray:
        chunk = self._chunks.get(k)
        if chunk is None:
            chunk = self._chunks[k] = bytearray(self._blank)
        return chunk

    def __bytes__(self) -> bytes:
        return bytes(self[0:self._size])
