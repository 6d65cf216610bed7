"""The AliOS-Things flash HAL (docs/alios-hal.md): ``hal_partitions`` tables, :class:`HalFlash`
with partition-relative offsets, and the seed functions ``hal_flash_*``."""

from .capi import (get_default_hal, hal_flash_addr2offset, hal_flash_dis_secure, hal_flash_enable_secure,
                  hal_flash_erase, hal_flash_erase_write, hal_flash_get_info, hal_flash_info_get,
                  hal_flash_read, hal_flash_write, set_default_hal)
from .board import (DEFAULT_LABEL_MAP, MK3060_TABLE, HalPartitionRow, hal_from_board,
                    hal_partitions_from_board, mk3060_hal)
from .flash import HalFlash, HalPartitionView, HalSpan
from .linuxhost import export_linuxhost, import_linuxhost, linuxhost_name
from .types import *  # noqa: F401,F403 - the HAL enums and constants
from .types import __all__ as _types_all

__all__ = ["HalFlash", "HalPartitionView", "HalSpan", "HalPartitionRow", "DEFAULT_LABEL_MAP",
           "MK3060_TABLE", "hal_from_board", "export_linuxhost", "import_linuxhost", "linuxhost_name", "hal_partitions_from_board", "mk3060_hal",
           "set_default_hal", "get_default_hal", "hal_flash_get_info", "hal_flash_info_get",
           "hal_flash_erase", "hal_flash_write", "hal_flash_erase_write", "hal_flash_read",
           "hal_flash_enable_secure", "hal_flash_dis_secure", "hal_flash_addr2offset", *_types_all]
