"""MCUboot on flash: image headers/TLVs, slot trailers, swap state and the next boot.

A store-layer package (standard library only) over :class:`flashstack.flash_map.FlashArea`;
every offset is area-relative, in bytes. Mirrors mcu-tools/mcuboot ``boot/bootutil`` — see
docs/mcuboot-trailer.md for the rules (MCB-…) the code cites::

    from flashstack.mcuboot import BootConfig, read_swap_state, swap_type_of, set_pending, predict_boot
    cfg = BootConfig(mode="swap-move", max_align=8, max_img_sectors=32)
    set_pending(secondary_area, permanent=False, cfg=cfg)
    predict_boot(primary_area, secondary_area, cfg=cfg)   # BootPrediction(action="swap", ...)
"""

from .image import (
                    IMAGE_MAGIC,
                    IMAGE_MAGIC_V1,
                    TLV_INFO_MAGIC,
                    TLV_NAMES,
                    TLV_PROT_INFO_MAGIC,
                    McubootImage,
                    image_problems,
                    make_image,
                    parse_image,
                    read_version,
)
from .status import (
                    BootPrediction,
                    BootStatus,
                    incoming_image_offset,
                    max_image_size,
                    predict_boot,
                    read_boot_status,
                    secondary_image_offset,
                    status_source,
)
from .trailer import (
                    BOOT_EBADIMAGE,
                    BOOT_EBADVECT,
                    BOOT_EFLASH,
                    MODES,
                    TRAILER_STATES,
                    BootConfig,
                    Flag,
                    Magic,
                    McubootError,
                    SwapState,
                    SwapType,
                    TrailerLayout,
                    area_layout,
                    boot_magic,
                    boot_set_confirmed,
                    boot_set_pending,
                    boot_swap_type,
                    detect_max_align,
                    read_swap_state,
                    set_confirmed,
                    set_next,
                    set_pending,
                    swap_type,
                    swap_type_of,
                    trailer_layout,
                    write_trailer,
)

__all__ = [
                    "BOOT_EBADIMAGE",
                    "BOOT_EBADVECT",
                    "BOOT_EFLASH",
                    "IMAGE_MAGIC",
                    "IMAGE_MAGIC_V1",
                    "MODES",
                    "TLV_INFO_MAGIC",
                    "TLV_NAMES",
                    "TLV_PROT_INFO_MAGIC",
                    "TRAILER_STATES",
                    "BootConfig",
                    "BootPrediction",
                    "BootStatus",
                    "Flag",
                    "Magic",
                    "McubootError",
                    "McubootImage",
                    "SwapState",
                    "SwapType",
                    "TrailerLayout",
                    "area_layout",
                    "boot_magic",
                    "boot_set_confirmed",
                    "boot_set_pending",
                    "boot_swap_type",
                    "detect_max_align",
                    "image_problems",
                    "incoming_image_offset",
                    "make_image",
                    "max_image_size",
                    "parse_image",
                    "predict_boot",
                    "read_boot_status",
                    "read_swap_state",
                    "read_version",
                    "secondary_image_offset",
                    "set_confirmed",
                    "set_next",
                    "set_pending",
                    "status_source",
                    "swap_type",
                    "swap_type_of",
                    "trailer_layout",
                    "write_trailer",
]
