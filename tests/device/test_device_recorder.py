"""The operation recorder (flashstack.device.recorder): typed records, spec lines, pass-through."""

from __future__ import annotations

import pytest

from flashstack.device import FlashOp, RecordingFlash, SimulatedFlash
from flashstack.errors import InvalidArgument, PowerLoss
from flashstack.flash_map import FlashArea


def _rec(**kw) -> tuple[SimulatedFlash, RecordingFlash]:
    dev = SimulatedFlash(4096, erase_page_size=1024, write_block_size=4)
    return dev, RecordingFlash(dev, **kw)


def test_records_writes_and_erases_in_order_and_passes_them_on():
    dev, rec = _rec()
    rec.write(8, b"\x01\x02\x03\x04")
    rec.erase(1024, 1024)
    assert rec.read(8, 4) == b"\x01\x02\x03\x04" == dev.read(8, 4)
    assert rec.ops == [FlashOp("write", 8, 4, b"\x01\x02\x03\x04"), FlashOp("erase", 1024, 1024)]
    assert rec.lines() == ["P 8: 01 02 03 04", "E 1024 1024"]
    assert dev.stats.flash_write_calls == 1 and dev.stats.flash_erase_calls == 1


def test_reads_are_recorded_only_when_asked():
    _, quiet = _rec()
    quiet.read(0, 16)
    assert quiet.ops == []
    _, loud = _rec(reads=True)
    loud.read(4, 16)
    assert loud.ops == [FlashOp("read", 4, 16)] and loud.lines() == ["R 4 16"]


def test_note_is_asked_for_each_operation():
    notes = iter(["format", "gc"])
    _, rec = _rec(note=lambda: next(notes))
    rec.erase(0, 1024)
    rec.write(0, b"\0" * 4)
    assert [op.note for op in rec.ops] == ["format", "gc"]


def test_take_empties_the_log():
    _, rec = _rec()
    rec.write(0, b"\0" * 4)
    assert [op.kind for op in rec.take()] == ["write"] and rec.ops == []


def test_geometry_and_extras_are_the_wrapped_devices():
    dev, rec = _rec()
    assert (rec.size, rec.write_block_size, rec.erase_value, rec.page_count) == (4096, 4, 0xFF, 4)
    rec.write(0, b"\0" * 4)
    assert rec.snapshot() == dev.snapshot()  # not a FlashDevice method: read from the device


def test_a_refused_or_cut_operation_is_still_recorded():
    dev, rec = _rec()
    with pytest.raises(InvalidArgument):
        rec.write(2, b"\0" * 4)  # misaligned: the device refuses it
    dev.arm_power_cut(after=1)
    with pytest.raises(PowerLoss):
        rec.erase(0, 1024)
    assert [(op.kind, op.offset) for op in rec.ops] == [("write", 2), ("erase", 0)]


def test_area_recorded_logs_device_offsets_of_the_partition():
    dev = SimulatedFlash(4096, erase_page_size=1024, write_block_size=4)
    area, rec = FlashArea(1, 1024, 2048, dev, label="storage").recorded()
    area.write(4, b"\xaa" * 4)
    area.erase(1024, 1024)
    assert rec.lines() == ["P 1028: aa aa aa aa", "E 2048 1024"]
    assert (area.offset, area.size, area.label, area.device) == (1024, 2048, "storage", rec)
    assert dev.read(1028, 4) == b"\xaa" * 4
