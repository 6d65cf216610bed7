"""The inspect job: flash images (raw or Intel HEX) turn into a report per partition.

Entry points::

    from flashstack.inspect import inspect_images, inspect_area, scan_image
    report = inspect_images(["build/"])                  # board and configs from build.json
    report = inspect_images(["dump.bin"], board="nrf52840dk_nrf52840")
    report = scan_image(open("dump.bin", "rb").read())   # boardless: headers and their offsets

Each partition is identified as erased, MCUboot image, AliOS KV store, Zephyr NVS (+
Settings), LLKERNEL KF region, littlefs, or unknown data (entropy, first non-erased offset).
"""

from .analysis import byte_summary, entropy, first_non_erased
from ._identify import PartitionView, identify, kinds
from .job import find_record, inspect_area, inspect_images, load_images, read_image_file
from ..mcuboot.image import McubootImage, make_image, parse_image
from .scan import scan_file, scan_image

__all__ = ["byte_summary", "entropy", "first_non_erased", "KINDS", "kinds", "PartitionView", "identify",
           "find_record", "inspect_area", "inspect_images", "load_images", "read_image_file",
           "McubootImage", "make_image", "parse_image", "scan_file", "scan_image"]


def __getattr__(name: str):
    if name == "KINDS":   # the registry's kinds, computed on use (kinds register on import)
        return kinds()
    raise AttributeError(name)
