"""SimulatedFlash built from its parts (geometry, faults, backing), from a chip, and by keyword:
the same device each way."""

from __future__ import annotations

import pytest

from flashstack.device import Backing, DeviceGeometry, Endurance, Faults, SimulatedFlash
from flashstack.device.chips import get as chip_get
from flashstack.errors import InvalidArgument, NotFound


def _shape(dev: SimulatedFlash) -> tuple:
    return (dev.name, dev.layout.runs, dev.parameters, dev.program_page_size, dev.timing,
            dev.rated_cycles, dev.endurance, dev.erase_supported, dev.fill_buffer_size,
            dev.unaligned_read, dev.readonly, dev.path, dev.chip)


def test_keywords_and_parts_give_the_same_device():
    by_kw = SimulatedFlash(8192, erase_page_size=1024, write_block_size=4, erase_value=0x00,
                           allow_double_writes=True, unaligned_read=False, name="f")
    geo = DeviceGeometry.uniform(8192, 1024, write_block_size=4, erase_value=0x00,
                                 allow_double_writes=True, unaligned_read=False)
    by_parts = SimulatedFlash.from_parts(geo, name="f")
    assert _shape(by_kw) == _shape(by_parts)
    by_parts.write(0, b"\xf0\x0f\xff\x00")
    by_parts.write(0, b"\x0f\x00\x00\x00")  # erase value 0x00: a re-program ORs (DEV-17)
    assert by_parts.read(0, 4) == b"\xff\x0f\xff\x00"


def test_from_chip_is_the_keyword_chip_form_with_overrides():
    a = SimulatedFlash.from_chip("w25q128jv", size=1 << 20, erase_page_size=4096, name="q")
    b = SimulatedFlash(1 << 20, chip="w25q128jv", erase_page_size=4096, name="q")
    assert _shape(a) == _shape(b) and a.layout.runs == b.layout.runs
    assert a.size == 1 << 20 and a.timing is not None and a.rated_cycles == 100_000
    chip = chip_get("nrf52840")
    c = SimulatedFlash.from_chip(chip, endurance=Endurance(rated_cycles=5))
    assert tuple(map(tuple, c.layout.runs)) == chip.layout
    assert c.write_block_size == 4 and c.timing == chip.timing and c.rated_cycles == 5
    assert c.allow_double_writes == chip.multi_program and c.chip is chip


def test_from_chip_errors_name_what_is_wrong():
    with pytest.raises(InvalidArgument, match="unknown device setting.*colour"):
        SimulatedFlash.from_chip("w25q64jv", colour="red")
    with pytest.raises(NotFound):
        SimulatedFlash.from_chip("no-such-part-xyz")
    with pytest.raises(InvalidArgument, match="size 4096 differs from layout total"):
        SimulatedFlash.from_chip("nrf52840", size=4096)


def test_backing_part_maps_an_image_file(tmp_path):
    path = tmp_path / "flash.bin"
    dev = SimulatedFlash.from_parts(DeviceGeometry(((4, 256),)), Faults(), Backing(path))
    dev.write(0, b"abc")
    dev.close()
    assert path.read_bytes()[:4] == b"abc\xff" and path.stat().st_size == 1024
    ro = SimulatedFlash.from_parts(DeviceGeometry(((4, 256),)), backing=Backing(path, readonly=True))
    assert ro.read(0, 3) == b"abc" and ro.readonly


def test_geometry_checks_name_the_device():
    with pytest.raises(InvalidArgument, match="dev9: write block size 3"):
        SimulatedFlash.from_parts(DeviceGeometry(((4, 96),), write_block_size=3), name="dev9")
    with pytest.raises(InvalidArgument, match="dev9: erase value 0x7"):
        SimulatedFlash.from_parts(DeviceGeometry(((4, 96),), erase_value=7), name="dev9")
    with pytest.raises(InvalidArgument, match="not a multiple of erase page"):
        DeviceGeometry.uniform(1000, 96)
