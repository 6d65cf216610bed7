"""Partitions: Zephyr's flash map (docs/flash-map.md).

Pythonic API: :class:`FlashArea`, :class:`FlashMap`, :class:`FlashSector`; declarative
:class:`DeviceSpec` / :class:`PartitionSpec` and :func:`build_flash_map`. Seed functions
(``flash_area_open``, ``flash_area_read``, …, ``FIXED_PARTITION_*``) in :mod:`.capi`.
Devicetree input lives in the board layer: :mod:`flashstack.board.devicetree`.
"""

from .area import FlashArea, FlashMap, FlashSector
from .storage import Storage
from .specs import (
           DeviceSpec,
           PartitionSpec,
           PartitionWarning,
           build_flash_map,
           check_partitions,
)

__all__ = ["FlashArea", "FlashMap", "FlashSector", "Storage", "DeviceSpec", "PartitionSpec", "PartitionWarning",
           "build_flash_map", "check_partitions"]
