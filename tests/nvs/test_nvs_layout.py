"""Format and flash-operation sequence: spec §4.3 CRC-8, §4.7 worked bytes, §14 GC sequence
and its power-cut table, geometry validation (NVS-1), devices beyond the vectors."""

from __future__ import annotations

import errno

import pytest

from flashstack.device import RecordingFlash, SimulatedFlash
from flashstack.errors import FlashError, InvalidArgument, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import Ate, NVSStore, crc8_ccitt


def recorded_store(S=1024, N=3, W=4, data_crc=False, E=0xFF, explicit=True):
    dev = RecordingFlash(SimulatedFlash(S * N, erase_page_size=S, write_block_size=W, erase_value=E,
                                        explicit_erase=explicit))
    st = NVSStore(FlashArea(0, 0, S * N, dev, label="storage"), data_crc=data_crc)
    st.mount()
    return dev, st


def take(dev) -> list[str]:
    """The operations since the last take, as ``"P off: hex"`` / ``"E off len"``."""
    return [op.line() for op in dev.take()]


def test_crc8_check_values():
    assert crc8_ccitt(bytes.fromhex("FFFF00000000FF")) == 0x5C
    assert crc8_ccitt(bytes.fromhex("01000000 0400FF".replace(" ", ""))) == 0xC3
    assert crc8_ccitt(b"123456789") == 0xFB
    assert crc8_ccitt(b"\xff" * 7) == 0x48
    assert Ate(0xFFFF, 0, 0).pack() == bytes.fromhex("FFFF00000000FF5C")


def test_fresh_mount_writes_one_gc_done_then_nothing():
    dev, st = recorded_store(N=2)
    assert take(dev) == ["P 1008: ff ff 00 00 00 00 ff 5c"]
    assert (st.ate_wra, st.data_wra) == (1000, 0)
    st.mount()
    assert take(dev) == []


def test_worked_bytes_w4():
    dev, st = recorded_store()
    take(dev)
    assert st.write(1, b"\x11") == 1
    assert take(dev) == ["P 0: 11 ff ff ff", "P 1000: 01 00 00 00 01 00 ff 03"]
    assert st.write(2, bytes.fromhex("2122232425")) == 5
    assert take(dev) == ["P 4: 21 22 23 24", "P 8: 25 ff ff ff", "P 992: 02 00 04 00 05 00 ff 41"]
    assert st.write(1, b"\x11") == 0
    assert take(dev) == []
    assert st.delete(2) == 0
    assert take(dev) == ["P 984: 02 00 0c 00 00 00 ff 98"]
    assert st.write(0x8001, b"abc") == 3
    assert take(dev) == ["P 12: 61 62 63 ff", "P 976: 01 80 0c 00 03 00 ff af"]
    assert (st.ate_wra, st.data_wra) == (968, 16)


def test_worked_bytes_data_crc():
    dev, st = recorded_store(data_crc=True)
    take(dev)
    st.write(7, b"\x10")
    assert take(dev) == ["P 0: 10 e9 ff b5", "P 4: cf ff ff ff", "P 1000: 07 00 00 00 05 00 ff 64"]
    st.write(7, bytes.fromhex("2122232425"))
    assert take(dev) == ["P 8: 21 22 23 24", "P 12: 25 44 5b 5f", "P 16: b0 ff ff ff",
                         "P 992: 07 00 08 00 09 00 ff 87"]


@pytest.mark.parametrize("W,expected", [
    (8, ["P 0: " + " ".join(["ab"] * 8), "P 8: ab ab ab ab ab ff ff ff",
         "P 1000: 03 00 00 00 0d 00 ff 40"]),
    (1, ["P 0: " + " ".join(["ab"] * 13), "P 1000: 03 00 00 00 0d 00 ff 40"]),
])
def test_worked_bytes_other_write_blocks(W, expected):
    dev, st = recorded_store(W=W)
    take(dev)
    st.write(3, b"\xab" * 13)
    assert take(dev) == expected


def gc_scenario():
    """Zephyr test_nvs_gc: 1 KiB x 2, W 4, 25 writes of 32 bytes (id i%10, byte id+10*(i//10))."""
    dev, st = recorded_store(N=2)
    for i in range(25):
        st.write(i % 10, bytes([i % 10 + 10 * (i // 10)]) * 32)
    take(dev)
    return dev, st


def test_gc_operation_sequence():
    dev, st = gc_scenario()
    assert (st.ate_wra, st.data_wra) == (800, 800)
    st.write(5, b"\x77" * 32)
    ops = take(dev)
    assert len(ops) == 25
    assert ops[0] == "P 1016: ff ff 28 03 00 00 ff 1b"
    for k, id_ in enumerate([4, 3, 2, 1, 0, 9, 8, 7, 6, 5]):
        byte = id_ + 10 * (2 if id_ < 5 else 1)
        assert ops[1 + 2 * k] == f"P {1024 + 32 * k}: " + " ".join([f"{byte:02x}"] * 32)
        ate = Ate(id_, 32 * k, 32).pack().hex(" ")
        assert ops[2 + 2 * k] == f"P {2032 - 8 * k}: {ate}"
    assert ops[21] == "P 1952: ff ff 40 01 00 00 ff 82"
    assert ops[22] == "E 0 1024"
    assert ops[23] == "P 1344: " + " ".join(["77"] * 32)
    assert ops[24] == "P 1944: 05 00 40 01 20 00 ff 80"


@pytest.mark.parametrize("cut,torn,wra", [
    (0, None, (800, 800)), (0, 4, (1944, 1344)), (1, None, (1944, 1344)),
    (10, None, (1944, 1344)), (21, None, (1944, 1344)), (22, None, (1944, 1344)),
    (23, None, (1944, 1344)), (24, None, (1944, 1376)), (24, 4, (1936, 1376)),
])
def test_gc_power_cut_table(cut, torn, wra):
    dev, st = gc_scenario()
    before = {i: st.read(i) for i in range(10)}
    dev.arm_power_cut(after=cut + 1, mode="clean" if torn is None else "torn", keep=torn)
    with pytest.raises(PowerLoss):
        st.write(5, b"\x77" * 32)
    assert st.failed
    with pytest.raises(FlashError) as exc:
        st.read(1)
    assert exc.value.errno == errno.EIO
    dev.power_restore()
    st2 = NVSStore(st.area)
    st2.mount()
    assert (st2.ate_wra, st2.data_wra) == wra
    assert {i: st2.read(i) for i in range(10)} == before
    assert st2.write(5, b"\x78" * 32) == 32 and st2.read(5) == b"\x78" * 32


@pytest.mark.parametrize("kwargs,why", [
    ({"sector_size": 1000}, "multiple"), ({"sector_count": 1}, "at least 2"),
    ({"sector_count": 5}, "exceed the partition"), ({"sector_size": 0}, "multiple"),
])
def test_mount_validation(kwargs, why):
    dev = SimulatedFlash(4096, erase_page_size=1024, write_block_size=4)
    st = NVSStore(FlashArea(0, 0, 4096, dev, label="s"), **kwargs)
    with pytest.raises(InvalidArgument, match=why):
        st.mount()
    assert dev.snapshot() == b"\xff" * 4096 and not st.mounted


def test_mount_rejects_sector_boundary_inside_page():
    dev = SimulatedFlash(layout=[(1, 1024), (1, 2048), (2, 1024)], write_block_size=4)
    st = NVSStore(FlashArea(0, 0, 4096, dev, label="s"), sector_size=1024, sector_count=4)
    with pytest.raises(InvalidArgument, match="erase-page boundary"):
        st.mount()


@pytest.mark.parametrize("W", [16, 32])
def test_wide_write_blocks_pad_ates(W):
    dev, st = recorded_store(W=W, N=3)
    A = W
    assert take(dev) == [f"P {1024 - 2 * A}: ff ff 00 00 00 00 ff 5c " + " ".join(["ff"] * (A - 8))]
    st.write(9, b"xyz")
    ops = take(dev)
    assert ops[0] == "P 0: 78 79 7a " + " ".join(["ff"] * (W - 3))
    assert ops[1].startswith(f"P {1024 - 3 * A}: 09 00 00 00 03 00 ff")
    assert st.geo.maxlen == 1024 - 4 * A
    for i in range(200):
        st.write(i % 7, bytes([i]) * (1 + i % 50))
    st.mount()
    assert st.read(6) == bytes([195]) * (1 + 195 % 50)


def test_erase_value_zero_device():
    dev, st = recorded_store(E=0x00)
    assert take(dev) == ["P 1008: ff ff 00 00 00 00 ff 5c"]
    for i in range(300):
        st.write(i % 9, bytes([i & 0xFF, 1]) * (1 + i % 20))
    st.mount()
    assert st.read(8) == bytes([296 & 0xFF, 1]) * (1 + 296 % 20)
    assert st.scan().verdict == "healthy"


def test_ram_like_device_same_content():
    """On a device without explicit erase, a sector erase becomes fill writes (DEV-12):
    the content and reads are the same as on NOR flash."""
    nor, st1 = recorded_store()
    ram, st2 = recorded_store(explicit=False)
    for i in range(400):
        v = bytes([i % 251]) * (1 + i % 40)
        assert st1.write(i % 13, v) == st2.write(i % 13, v)
    assert nor.snapshot() == ram.snapshot()
    assert not any(line.startswith("E") for line in ram.lines())


def test_sector0_full_of_garbage_fails_like_the_reference():
    """Every slot of write sector 0 written but none valid: the reference's packed pointer
    wraps and its read outside the partition fails with EINVAL; nothing is written."""
    dev = SimulatedFlash(3072, erase_page_size=1024, write_block_size=4)
    dev.restore(b"\x00" * 1016 + b"\xff" * (3072 - 1016))
    st = NVSStore(FlashArea(0, 0, 3072, dev, label="storage"))
    with pytest.raises(InvalidArgument, match="outside the partition"):
        st.mount()
    assert not st.mounted and dev.stats.flash_write_calls == 0
