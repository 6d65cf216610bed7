"""Scenarios of Zephyr's tests/subsys/fs/nvs (spec §20) run through the seed functions.

Geometry of the Zephyr suite: 1 KiB sectors, write block 4 (qemu_x86 flash simulator); the
tests look at ``fs.ate_wra`` / ``fs.data_wra`` in packed ``(sector << 16) | offset`` form.
The lookup-cache tests are not ported: the cache is not modelled (NVS-26).
"""

from __future__ import annotations

import errno
import struct

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss
from flashstack.nvs import Ate
from flashstack.nvs.capi import (NvsFs, nvs_calc_free_space, nvs_clear, nvs_delete, nvs_mount,
                                   nvs_read, nvs_read_hist, nvs_sector_max_data_size,
                                   nvs_sector_use_next, nvs_write)

SECT = 16  # ADDR_SECT_SHIFT
ATE = 8


@pytest.fixture
def dev():
    return SimulatedFlash(1024 * 5, erase_page_size=1024, write_block_size=4)


def make_fs(dev, count=3, **kw):
    return NvsFs(dev, 0, 1024, count, **kw)


def remount(dev, count=3, **kw):
    fs = make_fs(dev, count, **kw)
    assert nvs_mount(fs) == 0
    return fs


def u32(v):
    return struct.pack("<I", v)


def test_nvs_mount_and_bad_config(dev):
    assert nvs_mount(make_fs(dev)) == 0
    assert nvs_mount(NvsFs(dev, 0, 1000, 3)) == -errno.EINVAL
    assert nvs_mount(NvsFs(dev, 0, 1024, 1)) == -errno.EINVAL
    assert nvs_mount(NvsFs(dev, 0, 0, 3)) == -errno.EINVAL


def test_nvs_write_long_pattern(dev):
    fs = remount(dev)
    pattern = bytes(range(256)) * 2
    assert nvs_write(fs, 1, pattern, 512) == 512
    buf = bytearray(512)
    assert nvs_read(fs, 1, buf, 512) == 512 and bytes(buf) == pattern
    assert nvs_write(fs, 1, pattern, 512) == 0        # unchanged value: nothing written


def test_nvs_corrupted_write(dev):
    """The second 512-byte write closes sector 0; a cut after its close ATE loses the rest."""
    fs = remount(dev, 5)
    first, second = b"\xaa" * 512, b"\x55" * 512
    assert nvs_write(fs, 1, first, 512) == 512
    dev.arm_power_cut(after=2)                      # op 0 = close ATE lands, op 1 is lost
    with pytest.raises(PowerLoss):
        nvs_write(fs, 1, second, 512)
    dev.power_restore()
    fs = remount(dev, 5)
    buf = bytearray(512)
    assert nvs_read(fs, 1, buf, 512) == 512 and bytes(buf) == first


def test_nvs_gc(dev):
    fs = remount(dev, 2)
    for i in range(25):
        assert nvs_write(fs, i % 10, bytes([i % 10 + 10 * (i // 10)]) * 32, 32) == 32
    assert (fs.ate_wra, fs.data_wra) == (800, 800)
    assert nvs_write(fs, 5, bytes([25]) * 32, 32) == 32
    assert fs.ate_wra == (1 << SECT) | 912 and fs.data_wra == (1 << SECT) | 352  # area 1936, 1376
    fs = remount(dev, 2)
    buf = bytearray(32)
    for id_ in range(10):
        assert nvs_read(fs, id_, buf, 32) == 32
        last = max(i for i in range(26) if i % 10 == id_)
        assert set(buf) == {25 if last == 25 else id_ + 10 * (last // 10)}


def write_content(fs, begin, end, max_id=10):
    for i in range(begin, end):
        id_ = i % max_id
        assert nvs_write(fs, id_, bytes([(id_ + max_id * (i // max_id)) & 0xFF]) * 32, 32) == 32


def check_content(fs, end, max_id=10):
    buf = bytearray(32)
    for id_ in range(max_id):
        last = max(i for i in range(end) if i % max_id == id_)
        assert nvs_read(fs, id_, buf, 32) == 32
        assert set(buf) == {(id_ + max_id * (last // max_id)) & 0xFF}


def test_nvs_gc_3sectors(dev):
    fs = remount(dev, 3)
    assert fs.ate_wra >> SECT == 0
    done = 0
    for end, sector in ((51, 2), (76, 0), (101, 1), (126, 2)):
        write_content(fs, done, end)
        done = end
        assert fs.ate_wra >> SECT == sector
        check_content(fs, end)
        fs = remount(dev, 3)
        assert fs.ate_wra >> SECT == sector
        check_content(fs, end)


def test_nvs_corrupted_sector_close_operation(dev):
    fs = remount(dev, 5)
    write_content(fs, 0, 25)
    dev.arm_power_cut(after=1, mode="torn", keep=4)  # only 4 bytes of the close ATE land
    with pytest.raises(PowerLoss):
        nvs_write(fs, 5, b"\x99" * 32, 32)
    dev.power_restore()
    fs = remount(dev, 5)
    check_content(fs, 25)
    assert nvs_write(fs, 10, b"\x10" * 512, 512) == 512


def test_nvs_full_sector(dev):
    fs = remount(dev, 3)
    filling = 0
    while True:
        rc = nvs_write(fs, filling, struct.pack("<H", filling), 2)
        if rc == -errno.ENOSPC:
            break
        assert rc == 2
        filling += 1
    assert nvs_delete(fs, 1) == 0
    fs = remount(dev, 3)
    assert nvs_write(fs, filling, struct.pack("<H", filling), 2) == 2
    buf = bytearray(2)
    for i in range(filling + 1):
        rc = nvs_read(fs, i, buf, 2)
        if i == 1:
            assert rc == -errno.ENOENT
        else:
            assert rc == 2 and struct.unpack("<H", buf)[0] == i


def test_delete(dev):
    fs = remount(dev, 3)
    for i in range(10):
        assert nvs_write(fs, i, u32(i), 4) == 4
    ate_wra, data_wra = fs.ate_wra, fs.data_wra
    assert nvs_delete(fs, 3) == 0
    assert fs.ate_wra + ATE == ate_wra and fs.data_wra == data_wra
    buf = bytearray(4)
    assert nvs_read(fs, 3, buf, 4) == -errno.ENOENT
    ate_wra = fs.ate_wra
    assert nvs_delete(fs, 3) == 0 and fs.ate_wra == ate_wra           # already deleted
    assert nvs_delete(fs, 1234) == 0 and fs.ate_wra == ate_wra        # never written
    assert nvs_write(fs, 4, None, 0) == 0 and fs.ate_wra + ATE == ate_wra  # 0-length = delete
    assert nvs_write(fs, 3, u32(33), 4) == 4 and nvs_read(fs, 3, buf, 4) == 4


def test_nvs_gc_corrupt_close_ate(dev):
    """Close ATEs with a bad CRC: mount finds the last ATE by scanning (vector e03)."""
    img = bytearray(b"\xff" * dev.size)
    bad_close = bytearray(Ate(0xFFFF, 1024 - 6 * ATE, 0).pack())
    bad_close[7] ^= 0xFF
    for s in (0, 1):
        img[s * 1024 + 1016:s * 1024 + 1024] = bad_close
    img[0:4] = u32(0xAA55AA55)
    img[1024 - 6 * ATE:1024 - 5 * ATE] = Ate(1, 0, 4).pack()
    dev.restore(bytes(img))
    fs = remount(dev, 3)
    buf = bytearray(4)
    assert nvs_read(fs, 1, buf, 4) == 4 and buf == u32(0xAA55AA55)


def test_nvs_gc_corrupt_ate(dev):
    img = bytearray(b"\xff" * dev.size)
    img[1016:1024] = Ate(0xFFFF, 1024 - 2 * ATE, 0).pack()   # sector 0 closed
    corrupt = bytearray(Ate(0xDEAD, 0, 20).pack())
    corrupt[7] ^= 0xFF
    img[512:520] = corrupt
    dev.restore(bytes(img))
    fs = remount(dev, 3)
    for i in range(40):                                      # forces GC of every sector
        assert nvs_write(fs, i % 4, bytes([i]) * 100, 100) == 100
    fs = remount(dev, 3)
    buf = bytearray(100)
    for id_ in range(4):
        assert nvs_read(fs, id_, buf, 100) == 100 and set(buf) == {36 + id_}


def test_nvs_init_bad_memory_region(dev):
    assert nvs_mount(make_fs(dev, 5)) == 0
    img = bytearray(dev.snapshot())
    for s in range(5):
        img[s * 1024 + 1016:s * 1024 + 1020] = u32(0xDEADBEEF)
    dev.restore(bytes(img))
    fs = make_fs(dev, 5)
    assert nvs_mount(fs) == -errno.EDEADLK
    fs = make_fs(dev, 5, init_bad_region=True)
    assert nvs_mount(fs) == 0
    assert fs.ate_wra == 1024 - 3 * ATE and fs.data_wra == 0


def test_nvs_sector_use_next(dev):
    fs = remount(dev, 3)
    for i in range(7):
        assert nvs_write(fs, i, u32(i), 4) == 4
        assert nvs_sector_use_next(fs) == 0
        assert fs.ate_wra >> SECT == (i + 1) % 3
    fs = remount(dev, 3)
    buf = bytearray(4)
    for i in range(7):
        assert nvs_read(fs, i, buf, 4) == 4 and buf == u32(i)


def test_nvs_data_crc(dev):
    fs = remount(dev, 3, data_crc=True)
    assert nvs_write(fs, 1, b"abcdefgh", 8) == 8
    assert nvs_sector_max_data_size(fs) == fs.ate_wra - fs.data_wra - ATE - 4
    img = bytearray(dev.snapshot())
    img[2] = 0x00                                   # damage the stored value
    dev.restore(bytes(img))
    buf = bytearray(16)
    assert nvs_read(fs, 1, buf, 16) == -errno.EIO
    assert nvs_read(fs, 1, buf, 4) == 8 and buf[:4] == b"ab\x00d"   # short read: no check
    assert nvs_read_hist(fs, 1, buf, 16, 0) == -errno.EIO


def test_calc_free_space_and_clear(dev):
    fs = make_fs(dev, 3)
    assert nvs_calc_free_space(fs) == -errno.EACCES
    assert nvs_clear(fs) == -errno.EACCES
    fs = remount(dev, 3)
    empty = nvs_calc_free_space(fs)
    assert empty == 2 * (1024 - 2 * ATE) - ATE
    assert nvs_write(fs, 1, b"x" * 10, 10) == 10
    assert nvs_calc_free_space(fs) == empty - 12 - ATE
    assert nvs_clear(fs) == 0 and not fs.ready
    assert nvs_write(fs, 1, b"y", 1) == -errno.EACCES
    assert dev.snapshot()[:3072] == b"\xff" * 3072


def test_read_buffer_limits(dev):
    fs = remount(dev, 3)
    big = bytearray(2000)
    assert nvs_read(fs, 1, big, 1024 - 2 * ATE + 1) == -errno.EINVAL
    assert nvs_write(fs, 1, b"z" * 993, 993) == -errno.EINVAL
    assert nvs_write(fs, 1, b"z" * 992, 992) == 992
    assert nvs_write(fs, 2, None, 5) == -errno.EINVAL
