"""Regression tests for the reference defects flashstack fixes (spec §15) and for the
store-state rules NVS-11 (failed mount) and NVS-29 (failed store)."""

from __future__ import annotations

import errno

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import AccessDenied, DeviceIOError, InvalidArgument, NotFound, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import Ate, NVSStore
from flashstack.nvs.capi import (NvsFs, nvs_delete, nvs_mount, nvs_read, nvs_read_hist,
                                   nvs_sector_max_data_size, nvs_write)


def store(S=1024, N=3, W=4, data_crc=False):
    dev = SimulatedFlash(S * N, erase_page_size=S, write_block_size=W)
    st = NVSStore(FlashArea(0, 0, S * N, dev, label="storage"), data_crc=data_crc)
    st.mount()
    return dev, st


def test_fix1_data_crc_unchanged_rewrite_writes_nothing():
    dev, st = store(data_crc=True)
    assert st.write(7, b"same") == 4
    image = dev.snapshot()
    assert st.write(7, b"same") == 0
    assert dev.snapshot() == image
    assert st.write(7, b"diff") == 4 and st.read(7) == b"diff"


def test_fix2_delete_only_sector_never_leaves_the_sector():
    """Fill a sector with delete ATEs only: the ATE pointer must never reach offset 0."""
    dev, st = store(N=4)
    S = st.geo.S
    for i in range(150):                       # live ids in sectors 0 and 1
        st.write(i, b"v")
    st.use_next_sector()                       # sector 2, its victim 3 is empty: deletes only
    assert st.data_wra % S == 0
    for i in range(150):
        assert st.delete(i) == 0
        assert 0 <= st.ate_wra < S * st.geo.N and st.ate_wra // S == st.data_wra // S
        delete_only = [s for s in range(st.geo.N) if st.area.read(s * S, 8) != b"\xff" * 8]
        assert all(st.area.read(s * S, 4) == b"v\xff\xff\xff" for s in delete_only)
    st.mount()
    for i in range(150):
        with pytest.raises(NotFound):
            st.read(i)
    assert st.write(1, b"back") == 4 and st.read(1) == b"back"


def test_fix3_exact_fit_entry_with_torn_ate_mounts():
    dev, st = store()
    maxlen = st.geo.maxlen
    dev.arm_power_cut(after=2, mode="torn", keep=4)   # op 0 data, op 1 the ATE
    with pytest.raises(PowerLoss):
        st.write(3, b"\x5a" * maxlen)
    dev.power_restore()
    st2 = NVSStore(st.area)
    st2.mount()                                         # the reference returns 1 here
    with pytest.raises(NotFound):
        st2.read(3)
    assert st2.sector_max_data_size() == 0              # exactly full sector
    assert st2.write(3, b"ok") == 2                     # closes the sector, then writes
    assert st2.ate_wra // st2.geo.S == 1
    st2.mount()
    assert st2.read(3) == b"ok"


def test_fix4_read_hist_needs_cnt_plus_one_entries():
    dev, st = store(N=2)
    st.write(1, b"a")
    st.use_next_sector()        # the copy of id 1 lands in slot F: the last ATE of every walk
    assert st.read_hist(1, 0) == b"a"
    with pytest.raises(NotFound):
        st.read_hist(1, 1)      # the reference returns b"a" as history 1
    st.write(1, b"b")
    assert st.read_hist(1, 1) == b"a"
    with pytest.raises(NotFound):
        st.read_hist(1, 2)


def test_fix4_corrupt_last_ate_is_not_returned():
    dev, st = store()
    img = bytearray(dev.snapshot())
    img[:] = b"\xff" * len(img)
    corrupt = bytearray(Ate(9, 0, 6).pack())
    corrupt[7] ^= 0x55
    img[0:6] = b"secret"
    img[1008:1016] = corrupt                             # slot F of sector 0
    img[8:9] = b"\x42"
    img[1000:1008] = Ate(5, 8, 1).pack()
    dev.restore(bytes(img))
    st.mount()
    assert st.read(5) == b"\x42"
    with pytest.raises(NotFound):
        st.read(9)                                       # the reference returns b"secret"
    fs = NvsFs(st.area, 0, 1024, 3)
    assert nvs_mount(fs) == 0
    buf = bytearray(16)
    assert nvs_read(fs, 9, buf, 16) == -errno.ENOENT
    assert nvs_write(fs, 9, b"new", 3) == 3 and nvs_read(fs, 9, buf, 16) == 3


def test_fix5_id_ffff_reserved():
    dev, st = store()
    image = dev.snapshot()
    with pytest.raises(InvalidArgument):
        st.write(0xFFFF, b"x")
    with pytest.raises(InvalidArgument):
        st.delete(0xFFFF)
    with pytest.raises(NotFound):
        st.read(0xFFFF)
    with pytest.raises(NotFound):
        st.read_hist(0xFFFF, 1)
    assert dev.snapshot() == image
    fs = NvsFs(st.area, 0, 1024, 3)
    nvs_mount(fs)
    buf = bytearray(8)
    assert nvs_write(fs, 0xFFFF, b"x", 1) == -errno.EINVAL
    assert nvs_delete(fs, 0xFFFF) == -errno.EINVAL
    assert nvs_read(fs, 0xFFFF, buf, 8) == -errno.ENOENT
    assert nvs_read_hist(fs, 0xFFFF, buf, 8, 0) == -errno.ENOENT


def test_fix6_sector_max_data_size_signed_seed_clamped_method():
    dev, st = store()
    st.write(1, b"\x00" * st.geo.maxlen)
    assert st.raw_sector_max_data_size() == -8
    assert st.sector_max_data_size() == 0
    fs = NvsFs(st.area, 0, 1024, 3)
    assert nvs_sector_max_data_size(fs) == -errno.EACCES
    nvs_mount(fs)
    assert nvs_sector_max_data_size(fs) == -8


def test_fix7_failed_mount_leaves_store_unmounted():
    dev, st = store(N=5)
    st.write(1, b"x")
    img = bytearray(dev.snapshot())
    for s in range(5):
        for k, b in enumerate(bytes.fromhex("efbeadde")):
            img[s * 1024 + 1016 + k] &= b
    dev.restore(bytes(img))
    with pytest.raises(OSError) as exc:
        st.mount()
    assert exc.value.errno == errno.EDEADLK
    assert not st.mounted
    with pytest.raises(AccessDenied):
        st.read(1)
    fs = NvsFs(st.area, 0, 1024, 5)
    assert nvs_mount(fs) == -errno.EDEADLK and not fs.ready
    assert nvs_write(fs, 1, b"y", 1) == -errno.EACCES


def test_init_bad_region_recovers_all_closed_area():
    dev, st = store(N=5)
    img = bytearray(dev.snapshot())
    for s in range(5):
        img[s * 1024 + 1016:s * 1024 + 1020] = bytes.fromhex("efbeadde")
    dev.restore(bytes(img))
    st2 = NVSStore(st.area, init_bad_region=True)
    st2.mount()
    assert dev.snapshot()[1008:1016] == Ate(0xFFFF, 0, 0).pack()
    assert dev.snapshot().count(0xFF) == 5 * 1024 - 8 + dev.snapshot()[1008:1016].count(0xFF)


def test_nvs29_flash_error_fails_the_store_until_mount():
    dev, st = store()
    st.write(1, b"keep")
    img = bytearray(dev.snapshot())
    img[st.data_wra] = 0x00                       # a programmed byte where the next data goes
    dev.restore(bytes(img))
    with pytest.raises(DeviceIOError):            # double write refused by the device
        st.write(2, b"boom")
    assert st.failed
    with pytest.raises(DeviceIOError, match="failed"):
        st.read(1)
    st.mount()                                     # recovers: the orphan byte is skipped
    assert st.read(1) == b"keep"
    assert st.write(2, b"fine") == 4 and st.read(2) == b"fine"
