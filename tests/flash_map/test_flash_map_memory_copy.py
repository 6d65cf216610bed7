"""FlashArea.memory_copy: one in-memory copy of a partition, geometry kept (write block, erase
value, erase pages, program page), the original never written."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import InvalidArgument
from flashstack.flash_map import FlashArea


def _area(erase_value=0xFF):
    dev = SimulatedFlash(layout=[(4, 1024), (2, 4096)], write_block_size=4, erase_value=erase_value,
                         program_page_size=128, name="flash0")
    area = FlashArea(3, 2048, 2048 + 8192, dev, label="storage", node_labels=("storage_partition",),
                     address=0x1000_0800)
    area.write(0, b"\x12\x34\x56\x78")
    return dev, area


@pytest.mark.parametrize("erase_value", [0xFF, 0x00])
def test_copy_keeps_geometry_content_and_names(erase_value):
    dev, area = _area(erase_value)
    copy = area.memory_copy()
    assert copy.offset == 0 and copy.size == area.size and copy.id == 3
    assert (copy.name, copy.address, copy.label) == ("storage_partition", 0x1000_0800, "storage")
    assert copy.align == 4 and copy.erased_val == erase_value
    assert copy.device.program_page_size == 128
    assert copy.page_runs() == [(2, 1024), (2, 4096)] == area.page_runs()
    assert copy.read(0, area.size) == area.read(0, area.size)
    before = dev.snapshot()
    copy.erase(0, 1024)
    copy.write(0, b"\x00\x00\x00\x00")
    copy.write(0, b"\x00\x00\x00\x00")          # double writes allowed on the copy
    assert dev.snapshot() == before               # the original is never written


def test_prefix_and_erased_copies():
    _, area = _area()
    head = area.memory_copy(2048)
    assert head.size == 2048 and head.page_runs() == [(2, 1024)]
    assert head.read(0, 4) == b"\x12\x34\x56\x78"
    blank = area.memory_copy(erased=True)
    assert blank.read(0, area.size) == b"\xff" * area.size
    with pytest.raises(InvalidArgument):
        area.memory_copy(area.size + 1)
