"""Zephyr flash map seed functions (docs/flash-map.md §4, FM-1).

Thin functions over :class:`~flashstack.flash_map.FlashArea` / :class:`FlashMap` with
Zephyr's names and argument order (zephyr include/zephyr/storage/flash_map.h,
subsys/storage/flash_map/flash_map.c, flash_map_layout.c, flash_map_integrity.c). They
return 0 or a negative errno; out-parameters come back in a tuple ``(rc, value)``; NULL is
None. Functions that take an ID use the default map (:func:`set_default_map`) or the
keyword-only ``flash_map=``. Offsets are partition-relative bytes. ``PowerLoss`` is never
turned into a return code.

Also the devicetree lookups ``FIXED_PARTITION_*`` (§8.4) and their Zephyr 4.4 ``PARTITION_*``
aliases; they raise ``LookupError`` (NotFound, ENOENT) for an unknown node label.
"""

from __future__ import annotations

import errno
import hashlib
from dataclasses import dataclass
from typing import Callable

from ..device.capi import buffer_nbytes, flash_read
from ..errors import AccessDenied, NotFound, to_return_code
from .area import FlashArea, FlashMap, FlashSector

__all__ = [
    "set_default_map", "get_default_map", "FlashAreaCheck", "FlashSector",
    "flash_area_open", "flash_area_close", "flash_area_read", "flash_area_write",
    "flash_area_erase", "flash_area_flatten", "flash_area_copy", "flash_area_align",
    "flash_area_erased_val", "flash_area_has_driver", "flash_area_get_device",
    "flash_area_device_is_ready", "flash_area_label", "flash_area_foreach",
    "flash_area_get_sectors", "flash_area_sectors", "flash_area_check_int_sha256",
    "FIXED_PARTITION_EXISTS", "FIXED_PARTITION_ID", "FIXED_PARTITION_OFFSET",
    "FIXED_PARTITION_SIZE", "FIXED_PARTITION_DEVICE", "FIXED_PARTITION_ADDRESS",
    "FIXED_PARTITION", "PARTITION", "PARTITION_EXISTS", "PARTITION_ID", "PARTITION_OFFSET",
    "PARTITION_SIZE", "PARTITION_DEVICE", "PARTITION_ADDRESS",
]

_default_map: FlashMap | None = None


def set_default_map(m: FlashMap | None) -> None:
    """Make ``m`` the map of the ID-based functions (None: back to "no map", EACCES)."""
    global _default_map
    _default_map = m


def get_default_map() -> FlashMap | None:
    """The map set by :func:`set_default_map`, or None."""
    return _default_map


def _map(flash_map: FlashMap | None) -> FlashMap | None:
    return flash_map if flash_map is not None else _default_map


# --- open / close ----------------------------------------------------------------------------

def flash_area_open(id: int, *,  # noqa: A002 (C name)
                    flash_map: FlashMap | None = None) -> tuple[int, FlashArea | None]:
    """``(0, fa)``; ``(-EACCES, None)`` without a map; ``(-ENOENT, None)`` for an unknown ID
    (IDs outside 0..255 never match); ``(-ENODEV, None)`` when the device is closed."""
    m = _map(flash_map)
    if m is None:
        return -errno.EACCES, None
    for fa in m.areas:  # linear search, as flash_map.c does
        if isinstance(id, int) and 0 <= id <= 255 and fa.id == id:
            if fa.device is None or not fa.device.is_ready:
                return -errno.ENODEV, None
            return 0, fa
    return -errno.ENOENT, None


def flash_area_close(fa: FlashArea | None) -> None:
    """No operation (as in Zephyr)."""


# --- data ------------------------------------------------------------------------------------

def flash_area_read(fa: FlashArea, off: int, dst, len: int) -> int:  # noqa: A002
    """Read ``len`` bytes at ``off`` into ``dst``. -EINVAL out of bounds or ``dst`` too short;
    else ``flash_read`` of the device at ``fa.offset + off`` and its code."""
    if not fa.in_bounds(off, len):
        return -errno.EINVAL
    n = buffer_nbytes(dst)
    if n is None or n < len:
        return -errno.EINVAL
    return flash_read(fa.device, fa.offset + off, dst, len)


def flash_area_write(fa: FlashArea, off: int, src, len: int) -> int:  # noqa: A002
    """Program ``src[:len]`` at ``off``. -EINVAL (bounds, ``src`` short), -EACCES (read-only
    enforced), else the device's code."""
    if not fa.in_bounds(off, len):
        return -errno.EINVAL
    n = buffer_nbytes(src)
    if n is None or n < len:
        return -errno.EINVAL
    return to_return_code(fa.write, off, memoryview(src).cast("B")[:len].tobytes())


def flash_area_erase(fa: FlashArea, off: int, len: int) -> int:  # noqa: A002
    """Erase ``[off, off+len)``: -EINVAL, -EACCES, else the device's code."""
    if not fa.in_bounds(off, len):
        return -errno.EINVAL
    return to_return_code(fa.erase, off, len)


def flash_area_flatten(fa: FlashArea, off: int, len: int) -> int:  # noqa: A002
    """Erase, or fill with the erase value on RAM-like devices: -EINVAL, -EACCES, device code."""
    if not fa.in_bounds(off, len):
        return -errno.EINVAL
    return to_return_code(fa.flatten, off, len)


def flash_area_copy(src_fa: FlashArea, src_off: int, dst_fa: FlashArea, dst_off: int, len: int,  # noqa: A002
                    buf, buf_size: int) -> int:
    """Zephyr 4.1 ``flash_area_copy``: -EINVAL unless both ranges are in bounds (or ``buf``
    is shorter than ``buf_size``); -EACCES for a read-only destination; else ``flash_copy``."""
    if not (src_fa.in_bounds(src_off, len) and dst_fa.in_bounds(dst_off, len)):
        return -errno.EINVAL
    n = buffer_nbytes(buf)
    if n is None or (buf_size > 0 and n < buf_size):
        return -errno.EINVAL
    return to_return_code(src_fa.copy_to, dst_fa, src_off, dst_off, len, buf_size)


# --- properties ------------------------------------------------------------------------------

def flash_area_align(fa: FlashArea) -> int:
    """``flash_get_write_block_size`` of the device."""
    return fa.align


def flash_area_erased_val(fa: FlashArea) -> int:
    """The device's ``parameters.erase_value``."""
    return fa.erased_val


def flash_area_has_driver(fa: FlashArea) -> int:
    """1 when the device is open, else -ENODEV."""
    return 1 if fa.device is not None and fa.device.is_ready else -errno.ENODEV


def flash_area_get_device(fa: FlashArea):
    """The area's flash device (None for an area without one)."""
    return fa.device


def flash_area_device_is_ready(fa: FlashArea | None) -> bool:
    """False for None, an area without device, or a closed device."""
    return fa is not None and fa.device is not None and fa.device.is_ready


def flash_area_label(fa: FlashArea) -> str | None:
    """The ``label`` property (always kept; Zephyr needs ``CONFIG_FLASH_MAP_LABELS``)."""
    return fa.label


def flash_area_foreach(cb: Callable[[FlashArea, object], None], user_data, *,
                       flash_map: FlashMap | None = None) -> None:
    """``cb(fa, user_data)`` for every entry, in map order (FM-25)."""
    m = _map(flash_map)
    if m is not None:
        m.foreach(cb, user_data)


# --- sectors ---------------------------------------------------------------------------------

def flash_area_sectors(fa: FlashArea, count: int, sectors: list) -> tuple[int, int]:
    """§6: clear ``sectors`` and fill it with the area's sectors. ``(0, n)``;
    ``(-ENOMEM, count)`` when more than ``count`` exist (``sectors`` holds ``count``);
    ``(-ENODEV, count)`` for a closed device."""
    sectors.clear()
    if fa.device is None or not fa.device.is_ready:
        return -errno.ENODEV, count
    found = fa.sectors()
    if len(found) > count:
        sectors.extend(found[:max(count, 0)])
        return -errno.ENOMEM, count
    sectors.extend(found)
    return 0, len(found)


def flash_area_get_sectors(id: int, count: int, sectors: list, *,  # noqa: A002
                           flash_map: FlashMap | None = None) -> tuple[int, int]:
    """Open ``id`` (any failure -> ``(-EINVAL, count)``, not ENOENT), then
    :func:`flash_area_sectors`."""
    rc, fa = flash_area_open(id, flash_map=flash_map)
    if rc or fa is None:
        return -errno.EINVAL, count
    return flash_area_sectors(fa, count, sectors)


# --- integrity -------------------------------------------------------------------------------

@dataclass
class FlashAreaCheck:
    """``struct flash_area_check``: ``match`` expected SHA-256 (32 bytes), ``clen`` bytes to
    hash, ``off`` partition offset, ``rbuf`` writable scratch buffer, ``rblen`` chunk size."""

    match: bytes | None = None
    clen: int = 0
    off: int = 0
    rbuf: bytearray | None = None
    rblen: int = 0


def flash_area_check_int_sha256(fa: FlashArea | None, fac: FlashAreaCheck | None) -> int:
    """§7: 0 when ``[off, off+clen)`` hashes to ``fac.match``; -EILSEQ when it does not;
    -EINVAL for bad arguments (FM-11); a read error as is. Each chunk is one device read of
    ``rblen`` bytes (the last shorter) into ``rbuf``."""
    if fa is None or fac is None or fac.match is None or fac.rbuf is None:
        return -errno.EINVAL
    if fac.clen == 0 or fac.rblen <= 0:
        return -errno.EINVAL
    n = buffer_nbytes(fac.rbuf)
    if n is None or n < fac.rblen or not fa.in_bounds(fac.off, fac.clen):
        return -errno.EINVAL
    h = hashlib.sha256()
    view = memoryview(fac.rbuf).cast("B")
    pos, end = fac.off, fac.off + fac.clen
    while pos < end:
        step = min(fac.rblen, end - pos)
        rc = flash_read(fa.device, fa.offset + pos, fac.rbuf, step)
        if rc:
            return rc
        h.update(view[:step])
        pos += step
    return 0 if h.digest() == bytes(fac.match)[:32] and len(fac.match) >= 32 else -errno.EILSEQ


# --- devicetree lookups (§8.4) ---------------------------------------------------------------

def _lookup_map(flash_map: FlashMap | None) -> FlashMap:
    m = _map(flash_map)
    if m is None:
        raise AccessDenied("no flash map: call set_default_map() or pass flash_map=")
    return m


def FIXED_PARTITION_EXISTS(node_label: str, *, flash_map: FlashMap | None = None) -> bool:
    """True when a partition node with this label exists (also on a disabled device)."""
    return _lookup_map(flash_map).node_label_exists(node_label)


def FIXED_PARTITION_ID(node_label: str, *, flash_map: FlashMap | None = None) -> int | None:
    """Zephyr partition ID (also on a disabled device; None for a sub-partition)."""
    return _lookup_map(flash_map).node_label_id(node_label)


def FIXED_PARTITION(node_label: str, *, flash_map: FlashMap | None = None) -> FlashArea:
    """The map entry of the partition (NotFound if unknown or its device is disabled)."""
    return _lookup_map(flash_map).by_node_label(node_label)


def FIXED_PARTITION_OFFSET(node_label: str, *, flash_map: FlashMap | None = None) -> int:
    """Offset of the partition from its device start (the ``reg`` address)."""
    return FIXED_PARTITION(node_label, flash_map=flash_map).offset


def FIXED_PARTITION_SIZE(node_label: str, *, flash_map: FlashMap | None = None) -> int:
    """Size of the partition in bytes."""
    return FIXED_PARTITION(node_label, flash_map=flash_map).size


def FIXED_PARTITION_DEVICE(node_label: str, *, flash_map: FlashMap | None = None):
    """The flash device holding the partition."""
    return FIXED_PARTITION(node_label, flash_map=flash_map).device


def FIXED_PARTITION_ADDRESS(node_label: str, *, flash_map: FlashMap | None = None) -> int:
    """Absolute address (memory node base + offset); NotFound when the device has none."""
    fa = FIXED_PARTITION(node_label, flash_map=flash_map)
    if fa.address is None:
        raise NotFound(f"partition {node_label}: device {fa.device.name} is not memory-mapped")
    return fa.address


# Zephyr 4.4 names (include/zephyr/storage/flash_map.h, ``PARTITION_*``; they dispatch on
# fixed or mapped partitions, which flashstack's areas already hold as device offsets).
PARTITION = FIXED_PARTITION
PARTITION_EXISTS = FIXED_PARTITION_EXISTS
PARTITION_ID = FIXED_PARTITION_ID
PARTITION_OFFSET = FIXED_PARTITION_OFFSET
PARTITION_SIZE = FIXED_PARTITION_SIZE
PARTITION_DEVICE = FIXED_PARTITION_DEVICE
PARTITION_ADDRESS = FIXED_PARTITION_ADDRESS
