"""Flash devices: the driver layer (spec/device.md)."""

from .base import (FLASH_ERASE_C_EXPLICIT, FlashCaps, FlashDevice, FlashParameters, PageInfo,
                   PageLayout, copy, flash_params_get_erase_cap)
from .simulated import (ZEPHYR_SIM_TIMING, ChipTiming, Endurance, FlashStats, FlashThresholds,
                        SimulatedFlash)

__all__ = ["FLASH_ERASE_C_EXPLICIT", "FlashCaps", "FlashDevice", "FlashParameters", "PageInfo",
           "PageLayout", "copy", "flash_params_get_erase_cap", "ZEPHYR_SIM_TIMING", "ChipTiming",
           "Endurance", "FlashStats", "FlashThresholds", "SimulatedFlash"]
