"""Image-file backing of a simulated device (spec/device.md §4.6, DEV-27/28).

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
