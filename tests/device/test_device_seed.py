"""docs/device.md §3.5: Zephyr seed functions return 0 / negative errno, out-parameters in a
tuple, None for NULL, and never turn PowerLoss into a code (DEV-10, DEV-35)."""

from __future__ import annotations

import array
import errno

import pytest

from flashstack.device import PageInfo, SimulatedFlash
from flashstack.device import capi as z
from flashstack.errors import PowerLoss


@pytest.fixture
def dev():
    return SimulatedFlash(layout=[(2, 1024), (1, 2048)], write_block_size=4, name="seed0")


def test_read_buffers(dev):
    dev.write(0, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    buf = bytearray(16)
    assert z.flash_read(dev, 0, buf, 8) == 0
    assert buf[:8] == b"\x01\x02\x03\x04\x05\x06\x07\x08" and buf[8:] == bytes(8)
    words = array.array("I", [0, 0])  # any writable buffer, sized in bytes
    assert z.flash_read(dev, 0, words, 8) == 0 and words.tobytes()[:4] == b"\x01\x02\x03\x04"
    assert z.flash_read(dev, 0, bytearray(4), 8) == -errno.EINVAL  # too small
    assert z.flash_read(dev, 0, b"\x00" * 8, 8) == -errno.EINVAL  # not writable
    assert z.flash_read(dev, 0, None, 8) == -errno.EINVAL
    assert z.flash_read(dev, 4096, bytearray(4), 4) == -errno.EINVAL


def test_write_uses_first_len_bytes(dev):
    assert z.flash_write(dev, 8, b"\xaa\xbb\xcc\xdd\xee\xff\x00\x11", 4) == 0
    assert dev.read(8, 8) == b"\xaa\xbb\xcc\xdd" + b"\xff" * 4
    assert z.flash_write(dev, 16, b"\x00\x00", 4) == -errno.EINVAL  # shorter than len
    assert z.flash_write(dev, 8, b"\x00" * 4, 4) == -errno.EIO  # double write
    assert z.flash_write(dev, 16, memoryview(array.array("H", [0x1234, 0x5678])), 4) == 0
    assert dev.read(16, 4) == array.array("H", [0x1234, 0x5678]).tobytes()
    assert dev.stats.flash_write_calls == 3


def test_erase_codes(dev):
    assert z.flash_erase(dev, 1024, 1024) == 0
    assert z.flash_erase(dev, 1024, 2048) == -errno.EINVAL  # ends inside the 2 KiB page
    dev.erase_supported = False
    assert z.flash_erase(dev, 0, 1024) == -errno.ENOSYS


def test_copy_codes(dev):
    other = SimulatedFlash(4096, erase_page_size=1024, name="seed1")
    dev.write(0, b"\x10\x20\x30\x40")
    assert z.flash_copy(dev, 0, other, 100, 4, bytearray(32), 32) == 0
    assert other.read(100, 4) == b"\x10\x20\x30\x40"
    assert z.flash_copy(dev, 0, other, 200, 4, bytearray(8), 32) == -errno.EINVAL  # buf too small
    assert z.flash_copy(dev, 0, other, 200, 4, bytearray(8), 0) == -errno.EINVAL
    assert z.flash_copy(dev, 0, dev, 2, 8, bytearray(8), 8) == -errno.EINVAL  # overlap
    other.close()
    assert z.flash_copy(dev, 0, other, 0, 4, bytearray(8), 8) == -errno.ENODEV


def test_copy_bad_arguments_as_zephyr_test_flash_copy(dev):
    """Zephyr tests/drivers/flash/common ``test_flash_copy``: argument errors are -EINVAL
    before a NULL device is -ENODEV; zero size and same offset succeed; overflow and overlap
    are -EINVAL; nothing is written by a refused copy."""
    page = 1024
    buf = bytearray(64)
    off_max = z.OFF_MAX
    dev.write(page, b"\x5a" * 8)
    before = dev.read(0, dev.size)
    cases = [
        ((None, -1, None, -1, -1, None, 0), -errno.EINVAL),
        ((None, -1, None, -1, -1, None, len(buf)), -errno.EINVAL),
        ((None, -1, None, -1, -1, buf, len(buf)), -errno.EINVAL),
        ((None, -1, None, -1, page, buf, len(buf)), -errno.EINVAL),
        ((None, 0, None, page, page, buf, len(buf)), -errno.ENODEV),
        ((dev, 0, None, page, 8, buf, len(buf)), -errno.ENODEV),
        ((dev, page, dev, 2 * page, 0, buf, len(buf)), 0),              # zero size
        ((dev, page, dev, page, page, buf, len(buf)), 0),               # same offset
        ((dev, off_max, dev, page, 42, buf, len(buf)), -errno.EINVAL),  # offset + size overflows
        ((dev, page, dev, page + 32, page - 32, buf, len(buf)), -errno.EINVAL),  # overlap
        ((dev, 0, dev, page, 8, buf, 0), -errno.EINVAL),                # buf_size 0
        ((dev, 0, dev, page, 8, "not a buffer", 8), -errno.EINVAL),
        ((dev, 0.5, dev, page, 8, buf, 8), -errno.EINVAL),              # not an integer
    ]
    for args, rc in cases:
        assert z.flash_copy(*args) == rc, args
    assert dev.read(0, dev.size) == before
    assert z.flash_copy(dev, page, dev, 2 * page, 8, buf, len(buf)) == 0
    assert dev.read(2 * page, 8) == b"\x5a" * 8


def test_fill_flatten_codes(dev):
    assert z.flash_fill(dev, 0x42, 0, 64) == 0
    assert z.flash_fill(dev, 0x42, 2, 4) == -errno.EINVAL
    assert z.flash_flatten(dev, 0, 1024) == 0 and dev.read(0, 64) == b"\xff" * 64
    assert z.flash_flatten(dev, 0, 100) == -errno.EINVAL


def test_geometry_queries(dev):
    assert z.flash_get_size(dev) == (0, 4096)  # non-uniform layout too (DEV-6)
    assert z.flash_get_page_count(dev) == 3
    assert z.flash_get_page_info_by_offs(dev, 2047) == (0, PageInfo(1024, 1024, 1))
    assert z.flash_get_page_info_by_offs(dev, 4095) == (0, PageInfo(2048, 2048, 2))
    assert z.flash_get_page_info_by_offs(dev, 4096) == (-errno.EINVAL, None)
    assert z.flash_get_page_info_by_offs(dev, -1) == (-errno.EINVAL, None)
    assert z.flash_get_page_info_by_idx(dev, 2) == (0, PageInfo(2048, 2048, 2))
    assert z.flash_get_page_info_by_idx(dev, 3) == (-errno.EINVAL, None)
    assert z.flash_get_write_block_size(dev) == 4
    assert z.flash_get_parameters(dev) is dev.parameters
    assert z.flash_params_get_erase_cap(dev.parameters) == 1
    seen = []
    assert z.flash_page_foreach(dev, lambda info, d: d.append(info) or True, seen) is None
    assert [p.size for p in seen] == [1024, 1024, 2048]


def test_power_loss_propagates_from_every_mutating_seed(dev):
    for call in (lambda: z.flash_write(dev, 8, b"\x00" * 4, 4), lambda: z.flash_erase(dev, 0, 1024),
                 lambda: z.flash_fill(dev, 0, 8, 8), lambda: z.flash_flatten(dev, 0, 1024),
                 lambda: z.flash_copy(dev, 0, dev, 1024, 4, bytearray(4), 4)):
        dev.power_restore()
        dev.erase(0, 4096)
        dev.write(0, b"\x01\x02\x03\x04")
        dev.arm_power_cut(after=1)
        with pytest.raises(PowerLoss):
            call()
        assert dev.dead


def test_return_code_helpers_map_errors_and_let_power_loss_through():
    from flashstack.errors import NoSpace, call_with_errno, error_for, to_return_code

    def boom(exc):
        raise exc

    assert call_with_errno(lambda a, b=0: a + b, 2, b=3) == (0, 5)
    assert to_return_code(lambda: 7) == 0                      # result dropped
    assert call_with_errno(boom, NoSpace("p: full")) == (-28, None)
    assert to_return_code(boom, error_for(0, "no errno")) == -5  # never 0 for a failure
    with pytest.raises(PowerLoss):
        to_return_code(boom, PowerLoss())
    with pytest.raises(PowerLoss):
        call_with_errno(boom, PowerLoss())
    with pytest.raises(KeyError):                               # not a FlashError: untouched
        to_return_code(boom, KeyError("x"))
