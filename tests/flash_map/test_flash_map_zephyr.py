"""Zephyr tests/subsys/storage/flash_map scenarios (docs/flash-map.md §10), through the seed
functions of flashstack.flash_map.capi and through the Pythonic API. Partition under test:
slot1_partition, on the qemu_x86 geometry (1 MiB, 1 KiB pages, wbs 4) and the STM32F4 layout."""

from __future__ import annotations

import errno
import hashlib

import fm_data
import pytest

from flashstack.device.capi import (
    flash_get_page_info_by_offs,
    flash_read,
    flash_write,
)
from flashstack.errors import (
    AccessDenied,
    IntegrityError,
    InvalidArgument,
    NotFound,
    PowerLoss,
)
from flashstack.flash_map import FlashArea, FlashMap, FlashSector
from flashstack.flash_map import capi as z

SIZE_MAX = 2**64 - 1
VECTOR32 = b"0123456789abcdef\nfedcba98765432\n"
SHA32 = "28f16eeac3ea898d809e98eb09499808406943a6efe1a3f93ddf159e06f8ddbd"
SHA512 = "aeed7d5953bdb7283e59c2655962e37efa97bd76f6acc39259484ec0afa84965"


@pytest.fixture(params=["qemu", "stm32"])
def fmap(request, qemu_map, stm32_map):
    m = qemu_map if request.param == "qemu" else stm32_map
    z.set_default_map(m)
    return m


def open_slot1(m):
    rc, fa = z.flash_area_open(z.FIXED_PARTITION_ID("slot1_partition"))
    assert rc == 0 and fa is m.by_node_label("slot1_partition")
    return fa


# --- open / driver ---------------------------------------------------------------------------

def test_open_without_map_is_eacces():
    assert z.flash_area_open(0) == (-errno.EACCES, None)


def test_open_unknown_and_out_of_range_ids(fmap):
    assert z.flash_area_open(200) == (-errno.ENOENT, None)
    assert z.flash_area_open(-1) == (-errno.ENOENT, None)
    assert z.flash_area_open(256) == (-errno.ENOENT, None)
    assert z.flash_area_open(None) == (-errno.ENOENT, None)


def test_empty_map_gives_enoent():
    z.set_default_map(FlashMap([]))
    assert z.flash_area_open(0) == (-errno.ENOENT, None)


def test_closed_device_gives_enodev_and_not_ready(fmap):
    fa = open_slot1(fmap)
    assert z.flash_area_has_driver(fa) == 1
    fa.device.close()
    assert z.flash_area_open(fa.id) == (-errno.ENODEV, None)
    assert z.flash_area_has_driver(fa) == -errno.ENODEV
    assert z.flash_area_device_is_ready(fa) is False
    assert z.flash_area_sectors(fa, 10, []) == (-errno.ENODEV, 10)


def test_device_is_ready(fmap):
    assert z.flash_area_device_is_ready(None) is False
    assert z.flash_area_device_is_ready(FlashArea(0, 0, 0, None)) is False
    assert z.flash_area_device_is_ready(open_slot1(fmap)) is True


def test_disabled_device_partitions_are_not_opened():
    """app.overlay: a disabled vnd,flash with fixed-subpartitions disabled_a/_b."""
    info = fm_data.load_quiet(fm_data.DATA / "extra" / "native_sim_flash_map_test.dts")
    m = info.flash_map({d.name: d.create() for d in info.devices})
    z.set_default_map(m)
    labels = ["disabled_a", "disabled_b", "disabled_a_a", "disabled_a_b", "disabled_b_a",
              "disabled_b_b"]
    for label in labels:
        assert z.FIXED_PARTITION_EXISTS(label)
        rc, fa = z.flash_area_open(z.FIXED_PARTITION_ID(label))
        assert (rc, fa) == (-errno.ENOENT, None), label
        with pytest.raises(NotFound):
            z.FIXED_PARTITION(label)
    # the two children of the fixed-partitions node are numbered (they precede /flash-controller@0)
    assert [z.FIXED_PARTITION_ID(x) for x in labels[:2]] == [0, 1]
    # children of fixed-subpartitions get no Zephyr ID (§8.2)
    assert [z.FIXED_PARTITION_ID(x) for x in labels[2:]] == [None] * 4
    assert z.FIXED_PARTITION_ID("slot1_partition") == 4
    assert not z.FIXED_PARTITION_EXISTS("no_such_partition")
    with pytest.raises(LookupError) as e:
        z.FIXED_PARTITION_ID("no_such_partition")
    assert e.value.errno == errno.ENOENT


# --- node macros -------------------------------------------------------------------------------

def test_node_macros_match_devicetree(fmap):
    table = {p["node_label"]: p for p in fm_data.expected(
        "qemu_x86" if fmap.devices[0].name == "flash_sim0" else "nucleo_f429zi")["partitions"]}
    for label in ("slot0_partition", "slot1_partition"):
        if label not in table:
            continue
        assert z.FIXED_PARTITION_OFFSET(label) == table[label]["offset"]
        assert z.FIXED_PARTITION_SIZE(label) == table[label]["size"]
        assert z.PARTITION_OFFSET(label) == table[label]["offset"]
        assert z.PARTITION_SIZE(label) == table[label]["size"]
        assert z.FIXED_PARTITION_DEVICE(label) is fmap.devices[0]
        rc, fa = z.flash_area_open(z.FIXED_PARTITION_ID(label))
        assert rc == 0 and z.FIXED_PARTITION(label) is fa
        assert z.PARTITION(label) is fa and z.PARTITION_ID(label) == fa.id  # Zephyr 4.4 names
    base = 0x08000000 if fmap.devices[0].name == "flash0" else 0
    assert z.FIXED_PARTITION_ADDRESS("slot1_partition") == base + z.FIXED_PARTITION_OFFSET("slot1_partition")


def test_qemu_overlay_merges_and_deletes_nodes(qemu_map):
    """qemu_x86.overlay deletes storage_partition and re-adds it at 0x39000; scratch_partition
    lands on the existing partition@31000 node (two labels, label property replaced)."""
    fa = qemu_map.by_node_label("scratch_partition")
    assert fa is qemu_map.by_node_label("eepromemu_partition")
    assert fa.node_labels == ("eepromemu_partition", "scratch_partition")
    assert (fa.offset, fa.size, fa.label, fa.id) == (0x31000, 0x8000, "image_scratch", 0)
    st = qemu_map.by_node_label("storage_partition")
    assert (st.offset, st.size, st.id) == (0x39000, 0x8000, 3)


# --- sectors -----------------------------------------------------------------------------------

def test_get_sectors_match_device_pages(fmap):
    fa = open_slot1(fmap)
    secs: list = []
    rc, n = z.flash_area_get_sectors(fa.id, 2048, secs)
    assert rc == 0 and n == len(secs) > 0
    running = 0
    for s in secs:
        rc, info = flash_get_page_info_by_offs(fa.device, fa.offset + running)
        assert rc == 0
        assert info.start_offset == s.fs_off + fa.offset
        assert info.size == s.fs_size
        running += s.fs_size
    assert running == fa.size
    secs2: list = [FlashSector(1, 1)]
    assert z.flash_area_sectors(fa, 2048, secs2) == (0, n) and secs2 == secs
    assert fa.sectors() == secs


def test_get_sectors_enomem_and_open_failure(fmap):
    fa = open_slot1(fmap)
    secs: list = []
    assert z.flash_area_get_sectors(fa.id, 1, secs) == (-errno.ENOMEM, 1)
    assert len(secs) == 1 and secs[0].fs_off == 0
    assert z.flash_area_sectors(fa, 0, secs) == (-errno.ENOMEM, 0) and secs == []
    assert z.flash_area_get_sectors(250, 10, secs) == (-errno.EINVAL, 10)


@pytest.mark.parametrize("off,size,expect", [
    (0x0, 0x8000, [(0x0, 0x4000), (0x4000, 0x4000)]),
    (0x20000, 0x40000, [(0x0, 0x20000), (0x20000, 0x20000)]),
    (0xA0000, 0x20000, [(0x0, 0x20000)]),
    (0x2000, 0x4000, [(0x2000, 0x4000)]),  # page 0x0 skipped, page 0x4000 reported whole
])
def test_stm32f4_sector_examples(stm32_map, off, size, expect):
    """§6 table (FM-10 quirks) on the STM32F429xI layout."""
    fa = FlashArea(9, off, size, stm32_map.devices[0])
    secs: list = []
    assert z.flash_area_sectors(fa, 64, secs) == (0, len(expect))
    assert secs == [FlashSector(*e) for e in expect]


def test_stm32f4_slot0_count_one(stm32_map):
    fa = stm32_map.by_node_label("slot0_partition")
    secs: list = []
    assert z.flash_area_sectors(fa, 1, secs) == (-errno.ENOMEM, 1)
    assert secs == [FlashSector(0x0, 0x20000)]


# --- SHA-256 -----------------------------------------------------------------------------------

def test_sha256_vectors_and_argument_checks(fmap):
    fa = open_slot1(fmap)
    assert hashlib.sha256(VECTOR32).hexdigest() == SHA32
    data = VECTOR32 * 16
    assert z.flash_area_erase(fa, 0, fa.size) == 0
    assert z.flash_area_write(fa, 0, data, len(data)) == 0

    assert z.flash_area_check_int_sha256(None, None) == -errno.EINVAL
    fac = z.FlashAreaCheck(match=None, clen=0, off=-1, rbuf=None, rblen=0)
    assert z.flash_area_check_int_sha256(None, fac) == -errno.EINVAL
    assert z.flash_area_check_int_sha256(fa, None) == -errno.EINVAL
    steps = [("match", bytearray.fromhex(SHA512)), ("clen", len(data)), ("off", 0),
             ("rbuf", bytearray(16)), ("rblen", 16)]
    for field, value in steps:
        assert z.flash_area_check_int_sha256(fa, fac) == -errno.EINVAL, field
        setattr(fac, field, value)
    assert z.flash_area_check_int_sha256(fa, fac) == 0
    fac.match[0] ^= 0xFF
    assert z.flash_area_check_int_sha256(fa, fac) == -errno.EILSEQ
    # Pythonic side
    assert fa.sha256(0, len(data)).hex() == SHA512
    fa.check_sha256(bytes.fromhex(SHA512), 0, len(data))
    with pytest.raises(IntegrityError) as e:
        fa.check_sha256(bytes(fac.match), 0, len(data))
    assert e.value.errno == errno.EILSEQ


def test_sha256_rbuf_shorter_than_rblen_and_out_of_bounds(fmap):
    fa = open_slot1(fmap)
    good = dict(match=bytes(32), clen=32, off=0, rbuf=bytearray(8), rblen=16)
    assert z.flash_area_check_int_sha256(fa, z.FlashAreaCheck(**good)) == -errno.EINVAL
    good.update(rbuf=bytearray(16), off=fa.size - 16)
    assert z.flash_area_check_int_sha256(fa, z.FlashAreaCheck(**good)) == -errno.EINVAL


def test_sha256_reads_in_rblen_chunks(fmap):
    fa = open_slot1(fmap)
    before = fa.device.stats.snapshot()["flash_read_calls"]
    fac = z.FlashAreaCheck(match=bytes(32), clen=100, off=0, rbuf=bytearray(32), rblen=32)
    assert z.flash_area_check_int_sha256(fa, fac) == -errno.EILSEQ
    assert fa.device.stats.snapshot()["flash_read_calls"] - before == 4  # 32+32+32+4


# --- data operations ---------------------------------------------------------------------------

def test_erased_val_and_align(fmap):
    fa = open_slot1(fmap)
    assert z.flash_area_erased_val(fa) == fa.device.parameters.erase_value == 0xFF
    assert z.flash_area_align(fa) == fa.device.parameters.write_block_size


def test_erase_and_flatten(fmap):
    fa = open_slot1(fmap)
    fa.device.fill(0xAA, fa.offset, fa.size)
    assert z.flash_area_erase(fa, 0, fa.size) == 0
    assert fa.read(0, fa.size) == b"\xff" * fa.size
    fa.device.fill(0xAA, fa.offset, fa.size)
    assert z.flash_area_flatten(fa, 0, fa.size) == 0
    assert fa.read(0, fa.size) == b"\xff" * fa.size


def test_copy_within_area(fmap):
    fa = open_slot1(fmap)
    copy = min(fa.size // 2, 128)
    assert z.flash_area_erase(fa, 0, fa.size) == 0
    assert z.flash_area_write(fa, 0, b"\xab" * copy, copy) == 0
    buf = bytearray(32)
    assert z.flash_area_copy(fa, 0, fa, copy, copy, buf, 32) == 0
    dst = bytearray(copy)
    assert z.flash_area_read(fa, copy, dst, copy) == 0
    assert bytes(dst) == b"\xab" * copy
    # both ranges must be in bounds
    assert z.flash_area_copy(fa, 0, fa, fa.size - 8, 16, buf, 32) == -errno.EINVAL
    assert z.flash_area_copy(fa, fa.size - 8, fa, 0, 16, buf, 32) == -errno.EINVAL


def test_parameter_overflows(fmap):
    fa = open_slot1(fmap)
    buf = bytearray(16)
    assert z.flash_area_read(fa, 1, buf, SIZE_MAX) == -errno.EINVAL
    assert z.flash_area_read(fa, fa.size - 1, buf, SIZE_MAX) == -errno.EINVAL
    assert z.flash_area_write(fa, 1, buf, SIZE_MAX) == -errno.EINVAL
    assert z.flash_area_erase(fa, 1, SIZE_MAX) == -errno.EINVAL
    assert z.flash_area_read(fa, 0, buf, 17) == -errno.EINVAL  # dst shorter than len
    with pytest.raises(InvalidArgument) as e:
        fa.read(fa.size - 1, SIZE_MAX)
    assert "slot1_partition" in str(e.value)


def test_per_sector_write_and_raw_device_access(fmap):
    fa = open_slot1(fmap)
    assert z.flash_area_erase(fa, 0, fa.size) == 0
    wbs = fa.align
    for s in fa.sectors():
        assert z.flash_area_write(fa, s.fs_off, b"\xa5" * 256, 256) == 0
        raw = bytearray(256)
        assert flash_read(fa.device, fa.offset + s.fs_off, raw, 256) == 0
        assert raw == b"\xa5" * 256
        end = fa.offset + s.fs_off + s.fs_size - wbs
        assert flash_write(fa.device, end, b"\x5a" * wbs, wbs) == 0
        got = bytearray(wbs)
        assert z.flash_area_read(fa, s.fs_off + s.fs_size - wbs, got, wbs) == 0
        assert got == b"\x5a" * wbs
    assert z.flash_area_erase(fa, 0, fa.size) == 0
    assert fa.read(0, fa.size) == b"\xff" * fa.size


def test_foreach_in_map_order(qemu_map):
    z.set_default_map(qemu_map)
    seen = []
    z.flash_area_foreach(lambda fa, acc: acc.append(fa.id), seen)
    assert seen == [a.id for a in qemu_map] == [1, 2, 0, 3]


def test_label_and_get_device(fmap):
    fa = open_slot1(fmap)
    assert z.flash_area_label(fa) == "image-1"
    assert z.flash_area_get_device(fa) is fa.device
    assert z.flash_area_close(fa) is None


def test_power_loss_is_never_a_return_code(fmap):
    fa = open_slot1(fmap)
    fa.device.arm_power_cut(after=1)
    with pytest.raises(PowerLoss):
        z.flash_area_erase(fa, 0, fa.size)
    fa.device.power_restore()


# --- read-only [fs] ----------------------------------------------------------------------------

def test_read_only_enforced_privileged_and_zephyr_mode(stm32_map):
    z.set_default_map(stm32_map)
    rc, boot = z.flash_area_open(z.FIXED_PARTITION_ID("boot_partition"))
    assert rc == 0 and boot.read_only
    data = b"\x00" * 16
    assert z.flash_area_write(boot, 0, data, 16) == -errno.EACCES
    assert z.flash_area_erase(boot, 0, 0x4000) == -errno.EACCES
    assert z.flash_area_flatten(boot, 0, 0x4000) == -errno.EACCES
    slot0 = stm32_map.by_node_label("slot0_partition")
    assert z.flash_area_copy(slot0, 0, boot, 0, 16, bytearray(32), 32) == -errno.EACCES
    assert z.flash_area_write(boot, 0x8000 - 8, data, 16) == -errno.EINVAL  # bounds first
    assert boot.read(0, 16) == b"\xff" * 16  # nothing reached the device
    with pytest.raises(AccessDenied) as e:
        boot.write(0, data)
    assert e.value.errno == errno.EACCES and "boot_partition" in str(e.value)

    priv = boot.privileged()
    assert (priv.id, priv.offset, priv.size, priv.device) == (boot.id, boot.offset, boot.size, boot.device)
    assert z.flash_area_write(priv, 0, data, 16) == 0
    assert z.flash_area_erase(priv, 0, 0x4000) == 0
    assert z.flash_area_flatten(priv, 0, 0x4000) == 0

    loose = FlashMap(stm32_map.areas, enforce_read_only=False)
    b2 = loose.by_node_label("boot_partition")
    assert b2.read_only is True
    assert z.flash_area_write(b2, 0, data, 16) == 0
    assert z.flash_area_erase(b2, 0, 0x4000) == 0
    assert z.flash_area_flatten(b2, 0, 0x4000) == 0
