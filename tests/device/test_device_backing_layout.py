"""docs/device.md §4.6 file backing (DEV-26..30), §3.2 page layout (DEV-4..7), §3.4 copy
(DEV-13) and configuration errors (DEV-3, DEV-14)."""

from __future__ import annotations

import errno

import pytest

from flashstack.device import PageInfo, SimulatedFlash, copy
from flashstack.errors import InvalidArgument, NoDevice, NotFound, ReadOnlyBacking

SIZE, PAGE = 64 * 1024, 4096


def open_img(path, ev=0xFF, **kw):
    return SimulatedFlash(SIZE, erase_page_size=PAGE, erase_value=ev, backing=path, **kw)


# --- backing ---------------------------------------------------------------------------------

def test_new_file_is_erased(tmp_path, erase_value):
    path = tmp_path / "new.bin"
    with open_img(path, erase_value) as dev:
        assert dev.path == str(path)
        dev.write(100, b"\x12")
        # every applied change is visible in the mapping at once (DEV-27)
        dev.flush()
        assert path.read_bytes()[100] == 0x12
    data = path.read_bytes()
    assert len(data) == SIZE
    assert data[:100] + data[101:] == bytes([erase_value]) * (SIZE - 1)


def test_existing_file_is_never_reinitialised(tmp_path):
    path = tmp_path / "dump.bin"
    raw = bytes((i * 31) & 0xFF for i in range(SIZE))
    path.write_bytes(raw)
    with open_img(path) as dev:  # raw dump, no header: byte i == offset i
        assert dev.read(0, SIZE) == raw
        assert dev.stats.erase_cycles == [0] * (SIZE // PAGE)
    with open_img(path, 0x00) as dev:  # even with another erase value
        assert dev.snapshot() == raw


def test_size_mismatch_is_einval_naming_both_lengths(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(b"\xff" * 1000)
    with pytest.raises(InvalidArgument, match=r"has 1000 bytes, device has 65536 bytes") as ei:
        open_img(path)
    assert ei.value.errno == errno.EINVAL
    assert path.read_bytes() == b"\xff" * 1000


def test_missing_file_without_create(tmp_path):
    with pytest.raises(NotFound):
        open_img(tmp_path / "nope.bin", create=False)
    with pytest.raises(NotFound):
        open_img(tmp_path / "nope.bin", readonly=True)
    assert not (tmp_path / "nope.bin").exists()


def test_readonly_is_erofs_before_counting(tmp_path):
    path = tmp_path / "ro.bin"
    open_img(path).close()
    with open_img(path, readonly=True) as dev:
        for call in (lambda: dev.write(0, b"\x00"), lambda: dev.erase(0, PAGE),
                     lambda: dev.fill(0, 0, 8), lambda: dev.restore(bytes(SIZE))):
            with pytest.raises(ReadOnlyBacking) as ei:
                call()
            assert ei.value.errno == errno.EROFS
        assert dev.stats.flash_write_calls == dev.stats.flash_erase_calls == 0
        assert dev.read(0, 4) == b"\xff" * 4
        with pytest.raises(InvalidArgument):  # range still checked first
            dev.write(SIZE, b"\x00")
    assert path.read_bytes() == b"\xff" * SIZE


def test_closed_device_is_not_ready(tmp_path):
    for dev in (open_img(tmp_path / "c.bin"), SimulatedFlash(SIZE, erase_page_size=PAGE)):
        dev.write(0, b"\x42")
        dev.close()
        dev.close()  # idempotent
        assert not dev.is_ready
        for call in (lambda d=dev: d.read(0, 1), lambda d=dev: d.write(1, b"\x00"), lambda d=dev: d.erase(0, PAGE)):
            with pytest.raises(NoDevice):
                call()
        assert dev.snapshot()[0] == 0x42  # snapshot works in every state (DEV-30)
        other = SimulatedFlash(SIZE, erase_page_size=PAGE)
        with pytest.raises(NoDevice):
            copy(dev, 0, other, 0, 16)


def test_memory_backing_is_erased(erase_value):
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, erase_value=erase_value)
    assert dev.path is None and dev.snapshot() == bytes([erase_value]) * SIZE


def test_restore_replaces_image_uncounted(erase_value):
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, erase_value=erase_value)
    img = bytes(range(256)) * (SIZE // 256)
    dev.restore(img)
    assert dev.snapshot() == img and dev.stats.flash_write_calls == 0
    with pytest.raises(InvalidArgument):
        dev.restore(img[:-1])


# --- configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"size": SIZE, "erase_page_size": PAGE, "erase_value": 0x7F},          # DEV-3
    {"size": SIZE, "erase_page_size": PAGE, "write_block_size": 3},        # power of two
    {"size": SIZE, "erase_page_size": 1000},                               # size multiple
    {"layout": [(2, 1024), (1, 6)], "write_block_size": 4},                # DEV-14
    {"layout": [(0, 1024)]},                                               # DEV-4
    {"layout": [(1, 0)]},
    {"layout": []},
    {"size": 3 * 1024, "layout": [(2, 1024)]},                             # sum != size
    {"size": SIZE},                                                        # no geometry
])
def test_configuration_errors(kwargs):
    with pytest.raises(InvalidArgument) as ei:
        SimulatedFlash(**kwargs)
    assert ei.value.errno == errno.EINVAL


# --- layout ----------------------------------------------------------------------------------

STM32F4 = [(4, 16384), (1, 65536), (7, 131072)]


def test_stm32f4_layout_example():
    dev = SimulatedFlash(layout=STM32F4)
    lay = dev.layout
    assert dev.size == 0x100000 and lay.page_count == 12
    assert [lay.by_index(i).start_offset for i in range(12)] == (
        [0, 0x4000, 0x8000, 0xC000, 0x10000] + [0x20000 * k for k in range(1, 8)])
    assert lay.by_offset(0x1FFFF) == PageInfo(0x10000, 0x10000, 4)
    assert lay.by_offset(0xE0000) == PageInfo(0xE0000, 0x20000, 11)
    for bad in (0x100000, -1):
        with pytest.raises(InvalidArgument):
            lay.by_offset(bad)
    for bad in (12, -1):
        with pytest.raises(InvalidArgument):
            lay.by_index(bad)
    assert lay.is_boundary(0x100000) and lay.is_boundary(0x10000) and not lay.is_boundary(0x14000)
    seen = []
    dev.page_foreach(lambda info, acc: acc.append(info.index) or info.index < 5, seen)
    assert seen == [0, 1, 2, 3, 4, 5]  # stops at the first falsy return
    # erase must start and end on page boundaries of the non-uniform layout
    dev.erase(0xC000, 0x14000)
    with pytest.raises(InvalidArgument):
        dev.erase(0x10000, 0x8000)
    assert dev.stats.erase_cycles == [0, 0, 0, 1, 1] + [0] * 7


# --- copy --------------------------------------------------------------------------------------

def test_copy_between_devices_splits_and_pads():
    src = SimulatedFlash(SIZE, erase_page_size=PAGE)
    src.restore(bytes((i * 7) & 0xFF for i in range(SIZE)))
    dst = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=8, erase_value=0x00)
    copy(src, 5, dst, 64, 45, buf_size=16)  # 16 + 16 + 8 + 5 padded to 8
    assert dst.stats.flash_write_calls == 4
    src.copy(5, dst, 256, 45, buf_size=16)  # the FlashDevice method is the same operation
    assert dst.read(256, 48) == dst.read(64, 48)
    assert dst.read(64, 45) == src.read(5, 45)
    assert dst.read(64 + 45, 3) == b"\x00\x00\x00"  # padding with the destination erase value


def test_copy_checks():
    a = SimulatedFlash(SIZE, erase_page_size=PAGE)
    b = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=4)
    copy(a, 0, a, 0, 100)  # same device, same offset: no operation
    assert a.stats.flash_read_calls == 0
    bad = [((a, 0, a, 50, 100, 32), errno.EINVAL),     # overlap
           ((a, -1, b, 0, 8, 32), errno.EINVAL),
           ((a, 0, b, 0, 8, 0), errno.EINVAL),
           ((a, 0, b, 0, 8, 6), errno.EINVAL),        # buf not a multiple of dst wbs
           ((a, SIZE - 4, b, 0, 8, 8), errno.EINVAL),  # source range
           ((a, 0, b, SIZE - 4, 6, 8), errno.EINVAL)]  # padded destination range
    for args, code in bad:
        with pytest.raises(OSError) as ei:
            copy(*args)
        assert ei.value.errno == code, args
        assert a.name in str(ei.value), (args, str(ei.value))  # every message names the device
    assert b.stats.flash_write_calls == 0 and b.snapshot() == b"\xff" * SIZE


def test_write_accepts_any_bytes_like():
    import array
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=4)
    words = array.array("I", [0x11223344, 0x55667788])
    dev.write(0, words)  # 8 bytes, not 2 items
    dev.write(8, memoryview(bytearray(b"\x01\x02\x03\x04")))
    dev.write(12, bytearray(b"\x05\x06\x07\x08"))
    assert dev.read(0, 16) == words.tobytes() + bytes(range(1, 9))
    assert isinstance(dev.read(0, 4), bytes)
    with pytest.raises(InvalidArgument, match=r"flash0: write at 0x10: data of type list"):
        dev.write(16, [1, 2, 3, 4])


@pytest.mark.parametrize("layout,words", [([], "layout is empty"), ([(0, 1024)], "count and size"),
                                          ([(2, 1030)], "not a multiple of write block size 4")])
def test_bad_layout_errors_name_the_device(layout, words):
    with pytest.raises(InvalidArgument, match=f"^qspi9: .*{words}") as ei:
        SimulatedFlash(layout=layout, write_block_size=4, name="qspi9")
    assert ei.value.errno == errno.EINVAL


def test_bad_device_spec_layout_names_the_device():
    from flashstack.flash_map import DeviceSpec
    with pytest.raises(InvalidArgument, match="^device qspi9: erase page size 1030 is not a multiple"):
        DeviceSpec("qspi9", 2060, ((2, 1030),), write_block_size=4)
