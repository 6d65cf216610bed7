"""Devicetree input for boards: DTS (raw or preprocessed) and DTB into flash devices and partitions.

Part of the board layer: it reads devicetrees and produces the flash map core's
:class:`~flashstack.flash_map.DeviceSpec` / :class:`~flashstack.flash_map.PartitionSpec`.

Modules: :mod:`.dtree` (neutral tree model), :mod:`.dts` (dtlib, extra ``dts``),
:mod:`.dtb` (flattened trees, standard library), :mod:`.preprocess` (C preprocessing),
:mod:`._ordinal` (Zephyr dependency ordinals and partition IDs), :mod:`.extract` (partitions and
devices). Entry points: :func:`load_devicetree`, :func:`flash_map_from_devicetree`, :func:`read_tree`.
"""

from .extract import (
    DevicetreeInfo,
    extract,
    flash_map_from_devicetree,
    load_devicetree,
    read_tree,
)

__all__ = ["DevicetreeInfo", "extract", "flash_map_from_devicetree", "load_devicetree", "read_tree"]
