"""Zephyr flash driver API seed functions (docs/device.md §3.5).

Thin functions over :class:`~flashstack.device.FlashDevice` with Zephyr's names and argument
order (include/zephyr/drivers/flash.h, drivers/flash/flash_util.c,
drivers/flash/flash_page_layout.c). They return 0 or a negative errno; out-parameters come
back in a tuple; NULL is None. Offsets are device-relative bytes. ``PowerLoss`` is never
turned into a return code (DEV-35): it propagates.
"""

from __future__ import annotations

import errno
from typing import Callable

from ..errors import call_with_errno, to_return_code
from .base import FlashDevice, FlashParameters, PageInfo, copy
from .base import flash_params_get_erase_cap as _erase_cap

__all__ = ["flash_read", "flash_write", "flash_erase", "flash_fill", "flash_flatten", "flash_copy",
           "flash_get_parameters", "flash_params_get_erase_cap", "flash_get_write_block_size",
           "flash_get_size", "flash_get_page_info_by_offs", "flash_get_page_info_by_idx",
           "flash_get_page_count", "flash_page_foreach"]


def buffer_nbytes(buf) -> int | None:
    """Size in bytes of a bytes-like ``buf`` (any buffer-protocol object), None otherwise."""
    try:
        return memoryview(buf).nbytes
    except TypeError:
        return None


def flash_read(dev: FlashDevice, offset: int, data, len: int) -> int:  # noqa: A002 (C name)
    """Read ``len`` bytes at ``offset`` into the writable buffer ``data`` (>= ``len`` bytes).

    Returns 0, -EINVAL (range, alignment, buffer too small or not writable), -ENODEV.
    """
    size = buffer_nbytes(data)
    if size is None or size < len or len < 0 or memoryview(data).readonly:
        return -errno.EINVAL

    def run():
        memoryview(data).cast("B")[:len] = dev.read(offset, len)
    return to_return_code(run)


def flash_write(dev: FlashDevice, offset: int, data, len: int) -> int:  # noqa: A002
    """Program the first ``len`` bytes of ``data`` at ``offset``.

    Returns 0, -EINVAL (range, alignment, ``data`` shorter than ``len``), -EIO (double write,
    worn out), -EROFS, -ENODEV.
    """
    size = buffer_nbytes(data)
    if size is None or size < len or len < 0:
        return -errno.EINVAL
    return to_return_code(dev.write, offset, memoryview(data).cast("B")[:len].tobytes())


def flash_erase(dev: FlashDevice, offset: int, size: int) -> int:
    """Erase ``[offset, offset+size)``. Returns 0, -EINVAL, -ENOSYS, -EIO, -EROFS, -ENODEV."""
    return to_return_code(dev.erase, offset, size)


def flash_fill(dev: FlashDevice, val: int, offset: int, size: int) -> int:
    """Write ``val`` over ``[offset, offset+size)`` (DEV-11). Returns 0 or the first error."""
    return to_return_code(dev.fill, val, offset, size)


def flash_flatten(dev: FlashDevice, offset: int, size: int) -> int:
    """Erase, or fill with the erase value on RAM-like devices (DEV-12). 0 or -errno."""
    return to_return_code(dev.flatten, offset, size)


#: ``OFF_MAX`` of a 64-bit ``off_t`` (the overflow bound of Zephyr's flash_copy checks).
OFF_MAX = (1 << 63) - 1


def flash_copy(src_dev: FlashDevice | None, src_offset: int, dst_dev: FlashDevice | None,
               dst_offset: int, size: int, buf, buf_size: int) -> int:
    """Copy ``size`` bytes between devices via a scratch buffer ``buf`` of >= ``buf_size``
    bytes (DEV-13). Returns 0, -EINVAL, -ENODEV, or the first read/write error.

    Argument checks in Zephyr's order (drivers/flash/flash_util.c ``z_impl_flash_copy``, as
    tests/drivers/flash/common ``test_flash_copy`` exercises them): a negative offset or size,
    a missing or too small buffer, ``buf_size`` 0, or ``offset + size`` past ``OFF_MAX`` is
    -EINVAL before the devices are looked at; then a missing (None) device is -ENODEV; the same
    device and offset, or a zero size, is 0 without touching flash."""
    ints = (src_offset, dst_offset, size, buf_size)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
        return -errno.EINVAL
    n = None if buf is None else buffer_nbytes(buf)
    if (src_offset < 0 or dst_offset < 0 or size < 0 or n is None or buf_size <= 0
            or n < buf_size or src_offset > OFF_MAX - size or dst_offset > OFF_MAX - size):
        return -errno.EINVAL
    if src_dev is None or dst_dev is None:
        return -errno.ENODEV
    if size == 0 or (src_dev is dst_dev and src_offset == dst_offset):
        return 0
    return to_return_code(copy, src_dev, src_offset, dst_dev, dst_offset, size, buf_size)


def flash_get_parameters(dev: FlashDevice) -> FlashParameters:
    """The device's :class:`FlashParameters`."""
    return dev.parameters


def flash_params_get_erase_cap(params: FlashParameters) -> int:
    """DEV-1: ``FLASH_ERASE_C_EXPLICIT`` (1) for explicit-erase devices, else 0."""
    return _erase_cap(params)


def flash_get_write_block_size(dev: FlashDevice) -> int:
    """DEV-2: ``parameters.write_block_size`` in bytes."""
    return dev.parameters.write_block_size


def flash_get_size(dev: FlashDevice) -> tuple[int, int]:
    """DEV-6: ``(0, size in bytes)`` for every layout."""
    return 0, dev.size


def flash_get_page_info_by_offs(dev: FlashDevice, offs: int) -> tuple[int, PageInfo | None]:
    """``(0, page containing offs)`` or ``(-EINVAL, None)`` outside the device."""
    return call_with_errno(dev.layout.by_offset, offs)


def flash_get_page_info_by_idx(dev: FlashDevice, idx: int) -> tuple[int, PageInfo | None]:
    """``(0, page idx)`` or ``(-EINVAL, None)`` for an index outside ``0..count-1``."""
    return call_with_errno(dev.layout.by_index, idx)


def flash_get_page_count(dev: FlashDevice) -> int:
    """Number of erase pages (Σ ``pages_count``)."""
    return dev.layout.page_count


def flash_page_foreach(dev: FlashDevice, cb: Callable[[PageInfo, object], bool], data) -> None:
    """Call ``cb(info, data)`` for every page in increasing offset; stop at a falsy return."""
    dev.page_foreach(cb, data)
