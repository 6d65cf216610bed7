"""Partitions: Zephyr's flash map (spec/flash-map.md)."""

from .area import FlashArea, FlashMap, FlashSector

__all__ = ["FlashArea", "FlashMap", "FlashSector"]
