"""Seed functions ``hal_flash_*`` (docs/alios-hal.md §4, §5): thin wrappers over
:class:`~flashstack.hal.flash.HalFlash` keeping the C names and argument order.

They act on the default HAL (:func:`set_default_hal`) or on the keyword-only ``hal=``.
Return 0 or a negative errno (HAL-7); functions with an in/out offset return
``(rc, off_set)``. ``PowerLoss`` propagates. Upstream: ``include/hal/soc/flash.h``
(1.x/2.x), ``include/aos/hal/flash.h`` (3.x).
"""

from __future__ import annotations

from ..errors import InvalidArgument, NoDevice, call_with_errno, to_return_code
from .flash import HalFlash
from .types import HalLogicPartition, HalPartitionV3

__all__ = ["set_default_hal", "get_default_hal", "hal_flash_get_info", "hal_flash_info_get",
           "hal_flash_erase", "hal_flash_write", "hal_flash_erase_write", "hal_flash_read",
           "hal_flash_enable_secure", "hal_flash_dis_secure", "hal_flash_addr2offset"]

_default: HalFlash | None = None


def set_default_hal(hal: HalFlash | None) -> None:
    """Install the HAL the seed functions use when no ``hal=`` is given."""
    global _default
    _default = hal


def get_default_hal() -> HalFlash | None:
    return _default


def _hal(hal: HalFlash | None) -> HalFlash:
    h = hal if hal is not None else _default
    if h is None:
        raise NoDevice("no HAL configured (flashstack.hal.set_default_hal)")
    return h


def hal_flash_get_info(in_partition: int, *, hal: HalFlash | None = None) -> HalLogicPartition | None:
    """1.x/2.x: the partition descriptor, or None for an unknown partition."""
    return call_with_errno(lambda: _hal(hal).info(in_partition))[1]


def hal_flash_info_get(in_partition: int, *, hal: HalFlash | None = None) -> tuple[int, HalLogicPartition | None]:
    """3.x: ``(0, copy of the descriptor)`` or ``(-ENOENT, None)``."""
    return call_with_errno(lambda: _hal(hal).info(in_partition))


def hal_flash_erase(in_partition: int, off_set: int, size: int, *, hal: HalFlash | None = None) -> int:
    """Erase the erase pages covering ``[off_set, off_set+size)``; 0 or -errno."""
    return to_return_code(lambda: _hal(hal).erase(in_partition, off_set, size))


def _program(what: str, in_partition: int, off_set: int, in_buf, in_buf_len: int, hal) -> tuple[int, int]:
    def run():
        h = _hal(hal)
        if in_buf is None or in_buf_len < 0 or len(in_buf) < in_buf_len:
            h._check_write(in_partition, off_set, max(in_buf_len, 0), what)  # EACCES etc. first
            raise InvalidArgument(f"hal_flash_{what}: partition {in_partition} offset {off_set:#x}: "
                                  f"in_buf missing or shorter than in_buf_len {in_buf_len}")
        data = bytes(in_buf[:in_buf_len])
        return h.write(in_partition, off_set, data) if what == "write" else h.erase_write(in_partition, off_set, data)
    rc, new_off = call_with_errno(run)
    return (0, new_off) if rc == 0 else (rc, off_set)


def hal_flash_write(in_partition: int, off_set: int, in_buf, in_buf_len: int,
                    *, hal: HalFlash | None = None) -> tuple[int, int]:
    """Program ``in_buf[:in_buf_len]`` at ``off_set``; ``(0, off_set + in_buf_len)`` or ``(-errno, off_set)``."""
    return _program("write", in_partition, off_set, in_buf, in_buf_len, hal)


def hal_flash_erase_write(in_partition: int, off_set: int, in_buf, in_buf_len: int,
                          *, hal: HalFlash | None = None) -> tuple[int, int]:
    """Erase the covering pages, then program; ``(rc, off_set')`` as :func:`hal_flash_write`."""
    return _program("erase_write", in_partition, off_set, in_buf, in_buf_len, hal)


def hal_flash_read(in_partition: int, off_set: int, out_buf, in_buf_len: int,
                   *, hal: HalFlash | None = None) -> tuple[int, int]:
    """Fill ``out_buf[:in_buf_len]`` (a bytearray) from ``off_set``; ``(0, off_set + in_buf_len)``
    or ``(-errno, off_set)``."""
    def run():
        h = _hal(hal)
        info = h._get(in_partition)
        if (out_buf is None or in_buf_len < 0 or len(out_buf) < in_buf_len) and info.readable:
            raise InvalidArgument(f"hal_flash_read: partition {in_partition} offset {off_set:#x}: "
                                  f"out_buf missing or shorter than in_buf_len {in_buf_len}")
        out_buf[:in_buf_len] = h.read(in_partition, off_set, in_buf_len)  # EACCES first when unreadable
    rc, _ = call_with_errno(run)
    return (0, off_set + in_buf_len) if rc == 0 else (rc, off_set)


def hal_flash_enable_secure(partition: int, off_set: int, size: int, *, hal: HalFlash | None = None) -> int:
    """Write-protect ``[off_set, off_set+size)`` (flashstack meaning, HAL-12); 0 or -errno."""
    return to_return_code(lambda: _hal(hal).enable_secure(partition, off_set, size))


def hal_flash_dis_secure(partition: int, off_set: int, size: int, *, hal: HalFlash | None = None) -> int:
    """Remove ``[off_set, off_set+size)`` from the protected ranges; 0 or -errno."""
    return to_return_code(lambda: _hal(hal).dis_secure(partition, off_set, size))


def hal_flash_addr2offset(addr: int, *, hal: HalFlash | None = None) -> tuple[int, int, int]:
    """3.x: ``(0, partition, off_set)`` or ``(-EINVAL, HAL_PARTITION_ERROR, 0)``."""
    rc, found = call_with_errno(lambda: _hal(hal).addr2offset(addr))
    return (0, *found) if rc == 0 else (rc, int(HalPartitionV3["HAL_PARTITION_ERROR"]), 0)
