"""One way for the KV tests to make a device and configuration from a geometry."""

from flashstack.device import SimulatedFlash
from flashstack.kv import KVConfig


def kv_device(geometry, image=None):
    """``(device, KVConfig)`` for ``geometry`` = ``(blocks, block size, align)`` on 4 KiB erase
    pages with double writes allowed (the KV programs state bytes in place), holding ``image``
    when given."""
    blocks, block, align = geometry
    size = blocks * block
    dev = SimulatedFlash(size, erase_page_size=4096, allow_double_writes=True)
    if image is not None:
        dev.restore(image)
    return dev, KVConfig(total_size=size, block_size=block, align=align)
