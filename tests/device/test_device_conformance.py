"""docs/device.md §9: Zephyr flash_sim_api scenarios on the simulator geometry
(1 MiB, erase page 1024, wbs 4, aligned reads, no double writes), for erase value 0xFF and
0x00 and, where marked, RAM-like. Return codes are checked through the seed functions
(flashstack.device.capi), as the Zephyr suite does."""

from __future__ import annotations

import errno
import struct

import pytest

from flashstack.device import SimulatedFlash
from flashstack.device import capi as z
from flashstack.errors import DeviceIOError, InvalidArgument, NotSupported

SIZE, PAGE, WBS = 1 << 20, 1024, 4


def words(start: int, count: int) -> bytes:
    return struct.pack(f"<{count}I", *range(start, start + count))


def test_read_after_erase(sim, erase_value):
    assert z.flash_erase(sim, 0, SIZE) == 0
    buf = bytearray(SIZE)
    assert z.flash_read(sim, 0, buf, SIZE) == 0
    assert buf.count(erase_value) == SIZE


@pytest.mark.parametrize("ram_like", [False, True], ids=["nor", "ram_like"])
def test_write_read_erase(sim_factory, erase_value, ram_like):
    dev = sim_factory(erase_value, explicit_erase=not ram_like)
    for i in range(SIZE // 4):  # incrementing u32 words, one 4-byte write each
        assert z.flash_write(dev, 4 * i, struct.pack("<I", i), 4) == 0
    assert dev.stats.flash_write_calls == SIZE // 4
    assert dev.read(0, SIZE) == words(0, SIZE // 4)
    assert z.flash_erase(dev, PAGE, PAGE) == 0
    assert dev.read(0, PAGE) == words(0, PAGE // 4)
    assert dev.read(PAGE, PAGE) == bytes([erase_value]) * PAGE
    assert dev.read(2 * PAGE, 2 * PAGE) == words(2 * PAGE // 4, 2 * PAGE // 4)
    assert dev.stats.erase_cycles[1] == 1 and sum(dev.stats.erase_cycles) == 1


def test_out_of_bounds(sim):
    data = bytearray(8)
    einval = -errno.EINVAL
    for off, n in [(-4, 4), (-4, 8), (SIZE, 4), (SIZE - 4, 8)]:
        assert z.flash_write(sim, off, bytes(n), n) == einval, (off, n)
        assert z.flash_read(sim, off, data, n) == einval, (off, n)
    for off, n in [(-PAGE, PAGE), (SIZE, PAGE), (-2 * PAGE, 2 * PAGE), (-2 * PAGE, 4 * PAGE),
                   (SIZE - PAGE, 2 * PAGE)]:
        assert z.flash_erase(sim, off, n) == einval, (off, n)
    assert sim.stats.flash_write_calls == sim.stats.flash_read_calls == sim.stats.flash_erase_calls == 0
    assert sim.snapshot() == bytes([sim.erase_value]) * SIZE
    with pytest.raises(InvalidArgument, match=r"0x100000 len 4 outside device"):
        sim.write(SIZE, b"abcd")


def test_alignment(sim):
    einval = -errno.EINVAL
    buf = bytearray(8)
    assert z.flash_read(sim, PAGE + 1, buf, 4) == einval
    assert z.flash_write(sim, PAGE + 1, b"\x00" * 4, 4) == einval
    assert z.flash_write(sim, PAGE, b"\x00" * 3, 3) == einval
    assert z.flash_erase(sim, PAGE + 1, PAGE) == einval
    assert z.flash_erase(sim, PAGE, PAGE + 1) == einval
    assert sim.stats.flash_write_calls == sim.stats.flash_erase_calls == 0
    sim.unaligned_read = True  # FLASH_SIMULATOR_UNALIGNED_READ
    assert z.flash_read(sim, PAGE + 1, buf, 3) == 0


def test_double_write(sim_factory, erase_value):
    data = bytes([erase_value ^ 0xFF]) * 4
    dev = sim_factory(erase_value)
    assert z.flash_erase(dev, 0, PAGE) == 0
    assert z.flash_write(dev, 0, data, 4) == 0
    assert z.flash_write(dev, 0, data, 4) == -errno.EIO
    assert dev.stats.double_writes == 1
    with pytest.raises(DeviceIOError, match="double write"):
        dev.write(0, data)

    dev = sim_factory(erase_value, allow_double_writes=True)
    assert dev.parameters.multi_program
    assert z.flash_erase(dev, 0, PAGE) == 0
    assert z.flash_write(dev, 0, data, 4) == 0
    assert z.flash_write(dev, 0, data, 4) == 0
    assert dev.stats.double_writes == 1
    assert dev.read(0, 4) == data


def test_ram_like(sim_factory, erase_value):
    dev = sim_factory(erase_value, explicit_erase=False)
    assert dev.parameters.caps.no_explicit_erase and dev.parameters.multi_program
    assert z.flash_params_get_erase_cap(z.flash_get_parameters(dev)) == 0
    pattern = bytes((i * 7 + 3) & 0xFF for i in range(4 * PAGE))
    assert z.flash_write(dev, PAGE, pattern, len(pattern)) == 0
    assert dev.read(PAGE, len(pattern)) == pattern
    inverted = bytes(b ^ 0xFF for b in pattern)
    assert z.flash_write(dev, PAGE, inverted, len(inverted)) == 0
    assert dev.read(PAGE, len(inverted)) == inverted
    assert dev.stats.double_writes == 0


def test_erase_value_parameter(sim, erase_value):
    assert z.flash_get_parameters(sim).erase_value == erase_value
    assert z.flash_params_get_erase_cap(sim.parameters) == 1  # FLASH_ERASE_C_EXPLICIT
    assert z.flash_get_write_block_size(sim) == WBS


def test_fill(sim):
    assert z.flash_fill(sim, 0x55, 0, SIZE) == 0
    assert sim.read(0, SIZE) == b"\x55" * SIZE
    assert sim.stats.flash_write_calls == SIZE // 32


def test_fill_errors(sim):
    assert z.flash_fill(sim, 0x55, 2, 8) == -errno.EINVAL
    assert z.flash_fill(sim, 0x55, 0, 6) == -errno.EINVAL
    sim.fill_buffer_size = 6  # not a multiple of wbs 4
    assert z.flash_fill(sim, 0x55, 0, 8) == -errno.EINVAL
    assert sim.stats.flash_write_calls == 0
    sim.fill_buffer_size = 8
    assert z.flash_fill(sim, 0x55, 0, 20) == 0
    assert sim.stats.flash_write_calls == 3  # 8 + 8 + 4, ascending


def test_fill_stops_at_first_error(sim):
    sim.write(40, b"\x00\x00\x00\x01")  # programmed block inside the 2nd chunk
    before = sim.snapshot()
    assert z.flash_fill(sim, 0x55, 0, 96) == -errno.EIO
    after = sim.snapshot()
    assert after[:32] == b"\x55" * 32 and after[32:] == before[32:]


def test_flatten(sim, erase_value):
    assert z.flash_fill(sim, 0xAA, 0, SIZE) == 0
    assert z.flash_flatten(sim, 0, SIZE) == 0
    assert sim.read(0, SIZE) == bytes([erase_value]) * SIZE
    assert sim.stats.flash_erase_calls == 1


def test_flatten_ram_like_without_erase(sim_factory, erase_value):
    dev = sim_factory(erase_value, explicit_erase=False, erase_supported=False)
    assert z.flash_fill(dev, 0xAA, 0, SIZE) == 0
    assert z.flash_erase(dev, 0, PAGE) == -errno.ENOSYS
    with pytest.raises(NotSupported):
        dev.erase(0, PAGE)
    assert z.flash_flatten(dev, 0, SIZE) == 0
    assert dev.read(0, SIZE) == bytes([erase_value]) * SIZE


def test_flatten_explicit_without_erase_is_enosys(sim_factory):
    dev = sim_factory(erase_supported=False)
    assert z.flash_flatten(dev, 0, PAGE) == -errno.ENOSYS


def test_erase_available_in_ram_like_mode(sim_factory, erase_value):
    dev = sim_factory(erase_value, explicit_erase=False)  # DEV-21
    dev.write(0, b"\x12\x34\x56\x78")
    dev.erase(0, PAGE)
    assert dev.read(0, 4) == bytes([erase_value]) * 4
    assert dev.stats.flash_erase_calls == 1 and dev.stats.erase_cycles[0] == 1


def test_persistence(tmp_path, erase_value):
    path = tmp_path / "flash.bin"
    with SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=WBS, erase_value=erase_value,
                        backing=path) as dev:
        assert z.flash_write(dev, 0, struct.pack("<I", 0xABDE2134), 4) == 0
    with SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=WBS, erase_value=erase_value,
                        backing=path) as dev:
        buf = bytearray(4)
        assert z.flash_read(dev, 0, buf, 4) == 0
        assert struct.unpack("<I", buf)[0] == 0xABDE2134
        assert dev.read(4, 4) == bytes([erase_value]) * 4


def test_thresholds_write(sim, erase_value):
    sim.stats.reset()
    sim.thresholds.max_write_calls = 1
    sim.thresholds.max_len = 4
    data = bytes([erase_value ^ 0xFF]) * 8
    assert z.flash_write(sim, 0, data, 8) == 0
    assert sim.read(0, 8) == data[:4] + bytes([erase_value]) * 4
    assert sim.stats.bytes_written == 0  # shortened writes add no bytes (nor time)
    assert z.flash_write(sim, 8, data, 8) == 0  # calls > max: dropped
    assert sim.read(8, 8) == bytes([erase_value]) * 8
    assert sim.stats.flash_write_calls == 2 and sim.stats.bytes_written == 0


def test_thresholds_write_without_max_len_drops(sim, erase_value):
    sim.thresholds.max_write_calls = 1
    assert z.flash_write(sim, 0, b"\x5a" * 4, 4) == 0
    assert sim.read(0, 4) == bytes([erase_value]) * 4


def test_thresholds_erase(sim, erase_value):
    sim.fill(0xA5, 0, 2 * PAGE)
    sim.stats.reset()
    sim.thresholds.max_erase_calls = 1
    assert z.flash_erase(sim, 0, PAGE) == 0
    assert sim.read(0, PAGE) == b"\xa5" * PAGE
    assert sim.stats.erase_cycles[0] == 0 and sim.stats.flash_erase_calls == 1


def test_double_write_check_runs_before_thresholds(sim, erase_value):
    data = bytes([erase_value ^ 0xFF]) * 4
    sim.write(0, data)
    sim.stats.reset()
    sim.thresholds.max_write_calls = 1  # this call would be dropped ...
    assert z.flash_write(sim, 0, data, 4) == -errno.EIO  # ... but the double write wins (DEV-25)
