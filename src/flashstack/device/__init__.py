"""Flash devices: the driver layer (docs/device.md).

``SimulatedFlash`` (NOR semantics, counters, power cuts, wear) over memory or an image
file, built from a geometry, faults and a backing (:mod:`.parts`) or a chip; the generic Zephyr helpers (``fill``/``flatten`` methods, :func:`copy`); chip
geometry in :mod:`.chips`; the operation recorder (:mod:`.recorder`); Zephyr's C-named seed
functions in :mod:`.capi`.
"""

from .base import (FLASH_ERASE_C_EXPLICIT, FLASH_ERASE_C_SUPPORTED, FLASH_ERASE_C_VAL_BIT,
                   FLASH_ERASE_CAPS_UNSET, FLASH_ERASE_UNIFORM_PAGE, FlashCaps, FlashDevice,
                   FlashParameters, PageInfo, PageLayout, copy, flash_params_get_erase_cap)
from .chips import Chip
from .faults import Endurance
from .parts import Backing, DeviceGeometry, Faults
from .recorder import FlashOp, RecordingFlash
from .simulated import SimulatedFlash
from .stats import FlashStats, FlashThresholds
from .timing import ZEPHYR_SIM_TIMING, ChipTiming

__all__ = ["FLASH_ERASE_CAPS_UNSET", "FLASH_ERASE_C_EXPLICIT", "FLASH_ERASE_C_SUPPORTED",
           "FLASH_ERASE_C_VAL_BIT", "FLASH_ERASE_UNIFORM_PAGE", "FlashCaps", "FlashDevice",
           "FlashParameters", "PageInfo", "PageLayout", "copy", "flash_params_get_erase_cap",
           "Chip", "ZEPHYR_SIM_TIMING", "ChipTiming", "Endurance", "FlashStats",
           "FlashThresholds", "SimulatedFlash", "Backing", "DeviceGeometry", "Faults", "FlashOp",
           "RecordingFlash"]
