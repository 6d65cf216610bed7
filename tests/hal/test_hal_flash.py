"""docs/alios-hal.md §10 conformance scenarios on the MK3060 table, plus seeds and board mapping."""

import errno
from types import SimpleNamespace

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import AccessDenied, InvalidArgument, NotFound, PowerLoss
from flashstack.hal import (HAL_PARTITION_APPLICATION, HAL_PARTITION_BOOTLOADER, HAL_PARTITION_ERROR,
                            HAL_PARTITION_PARAMETER_2, HAL_PARTITION_PARAMETER_3, HAL_PARTITION_SPIFFS,
                            HalFlash, HalLogicPartition, HalPartitionBoard, HalPartitionV2,
                            HalPartitionV3, PAR_OPT_WRITE_EN, hal_flash_addr2offset, hal_flash_dis_secure,
                            hal_flash_enable_secure, hal_flash_erase, hal_flash_erase_write,
                            hal_flash_get_info, hal_flash_info_get, hal_flash_read, hal_flash_write,
                            hal_partitions_from_board, mk3060_hal, partition_enum, set_default_hal)

P2 = HAL_PARTITION_PARAMETER_2


@pytest.fixture
def hal():
    h = mk3060_hal()
    set_default_hal(h)
    yield h
    set_default_hal(None)


def test_enums_of_both_generations():
    assert HalPartitionV2.HAL_PARTITION_MAX == 13 and HalPartitionV2.HAL_PARTITION_NONE == 14
    assert HalPartitionV3["HAL_PARTITION_2ND_BOOT"] == 13 and HalPartitionV3.HAL_PARTITION_MBINS_KERNEL == 15
    assert HalPartitionV3.HAL_PARTITION_MAX == 16 and HalPartitionV3.HAL_PARTITION_NONE == 17
    assert HalPartitionBoard.HAL_PARTITION_RECOVERY == 13
    for gen in ("v2", "v3", "board"):
        e = partition_enum(gen)
        assert e.HAL_PARTITION_PARAMETER_2 == 6 and e.HAL_PARTITION_ERROR == -1
    with pytest.raises(InvalidArgument):
        partition_enum("v9")


def test_offset_advance(hal):
    assert hal_flash_erase(P2, 0, 4096) == 0
    assert hal_flash_write(P2, 0, b"0123456789", 10) == (0, 10)
    assert hal_flash_write(P2, 10, b"abcdef", 6) == (0, 16)
    buf = bytearray(16)
    assert hal_flash_read(P2, 0, buf, 16) == (0, 16)
    assert bytes(buf) == b"0123456789abcdef"
    assert hal.areas[P2].device.read(0x11000, 16) == b"0123456789abcdef"


def test_bounds(hal):
    buf = bytearray(10)
    assert hal_flash_read(P2, 4090, buf, 10) == (-errno.EINVAL, 4090)
    assert hal_flash_erase(P2, 4096, 1) == -errno.EINVAL
    assert hal_flash_write(P2, 0, b"ab", 3) == (-errno.EINVAL, 0)
    with pytest.raises(InvalidArgument, match="PARAMETER_2"):
        hal.read(P2, 4090, 10)


def test_sector_erase(hal):
    assert hal_flash_write(HAL_PARTITION_APPLICATION, 0, b"\0" * 0x2000, 0x2000)[0] == 0
    dev = hal.areas[HAL_PARTITION_APPLICATION].device
    ops = dev.stats.flash_erase_calls
    assert hal_flash_erase(HAL_PARTITION_APPLICATION, 100, 10) == 0
    assert dev.stats.flash_erase_calls == ops + 1
    assert hal.read(HAL_PARTITION_APPLICATION, 0, 0x1000) == b"\xff" * 0x1000
    assert hal.read(HAL_PARTITION_APPLICATION, 0x1000, 0x1000) == b"\0" * 0x1000


def test_erase_write(hal):
    hal.write(P2, 0, b"\0" * 64)
    assert hal_flash_erase_write(P2, 8, b"xy", 2) == (0, 10)
    assert hal.read(P2, 0, 12) == b"\xff" * 8 + b"xy" + b"\xff\xff"


def test_erase_expansion_leaving_partition_refused():
    dev = SimulatedFlash(0x4000, erase_page_size=0x2000, allow_double_writes=True)
    rw = 3
    hal = HalFlash({6: HalLogicPartition(0, "kv", 0x1000, 0x2000, rw)}, {0: (dev, 0)})
    with pytest.raises(InvalidArgument, match="outside the partition"):
        hal.erase(6, 0, 1)


def test_options(hal):
    assert hal_flash_write(HAL_PARTITION_BOOTLOADER, 0, b"x", 1) == (-errno.EACCES, 0)
    assert hal_flash_erase(HAL_PARTITION_BOOTLOADER, 0, 1) == -errno.EACCES
    buf = bytearray(4)
    assert hal_flash_read(HAL_PARTITION_BOOTLOADER, 0, buf, 4) == (0, 4)
    dev = SimulatedFlash(0x2000, erase_page_size=0x1000)
    wo = HalFlash({6: HalLogicPartition(0, "write-only", 0, 0x1000, PAR_OPT_WRITE_EN)}, {0: (dev, 0)})
    assert hal_flash_read(6, 0, buf, 4, hal=wo) == (-errno.EACCES, 0)
    with pytest.raises(AccessDenied):
        wo.read(6, 0, 4)


def test_secure(hal):
    assert hal_flash_enable_secure(P2, 0x100, 0x100) == 0
    assert hal_flash_write(P2, 0x1F0, b"z" * 0x20, 0x20) == (-errno.EACCES, 0x1F0)
    assert hal_flash_erase(P2, 0, 1) == -errno.EACCES
    buf = bytearray(0x20)
    assert hal_flash_read(P2, 0x1F0, buf, 0x20) == (0, 0x210)
    assert hal_flash_dis_secure(P2, 0x100, 0x100) == 0
    assert hal_flash_write(P2, 0x1F0, b"z" * 0x20, 0x20) == (0, 0x210)


def test_secure_set_arithmetic(hal):
    hal.enable_secure(P2, 0, 0x100)
    hal.enable_secure(P2, 0x80, 0x100)
    assert hal.secure_ranges(P2) == [(0, 0x180)]
    hal.dis_secure(P2, 0x40, 0x40)
    assert hal.secure_ranges(P2) == [(0, 0x40), (0x80, 0x180)]
    hal.write(P2, 0x40, b"ok")
    assert hal_flash_enable_secure(P2, 0xF00, 0x200) == -errno.EINVAL


def test_unknown_and_info(hal):
    assert hal_flash_info_get(HAL_PARTITION_SPIFFS) == (-errno.ENOENT, None)
    assert hal_flash_get_info(HAL_PARTITION_SPIFFS) is None
    assert hal_flash_info_get(HAL_PARTITION_ERROR) == (-errno.ENOENT, None)
    rc, info = hal_flash_info_get(P2)
    assert rc == 0 and info.partition_start_addr == 0x11000 and info.partition_description == "PARAMETER2"
    with pytest.raises(NotFound):
        hal.info(HAL_PARTITION_SPIFFS)


def test_addr2offset(hal):
    assert hal_flash_addr2offset(0xD000) == (0, HAL_PARTITION_BOOTLOADER, 0xD000)
    assert hal_flash_addr2offset(0x11000) == (0, P2, 0)
    assert hal_flash_addr2offset(0x1FFFFF) == (-errno.EINVAL, HAL_PARTITION_ERROR, 0)


def test_span(hal):
    span = hal.span(P2, HAL_PARTITION_PARAMETER_3, 4096)
    assert span.size == 8192
    span.write(0x1000, b"S")
    assert hal.areas[P2].device.read(0x12000, 1) == b"S"
    with pytest.raises(InvalidArgument, match="crosses"):
        span.read(0xFF8, 16)


def test_power_loss_propagates_and_secure_ranges_reset(hal):
    dev = hal.areas[P2].device
    hal.enable_secure(P2, 0x800, 0x10)
    dev.arm_power_cut(after=1, mode="torn", keep=3)
    with pytest.raises(PowerLoss):
        hal_flash_write(P2, 0, b"abcdef", 6)
    dev.power_restore()
    fresh = mk3060_hal(dev)
    assert fresh.secure_ranges(P2) == []
    assert fresh.read(P2, 0, 6) == b"abc\xff\xff\xff"


def test_construction_checks():
    dev = SimulatedFlash(0x1000, erase_page_size=0x1000)
    with pytest.raises(InvalidArgument, match="outside device"):
        HalFlash({6: HalLogicPartition(0, "kv", 0x800, 0x1000, 3)}, {0: (dev, 0)})
    with pytest.raises(InvalidArgument, match="reserved"):
        HalFlash({16: HalLogicPartition(0, "max", 0, 0x100, 3)}, {0: (dev, 0)})
    with pytest.raises(InvalidArgument, match="owner"):
        HalFlash({6: HalLogicPartition(1, "kv", 0, 0x100, 3)}, {0: (dev, 0)})


def _fake_board(extra=None):
    dev = SimpleNamespace(name="flash0", size=0x100000, base_address=0x8000000)
    parts = [SimpleNamespace(label=None, node_labels=("boot_partition",), offset=0, size=0x10000,
                             read_only=True, device="flash0"),
             SimpleNamespace(label="storage", node_labels=("storage_partition",), offset=0x1E000,
                             size=0x2000, read_only=False, device="flash0")]
    return SimpleNamespace(name="fake", devices=[dev], partitions=parts, extra=extra or {})


def test_default_label_mapping():
    rows, gen = hal_partitions_from_board(_fake_board())
    by = {r.partition: r for r in rows}
    assert gen == "v3" and set(by) == {HAL_PARTITION_BOOTLOADER, P2}
    assert by[P2].info.partition_start_addr == 0x801E000 and by[P2].info.partition_length == 0x2000
    assert by[P2].info.partition_options == 3 and by[HAL_PARTITION_BOOTLOADER].info.partition_options == 1


def test_hal_section_rows_and_errors():
    extra = {"hal": {"generation": "board", "partitions": {"PARAMETER_3": "storage_partition"},
                     "table": [{"partition": "RECOVERY", "owner": "EMBEDDED", "description": "rec",
                                "start": 0x8040000, "length": 0x1000, "options": ["READ_EN"]}]}}
    rows, gen = hal_partitions_from_board(_fake_board(extra))
    assert gen == "board"
    assert [(r.partition, r.info.partition_description) for r in rows] == [(7, "storage"), (13, "rec")]
    bad = {"hal": {"table": [{"partition": "PARAMETER_2", "start": 0}]}}
    with pytest.raises(InvalidArgument, match=r"row 1: missing 'length'"):
        hal_partitions_from_board(_fake_board(bad))


def test_builtin_demo_board_maps_storage_partition():
    from flashstack.board import load_board
    board = load_board("flashstack-demo")
    rows, _ = hal_partitions_from_board(board)
    p2 = next(r for r in rows if r.partition == P2)
    assert p2.info.partition_start_addr == 0x1E000 and p2.info.partition_length == 0x2000


def test_linuxhost_roundtrip(tmp_path, hal):
    from flashstack.hal import export_linuxhost, import_linuxhost
    hal.write(P2, 0, b"kv-data")
    paths = export_linuxhost(hal, str(tmp_path))
    assert (tmp_path / "aos_partition_6.bin").read_bytes()[:7] == b"kv-data"
    assert len(paths) == len(hal.table)
    (tmp_path / "aos_partition_0.bin").write_bytes(b"boot")  # short file: padded with 0xFF
    fresh = mk3060_hal()
    loaded = import_linuxhost(fresh, str(tmp_path))
    assert HAL_PARTITION_BOOTLOADER in loaded and P2 in loaded
    assert fresh.read(HAL_PARTITION_BOOTLOADER, 0, 6) == b"boot\xff\xff"
    assert fresh.read(P2, 0, 7) == b"kv-data"
    (tmp_path / "aos_partition_6.bin").write_bytes(b"x" * 0x1001)
    with pytest.raises(InvalidArgument, match="aos_partition_6.bin"):
        import_linuxhost(mk3060_hal(), str(tmp_path))


def test_seed_functions_codes_and_power_loss_through_the_shared_helper(hal):
    # the seeds share flashstack.errors.call_with_errno: -errno for flashstack errors, PowerLoss raised
    assert hal_flash_erase_write(P2, 0, b"ab", 3) == (-errno.EINVAL, 0)
    assert hal_flash_erase_write(HAL_PARTITION_BOOTLOADER, 0, b"ab", 3) == (-errno.EACCES, 0)
    assert hal_flash_read(P2, 0, None, 4) == (-errno.EINVAL, 0)
    set_default_hal(None)
    assert hal_flash_erase(P2, 0, 1) == -errno.ENODEV
    assert hal_flash_write(P2, 0, b"a", 1) == (-errno.ENODEV, 0)
    assert hal_flash_info_get(P2) == (-errno.ENODEV, None) and hal_flash_get_info(P2) is None
    assert hal_flash_addr2offset(0x11000) == (-errno.ENODEV, HAL_PARTITION_ERROR, 0)
    set_default_hal(hal)
    dev = hal.areas[P2].device
    for call in (lambda: hal_flash_erase(P2, 0, 1), lambda: hal_flash_erase_write(P2, 0, b"x", 1)):
        dev.arm_power_cut(after=1)
        with pytest.raises(PowerLoss):
            call()
        dev.power_restore()
