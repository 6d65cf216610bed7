"""Partitions: Zephyr's flash map (spec/flash-map.md).

Pythonic API: :class:`FlashArea`, :class:`FlashMap`, :class:`FlashSector`; declarative
:class:`DeviceSpec` / :class:`PartitionSpec` and :func:`build_flash_map`; devicetree input in
:mod:`.devicetree` (``load_devicetree``, ``flash_map_from_devicetree``). Seed functions
(``flash_area_open``, ``flash_area_read``, …, ``FIXED_PARTITION_*``) in :mod:`.zephyr`.
"""

from .area import FlashArea, FlashMap, FlashSector
from .specs import DeviceSpec, PartitionSpec, PartitionWarning, build_flash_map, check_partitions

__all__ = ["FlashArea", "FlashMap", "FlashSector", "DeviceSpec", "PartitionSpec", "PartitionWarning",
           "build_flash_map", "check_partitions", "load_devicetree", "flash_map_from_devicetree"]


def __getattr__(name):  # devicetree input loads on first use
    if name in ("load_devicetree", "flash_map_from_devicetree"):
        from . import devicetree
        return getattr(devicetree, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
