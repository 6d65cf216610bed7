"""docs/device.md §6 endurance (DEV-37..40), §7 timing model (DEV-41..45) and the
statistics of §4.5 (DEV-22, DEV-23)."""

from __future__ import annotations

import json

import pytest

from flashstack.device import ZEPHYR_SIM_TIMING, ChipTiming, Endurance, SimulatedFlash
from flashstack.errors import DeviceIOError, InvalidArgument

PAGE = 256


def small(ev=0xFF, **kw) -> SimulatedFlash:
    return SimulatedFlash(8 * PAGE, erase_page_size=PAGE, erase_value=ev, **kw)


# --- endurance -------------------------------------------------------------------------------

def test_eio_mode_erase_past_rating_fails_and_keeps_content(erase_value):
    dev = small(erase_value, endurance=Endurance(rated_cycles=3, mode="eio"))
    for _ in range(3):
        dev.erase(0, PAGE)
    dev.write(0, b"\x5a" * 8)
    with pytest.raises(DeviceIOError, match=r"page 0 .*worn out \(4 cycles, rated 3\)"):
        dev.erase(0, 2 * PAGE)  # the 4th erase makes page 0 worn out
    assert dev.read(0, 8) == b"\x5a" * 8
    assert dev.stats.erase_cycles[:2] == [4, 1]  # failed erases still reach the array (DEV-37)
    with pytest.raises(DeviceIOError):
        dev.erase(0, PAGE)  # and every later erase
    assert dev.stats.erase_cycles[0] == 5
    with pytest.raises(DeviceIOError, match="worn-out page 0"):
        dev.write(16, b"\x00" * 4)
    assert dev.read(16, 4) == bytes([erase_value]) * 4
    with pytest.raises(DeviceIOError, match="worn-out page 0"):
        dev.write(PAGE - 4, b"\x00" * 8)  # any touched page counts
    dev.write(PAGE + 8, b"\x11")  # page 1 is fine
    report = dev.wear_report()
    assert report["pages"][0]["worn_out"] and not report["pages"][1]["worn_out"]
    assert report["pages"][0]["rated_cycles"] == 3


def test_stuck_mode_bits_hold_programmed_state(erase_value):
    programmed_bit = 0 if erase_value == 0xFF else 1
    dev = small(erase_value, endurance=Endurance(rated_cycles=2, mode="stuck", stuck_bits_per_erase=3, seed=5))
    for _ in range(2):
        dev.erase(0, PAGE)
    assert dev.read(0, PAGE) == bytes([erase_value]) * PAGE
    dev.erase(0, PAGE)  # 3rd erase: worn out, 3 new stuck bits, erase still succeeds
    img = dev.read(0, PAGE)
    stuck = [i for i in range(PAGE * 8) if (img[i // 8] >> (i % 8)) & 1 == programmed_bit]
    assert len(stuck) == 3
    assert dev.wear_report()["pages"][0]["stuck_bits"] == 3
    dev.erase(0, PAGE)  # 3 more, all new
    img2 = dev.read(0, PAGE)
    ones = sum(bin(b ^ erase_value).count("1") for b in img2)
    assert ones == 6
    # writes succeed (DEV-39) even on blocks holding stuck bits, and the bits still hold
    dev.write(0, bytes([erase_value]) * PAGE)
    dev.write(0, bytes([erase_value]) * PAGE)
    assert dev.read(0, PAGE) == img2
    # the other pages are unaffected, and an erase of the range keeps the stuck bits
    assert dev.read(PAGE, PAGE) == bytes([erase_value]) * PAGE
    dev.erase(0, 2 * PAGE)
    assert sum(bin(b ^ erase_value).count("1") for b in dev.read(0, PAGE)) == 9
    # restore() cannot unstick bits either
    dev.restore(bytes([erase_value]) * (8 * PAGE))
    assert sum(bin(b ^ erase_value).count("1") for b in dev.read(0, PAGE)) == 9


def test_stuck_bits_are_seeded():
    def image(seed):
        dev = small(endurance=Endurance(rated_cycles=0, mode="stuck", stuck_bits_per_erase=4, seed=seed))
        dev.erase(0, 8 * PAGE)
        return dev.snapshot()
    assert image(1) == image(1) != image(2)


def test_wear_report_and_sidecar(tmp_path):
    dev = small(chip=None)
    for _ in range(3):
        dev.erase(0, PAGE)
    dev.erase(PAGE, PAGE)
    r = dev.wear_report()
    assert r["max"] == 3 and r["mean"] == 0.5 and r["max_over_mean"] == 6.0
    assert r["rated_cycles"] is None
    side = tmp_path / "wear.json"
    dev.save_wear(side)
    assert json.loads(side.read_text())["erase_cycles"][:2] == [3, 1]
    other = small()
    other.load_wear(side)
    assert other.stats.erase_cycles == dev.stats.erase_cycles
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"erase_cycles": [1, 2]}))
    with pytest.raises(InvalidArgument):
        other.load_wear(bad)


def test_chip_rating_used_by_wear_report_without_enforcement():
    dev = SimulatedFlash(chip="nrf52840")
    assert dev.rated_cycles == 10_000 and dev.endurance is None
    assert dev.wear_report()["pages"][0]["rated_cycles"] == 10_000


# --- statistics ------------------------------------------------------------------------------

def test_counters_and_reset(erase_value):
    dev = small(erase_value, allow_double_writes=True, timing=ZEPHYR_SIM_TIMING)
    dev.read(0, 10)
    dev.write(0, b"\x00\x01")
    dev.write(0, b"\x00\x01")
    dev.erase(0, 2 * PAGE)
    s = dev.stats
    assert (s.bytes_read, s.flash_read_calls, s.bytes_written, s.flash_write_calls,
            s.flash_erase_calls) == (10, 1, 4, 2, 1)
    assert s.double_writes == (2 if erase_value == 0xFF else 1)  # per programmed block; 0x00 is erased on 0x00 flash
    assert s.erase_cycles[:3] == [1, 1, 0]
    # DEV-45: Zephyr simulator times, independent of length
    assert (s.flash_read_time_us, s.flash_write_time_us, s.flash_erase_time_us) == (2, 200, 2000)
    assert s.busy_time_us == 2202
    snap = s.snapshot()
    assert snap["busy_time_us"] == 2202 and snap["erase_cycles"][:2] == [1, 1]
    s.reset()
    assert s.snapshot()["bytes_read"] == 0 and s.busy_time_us == 0 and s.erase_cycles[:2] == [1, 1]
    s.reset_wear()
    assert set(s.erase_cycles) == {0}
    s.flash_write_calls = 41  # counters are writable
    assert dev.stats.flash_write_calls == 41


def test_zero_length_ops_are_valid_and_uncounted():
    dev = small(timing=ZEPHYR_SIM_TIMING)
    size = dev.size
    assert dev.read(size, 0) == b"" and dev.read(3, 0) == b""
    dev.write(size, b"")
    dev.erase(size, 0)
    dev.erase(5, 0)  # DEV-8: any 0 <= off <= size
    assert dev.stats.snapshot()["busy_time_us"] == 0
    assert dev.stats.flash_read_calls == dev.stats.flash_write_calls == dev.stats.flash_erase_calls == 0
    for call in (lambda: dev.read(size + 1, 0), lambda: dev.write(-1, b""), lambda: dev.erase(size + 1, 0)):
        with pytest.raises(InvalidArgument):
            call()


# --- timing ----------------------------------------------------------------------------------

def test_w25q128jv_examples():
    dev = SimulatedFlash(chip="w25q128jv")
    dev.write(0x1000 + 8, bytes(20))  # a 20-byte record inside one program page
    assert dev.stats.flash_write_time_us == pytest.approx(77.5)
    dev.stats.reset()
    dev.write(0x2000, b"\x7f")  # a 1-byte state write
    assert dev.stats.flash_write_time_us == pytest.approx(30)
    dev.stats.reset()
    dev.erase(0x3000, 0x1000)
    assert dev.stats.flash_erase_time_us == pytest.approx(45_000)
    dev.stats.reset()
    dev.read(0, 100)
    assert dev.stats.flash_read_time_us == pytest.approx(0.8 + 100 * 0.16)


def test_write_time_splits_at_program_pages():
    t = ChipTiming(t_page_program_us=400, t_erase_us={4096: 45_000}, t_byte_first_us=30, t_byte_next_us=2.5)
    dev = SimulatedFlash(8192, erase_page_size=4096, timing=t)
    dev.write(250, bytes(300))  # pieces 6 + 256 + 38 bytes
    expected = (30 + 5 * 2.5) + 400 + (30 + 37 * 2.5)
    assert dev.stats.flash_write_time_us == pytest.approx(expected)
    no_bytes = ChipTiming(t_page_program_us=16, t_erase_us={4096: 1})
    dev = SimulatedFlash(8192, erase_page_size=4096, program_page_size=4, timing=no_bytes)
    dev.write(2, bytes(8))  # pieces 2 + 4 + 2
    assert dev.stats.flash_write_time_us == 48


def test_nonuniform_erase_time_and_rejected_ops_add_nothing():
    dev = SimulatedFlash(chip="stm32f407xg")
    dev.erase(0, 0x20000)  # 4 × 16 KiB + 64 KiB
    assert dev.stats.flash_erase_time_us == 4 * 250_000 + 550_000
    before = dev.stats.busy_time_us
    for call in (lambda: dev.erase(0x100, 0x4000), lambda: dev.write(1 << 20, b"\x00"),
                 lambda: dev.read(-1, 4)):
        with pytest.raises(InvalidArgument):
            call()
    dev.thresholds.max_erase_calls = 1
    dev.erase(0, 0x4000)  # dropped
    assert dev.stats.busy_time_us == before


def test_wear_failures_add_full_time():
    t = ChipTiming(t_page_program_us=10, t_erase_us={PAGE: 1000})
    dev = small(timing=t, endurance=Endurance(rated_cycles=0))
    with pytest.raises(DeviceIOError):
        dev.erase(0, 2 * PAGE)
    with pytest.raises(DeviceIOError):
        dev.write(0, b"\x00" * 4)
    assert dev.stats.flash_erase_time_us == 2000 and dev.stats.flash_write_time_us == 10


def test_timing_must_cover_every_page_size():
    t = ChipTiming(t_page_program_us=10, t_erase_us={16384: 1})
    with pytest.raises(InvalidArgument, match="no erase time"):
        SimulatedFlash(layout=[(4, 16384), (1, 65536)], timing=t)


def test_thresholds_add_no_time_and_only_shortened_writes_are_counted_for_cuts():
    dev = small(timing=ZEPHYR_SIM_TIMING)
    dev.thresholds.max_write_calls = 1
    dev.thresholds.max_len = 2
    dev.arm_power_cut(after=None)
    dev.write(0, b"\x00" * 4)  # shortened to 2 bytes: reaches the power-cut step
    dev.write(8, b"\x00" * 4)  # dropped: does not
    assert dev.read(0, 4) == b"\x00\x00\xff\xff" and dev.read(8, 4) == b"\xff" * 4
    assert dev.ops_since_arm == 1
    assert dev.stats.flash_write_time_us == 0 and dev.stats.bytes_written == 0
