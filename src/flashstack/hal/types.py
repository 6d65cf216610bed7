"""AliOS-Things flash HAL types: ``hal_flash_t``, ``hal_partition_t`` of both header
generations, partition options and ``hal_logic_partition_t`` (docs/alios-hal.md §3).

Upstream: ``include/hal/soc/flash.h`` (1.x/2.x), ``include/aos/hal/flash.h`` (3.x),
``board/mk3060/board.c`` (board-era enum variant).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import cast

from ..errors import InvalidArgument

__all__ = [
    "HalFlashType", "HalPartitionV2", "HalPartitionV3", "HalPartitionBoard", "HalPartition",
    "HalLogicPartition", "partition_enum", "parse_partition", "parse_owner", "parse_options",
    "PAR_OPT_READ_POS", "PAR_OPT_WRITE_POS", "PAR_OPT_READ_MASK", "PAR_OPT_WRITE_MASK",
    "PAR_OPT_READ_DIS", "PAR_OPT_READ_EN", "PAR_OPT_WRITE_DIS", "PAR_OPT_WRITE_EN",
    "HAL_FLASH_EMBEDDED", "HAL_FLASH_SPI", "HAL_FLASH_QSPI", "HAL_FLASH_MAX", "HAL_FLASH_NONE",
    "GENERATIONS",
]


class HalFlashType(IntEnum):
    """``hal_flash_t``: the device that holds a partition."""

    HAL_FLASH_EMBEDDED = 0
    HAL_FLASH_SPI = 1
    HAL_FLASH_QSPI = 2
    HAL_FLASH_MAX = 3
    HAL_FLASH_NONE = 4


HAL_FLASH_EMBEDDED = HalFlashType.HAL_FLASH_EMBEDDED
HAL_FLASH_SPI = HalFlashType.HAL_FLASH_SPI
HAL_FLASH_QSPI = HalFlashType.HAL_FLASH_QSPI
HAL_FLASH_MAX = HalFlashType.HAL_FLASH_MAX
HAL_FLASH_NONE = HalFlashType.HAL_FLASH_NONE

PAR_OPT_READ_POS = 0
PAR_OPT_WRITE_POS = 1
PAR_OPT_READ_MASK = 0x1 << PAR_OPT_READ_POS
PAR_OPT_WRITE_MASK = 0x1 << PAR_OPT_WRITE_POS
PAR_OPT_READ_DIS = 0x0 << PAR_OPT_READ_POS
PAR_OPT_READ_EN = 0x1 << PAR_OPT_READ_POS
PAR_OPT_WRITE_DIS = 0x0 << PAR_OPT_WRITE_POS
PAR_OPT_WRITE_EN = 0x1 << PAR_OPT_WRITE_POS

_COMMON = ["BOOTLOADER", "APPLICATION", "ATE", "OTA_TEMP", "RF_FIRMWARE", "PARAMETER_1",
           "PARAMETER_2", "PARAMETER_3", "PARAMETER_4", "BT_FIRMWARE", "SPIFFS", "CUSTOM_1",
           "CUSTOM_2"]


def _enum(name: str, tail: list[str]) -> type[IntEnum]:
    members = {"HAL_PARTITION_ERROR": -1}
    for i, n in enumerate(_COMMON + tail):
        members["HAL_PARTITION_" + n] = i
    # the functional API builds a class; mypy reads a call with a computed name as a member lookup
    return cast("type[IntEnum]", IntEnum(name, members))


#: ``include/hal/soc/flash.h`` (1.x/2.x): MAX = 13, NONE = 14.
HalPartitionV2 = _enum("HalPartitionV2", ["MAX", "NONE"])
#: ``include/aos/hal/flash.h`` (3.x): 2ND_BOOT, MBINS_APP, MBINS_KERNEL, then MAX = 16, NONE = 17.
HalPartitionV3 = _enum("HalPartitionV3", ["2ND_BOOT", "MBINS_APP", "MBINS_KERNEL", "MAX", "NONE"])
#: Board-era variant (MK3060): RECOVERY = 13, RECOVERY_BACK_PARA = 14, MAX = 15, NONE = 16.
HalPartitionBoard = _enum("HalPartitionBoard", ["RECOVERY", "RECOVERY_BACK_PARA", "MAX", "NONE"])
#: The default generation (3.x).
HalPartition = HalPartitionV3

#: The names shared by every generation (values -1..12) as module constants.
_SHARED = {m.name: m for m in HalPartitionV3 if m.value <= 12}
globals().update(_SHARED)
__all__ += list(_SHARED)

GENERATIONS = {"v2": HalPartitionV2, "v3": HalPartitionV3, "board": HalPartitionBoard}


def partition_enum(generation: str = "v3") -> type[IntEnum]:
    """The ``hal_partition_t`` enumeration of ``generation`` ("v2", "v3" or "board"); EINVAL otherwise."""
    try:
        return GENERATIONS[generation]
    except KeyError:
        raise InvalidArgument(f"unknown HAL header generation {generation!r} "
                              f"(known: {', '.join(GENERATIONS)})") from None


def _is_reserved(enum: type[IntEnum], value: int) -> bool:
    return value in (-1, enum["HAL_PARTITION_MAX"], enum["HAL_PARTITION_NONE"])


def parse_partition(spec, generation: str = "v3") -> int:
    """A partition value from an int, ``"PARAMETER_2"``, ``"HAL_PARTITION_PARAMETER_2"`` or ``"6"``.

    Raises InvalidArgument (EINVAL) for an unknown name.
    """
    enum = partition_enum(generation)
    if isinstance(spec, int):
        return int(spec)
    text = str(spec).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    name = text.upper()
    if not name.startswith("HAL_PARTITION_"):
        name = "HAL_PARTITION_" + name
    try:
        return int(enum[name])
    except KeyError:
        raise InvalidArgument(f"unknown HAL partition {spec!r} in generation {generation} "
                              f"(known: {', '.join(m.name[14:] for m in enum if m.value >= 0)})") from None


def partition_name(value: int, generation: str = "v3") -> str:
    """``"PARAMETER_2"`` for 6; the number as text when the generation has no such value."""
    enum = partition_enum(generation)
    try:
        return enum(value).name[len("HAL_PARTITION_"):]
    except ValueError:
        return str(value)


def parse_owner(spec) -> HalFlashType:
    """``hal_flash_t`` from an int or a name (``"EMBEDDED"``, ``"HAL_FLASH_QSPI"``); EINVAL otherwise."""
    if isinstance(spec, int):
        try:
            return HalFlashType(spec)
        except ValueError:
            raise InvalidArgument(f"unknown hal_flash_t value {spec}") from None
    name = str(spec).strip().upper()
    if not name.startswith("HAL_FLASH_"):
        name = "HAL_FLASH_" + name
    try:
        return HalFlashType[name]
    except KeyError:
        raise InvalidArgument(f"unknown flash owner {spec!r} (EMBEDDED, SPI or QSPI)") from None


def parse_options(spec) -> int:
    """Options mask from an int or a list/`|`-string of ``READ_EN``/``WRITE_EN``/``*_DIS`` names."""
    if isinstance(spec, int):
        return spec
    names = spec.replace("|", ",").split(",") if isinstance(spec, str) else list(spec)
    mask = 0
    table = {"READ_EN": PAR_OPT_READ_EN, "WRITE_EN": PAR_OPT_WRITE_EN,
             "READ_DIS": PAR_OPT_READ_DIS, "WRITE_DIS": PAR_OPT_WRITE_DIS}
    for n in names:
        key = str(n).strip().upper().removeprefix("PAR_OPT_")
        if not key:
            continue
        if key not in table:
            raise InvalidArgument(f"unknown partition option {n!r} (READ_EN, WRITE_EN, READ_DIS, WRITE_DIS)")
        mask |= table[key]
    return mask


@dataclass(frozen=True)
class HalLogicPartition:
    """``hal_logic_partition_t``: owner, description, absolute start address, length (bytes), options."""

    partition_owner: int
    partition_description: str
    partition_start_addr: int
    partition_length: int
    partition_options: int

    @property
    def readable(self) -> bool:
        return bool(self.partition_options & PAR_OPT_READ_EN)

    @property
    def writable(self) -> bool:
        return bool(self.partition_options & PAR_OPT_WRITE_EN)

    def to_json(self) -> dict:
        return {"owner": HalFlashType(self.partition_owner).name[len("HAL_FLASH_"):],
                "description": self.partition_description,
                "start": self.partition_start_addr, "length": self.partition_length,
                "options": self.partition_options}
