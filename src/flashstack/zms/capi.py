"""Zephyr's ZMS API with its C names, argument order and return codes (spec §16.1).

Thin functions over :class:`~flashstack.zms.ZMSStore`. Upstream: zephyr
include/zephyr/fs/zms.h and subsys/fs/zms/zms.c @078f92a4. Every function returns 0, a
length or ``-errno`` (the host's errno numbering); ``PowerLoss`` propagates.
"""

from __future__ import annotations


from ..nvs.capi import SectorFs, _call, on_store, read_into, write_from
from .store import ZMSStore

__all__ = [
    "ZmsFs",
    "zms_active_sector_free_space",
    "zms_calc_free_space",
    "zms_clear",
    "zms_delete",
    "zms_get_data_length",
    "zms_mount",
    "zms_read",
    "zms_read_hist",
    "zms_sector_use_next",
    "zms_write",
]

ADDR_SECT_SHIFT = 32


class ZmsFs(SectorFs):
    """``struct zms_fs``: set ``offset``, ``sector_size``, ``sector_count``, ``flash_device``
    (a flash device, or a ``FlashArea`` with ``offset`` relative to it), then ``zms_mount``.

    ``data_crc``, ``id_64bit`` and ``no_double_write`` stand for the Kconfig options.
    ``ate_wra`` / ``data_wra`` are packed ``(sector << 32) | offset`` as the reference keeps
    them; ``store`` is the :class:`ZMSStore` after a mount.
    """

    ADDR_SHIFT = ADDR_SECT_SHIFT
    LABEL = "zms"

    def __init__(self, flash_device=None, offset: int = 0, sector_size: int = 0,
                 sector_count: int = 0, *, data_crc: bool = False, id_64bit: bool = False,
                 no_double_write: bool = False):
        super().__init__(flash_device, offset, sector_size, sector_count, data_crc)
        self.id_64bit = id_64bit
        self.no_double_write = no_double_write
        self.store: ZMSStore | None = None

    @property
    def sector_cycle(self) -> int:
        """Cycle counter the write sector's ATEs carry."""
        return self.store.sector_cycle if self.store else 0


def _store(fs: ZmsFs) -> ZMSStore | None:
    return fs.store if fs.store is not None and fs.store.mounted else None


def zms_mount(fs: ZmsFs) -> int:
    """Mount; 0, -EINVAL, -ENOTSUP, -EPROTONOSUPPORT, -ESPIPE, -ENXIO or a device error."""
    if fs.store is not None:
        fs.store.unmount()
    fs.store = ZMSStore(fs._area(), fs.sector_size, fs.sector_count, fs.data_crc,
                        fs.id_64bit, fs.no_double_write)
    return _call(fs.store.mount)


def zms_clear(fs: ZmsFs) -> int:
    """Reset every sector; the fs must be mounted again. 0, -EACCES, -ENXIO, device errors."""
    return on_store(fs, "clear")


def zms_write(fs: ZmsFs, id: int, data, len: int) -> int:
    """Write ``data[:len]``; ``len``, 0 (delete, unchanged) or -errno."""
    return write_from(_store(fs), id, data, len)


def zms_delete(fs: ZmsFs, id: int) -> int:
    """``zms_write(fs, id, None, 0)``."""
    return zms_write(fs, id, None, 0)


def zms_read_hist(fs: ZmsFs, id: int, data, len: int, cnt: int) -> int:
    """Fill ``data`` with up to ``len`` bytes of history ``cnt``; the stored length or -errno."""
    return read_into(_store(fs), id, data, len, cnt)


def zms_read(fs: ZmsFs, id: int, data, len: int) -> int:
    """``min(zms_read_hist(fs, id, data, len, 0), len)``, errors unchanged."""
    rc = zms_read_hist(fs, id, data, len, 0)
    return rc if rc < 0 else min(rc, len)


def zms_get_data_length(fs: ZmsFs, id: int) -> int:
    """Stored length of ``id`` or -errno."""
    return zms_read_hist(fs, id, None, 0, 0)


def zms_calc_free_space(fs: ZmsFs) -> int:
    """Free bytes (ZMS-24 with F5) or -EACCES."""
    return on_store(fs, "free_space")


def zms_active_sector_free_space(fs: ZmsFs) -> int:
    """``ate_wra - data_wra - A`` signed (negative when the pointers are close), -EACCES."""
    return on_store(fs, "raw_active_sector_free_space")


def zms_sector_use_next(fs: ZmsFs) -> int:
    """Close the write sector and garbage-collect the next; 0 or -errno."""
    return on_store(fs, "use_next_sector")
