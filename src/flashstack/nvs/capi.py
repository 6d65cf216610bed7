"""Zephyr's NVS API with its C names, argument order and return codes (spec §16.1).

Thin functions over :class:`~flashstack.nvs.NVSStore`. Upstream: zephyr
include/zephyr/fs/nvs.h and subsys/fs/nvs/nvs.c @0021ff0f. Every function returns 0, a
length or ``-errno`` (Linux numbering of the host's ``errno``); ``PowerLoss`` propagates.
"""

from __future__ import annotations

import builtins
import errno as _errno

from ..errors import call_with_errno
from ..flash_map.area import FlashArea
from .store import NVSStore

__all__ = ["NvsFs", "nvs_mount", "nvs_clear", "nvs_write", "nvs_delete", "nvs_read",
           "nvs_read_hist", "nvs_calc_free_space", "nvs_sector_max_data_size",
           "nvs_sector_use_next"]


class NvsFs:
    """``struct nvs_fs``: set ``offset``, ``sector_size``, ``sector_count``, ``flash_device``
    (a flash device, or a ``FlashArea`` with ``offset`` relative to it), then ``nvs_mount``.

    ``data_crc`` and ``init_bad_region`` stand for CONFIG_NVS_DATA_CRC and
    CONFIG_NVS_INIT_BAD_REGION. ``ate_wra`` / ``data_wra`` are in the reference's packed
    form ``(sector << 16) | offset``; ``store`` is the :class:`NVSStore` after a mount.
    """

    def __init__(self, flash_device=None, offset: int = 0, sector_size: int = 0,
                 sector_count: int = 0, *, data_crc: bool = False, init_bad_region: bool = False):
        self.flash_device = flash_device
        self.offset = offset
        self.sector_size = sector_size
        self.sector_count = sector_count
        self.data_crc = data_crc
        self.init_bad_region = init_bad_region
        self.store: NVSStore | None = None

    @property
    def ready(self) -> bool:
        """``fs->ready``: True after a successful :func:`nvs_mount`, until a failed mount or :func:`nvs_clear`."""
        return self.store is not None and self.store.mounted

    def _packed(self, pos: int) -> int:
        assert self.store is not None, "positions exist once mounted"
        s = self.store.geo.S
        return ((pos // s) << 16) | (pos % s)

    @property
    def ate_wra(self) -> int:
        """Next ATE slot, packed ``(sector << 16) | offset`` (0 before a mount)."""
        return self._packed(self.store.ate_wra) if self.store and self.store.geo else 0

    @property
    def data_wra(self) -> int:
        """Next data byte, packed ``(sector << 16) | offset`` (0 before a mount)."""
        return self._packed(self.store.data_wra) if self.store and self.store.geo else 0

    def _area(self) -> FlashArea:
        dev, size = self.flash_device, self.sector_size * self.sector_count
        if isinstance(dev, FlashArea):
            if self.offset == 0 and size == dev.size:
                return dev
            return FlashArea(dev.id, dev.offset + self.offset, size, dev.device, dev.label,
                             dev.node_labels, dev.read_only)
        return FlashArea(None, self.offset, size, dev, label="nvs")


def _call(fn, *args) -> int:
    """The store call's result as the return code (0 for None), or -errno."""
    rc, result = call_with_errno(fn, *args)
    return rc or (0 if result is None else result)


def nvs_mount(fs: NvsFs) -> int:
    """Mount; 0, -EINVAL, -EDEADLK, -ESPIPE, -ENXIO or a device error."""
    if fs.store is not None:
        fs.store.unmount()
    fs.store = NVSStore(fs._area(), fs.sector_size, fs.sector_count, fs.data_crc,
                        fs.init_bad_region)
    return _call(fs.store.mount)


def _store(fs: NvsFs) -> NVSStore | None:
    return fs.store if fs.store is not None and fs.store.mounted else None


def nvs_clear(fs: NvsFs) -> int:
    """Erase all sectors; the fs must be mounted again. 0, -EACCES, -ENXIO."""
    st = _store(fs)
    return -_errno.EACCES if st is None else _call(st.clear)


def _bad_length(data, n: int) -> bool:
    """EINVAL rule of the seed functions: ``n < 0``, or ``n > 0`` bytes that ``data`` (None or
    bytes-like) does not hold."""
    return n < 0 or (n > 0 and (data is None or memoryview(data).nbytes < n))


def write_from(st, id: int, data, len: int) -> int:
    """Body of ``nvs_write`` / ``zms_write`` on a mounted store ``st`` (None: -EACCES)."""
    if st is None:
        return -_errno.EACCES
    if _bad_length(data, len):
        return -_errno.EINVAL
    return _call(st.write, id, bytes(memoryview(data)[:len]) if len else b"")


def nvs_write(fs: NvsFs, id: int, data, len: int) -> int:
    """Write ``data[:len]``; ``len`` on success, 0 if nothing was written, else -errno."""
    return write_from(_store(fs), id, data, len)


def nvs_delete(fs: NvsFs, id: int) -> int:
    """``nvs_write(fs, id, None, 0)``."""
    return nvs_write(fs, id, None, 0)


def read_into(st, id: int, data, len: int, cnt: int) -> int:
    """Body of ``nvs_read_hist`` / ``zms_read_hist`` on a mounted store ``st`` (None:
    -EACCES): fill ``data`` with up to ``len`` bytes of history ``cnt``; the stored length."""
    if st is None:
        return -_errno.EACCES
    if _bad_length(data, len):
        return -_errno.EINVAL
    rc, entry = call_with_errno(st.read_entry, id, cnt, len)
    if rc:
        return rc
    vlen, got = entry
    if got:
        memoryview(data)[:builtins.len(got)] = got
    return vlen


def nvs_read_hist(fs: NvsFs, id: int, data, len: int, cnt: int) -> int:
    """Fill the writable buffer ``data`` with up to ``len`` bytes of history ``cnt``; returns the
    stored length (may exceed ``len``) or -errno."""
    return read_into(_store(fs), id, data, len, cnt)


def nvs_read(fs: NvsFs, id: int, data, len: int) -> int:
    """``nvs_read_hist(fs, id, data, len, 0)``."""
    return nvs_read_hist(fs, id, data, len, 0)


def nvs_calc_free_space(fs: NvsFs) -> int:
    """Free bytes (NVS-20) or -EACCES."""
    st = _store(fs)
    return -_errno.EACCES if st is None else _call(st.free_space)


def nvs_sector_max_data_size(fs: NvsFs) -> int:
    """``ate_wra - data_wra - A - C`` as a signed value (negative when full), -EACCES."""
    st = _store(fs)
    return -_errno.EACCES if st is None else _call(st.raw_sector_max_data_size)


def nvs_sector_use_next(fs: NvsFs) -> int:
    """Close the write sector and garbage-collect the next; 0 or -errno."""
    st = _store(fs)
    return -_errno.EACCES if st is None else _call(st.use_next_sector)
