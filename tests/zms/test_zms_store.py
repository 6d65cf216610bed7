"""ZMSStore beyond the vectors: format bytes, configuration, errors, erase-less devices,
the failed-store rule, the index against the walk, and power-cut atomicity."""

from __future__ import annotations

import errno
import random

import pytest

from flashstack.errors import FlashError, PowerLoss
from flashstack.zms import ZMSStore
from flashstack.zms.format import Geometry, crc8_ccitt
from flashstack.zms.capi import (
    ZmsFs,
    zms_active_sector_free_space,
    zms_mount,
    zms_read,
)

from .conftest import make_area


def hexb(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def test_crc8_check_values():
    assert crc8_ccitt(b"\xff" * 15) == 0x93
    assert crc8_ccitt(bytes(15)) == 0x90
    assert crc8_ccitt(hexb("01 FF FF FF FF FF FF 00 00 00 00 01 42 00 00")) == 0x27


def test_worked_bytes_of_the_spec():
    dev, area = make_area(1024, 3, 4)
    st = ZMSStore(area)
    st.mount()
    assert dev.read(1008, 16) == hexb("27 01 FF FF FF FF FF FF 00 00 00 00 01 42 00 00")
    assert (st.ate_wra, st.data_wra, st.sector_cycle) == (960, 0, 1)
    st.write(1, b"\x11")
    assert dev.read(960, 16) == hexb("B9 01 01 00 01 00 00 00 11 00 00 00 00 00 00 00")
    st.write(2, bytes(range(0x21, 0x2A)))
    assert dev.read(0, 12) == hexb("21 22 23 24 25 26 27 28 29 FF FF FF")
    assert dev.read(944, 16) == hexb("47 01 09 00 02 00 00 00 00 00 00 00 00 00 00 00")
    st.write(3, bytes(range(0x31, 0x39)))
    assert dev.read(928, 16) == hexb("38 01 08 00 03 00 00 00 31 32 33 34 35 36 37 38")
    st.write(1, b"\x11")
    assert dev.read(912, 16) == dev.read(960, 16)
    st.delete(2)
    assert dev.read(896, 16) == hexb("9F 01 00 00 02 00 00 00 00 00 00 00 00 00 00 00")
    st.delete(99)
    assert dev.read(880, 16) == hexb("76 01 00 00 63 00 00 00 00 00 00 00 00 00 00 00")
    writes = dev.stats.flash_write_calls
    st.use_next_sector()
    assert dev.stats.flash_write_calls - writes == 54 + 1 + 1 + 1 + 1  # garbage, close, empty, gc_done, empty
    assert dev.read(992, 16) == hexb("BE 01 00 00 FF FF FF FF 70 03 00 00 FF FF FF FF")
    assert dev.read(2000, 16) == hexb("5D 01 00 00 FF FF FF FF 00 00 00 00 FF FF FF FF")
    assert (st.ate_wra, st.data_wra) == (1984, 1024)


def test_data_crc_and_64bit_bytes():
    dev, area = make_area(1024, 3, 4)
    st = ZMSStore(area, data_crc=True)
    st.mount()
    st.write(7, bytes(range(0x21, 0x2A)))
    assert dev.read(960, 16) == hexb("3C 01 09 00 07 00 00 00 00 00 00 00 71 B5 2D 04")
    dev, area = make_area(1024, 3, 4)
    st = ZMSStore(area, id_64bit=True)
    st.mount()
    assert dev.read(1008, 16) == hexb("3B 01 FF FF FF FF FF FF FF FF FF FF 01 42 01 00")
    st.write(0x0102030405060708, b"\xaa\xbb")
    assert dev.read(960, 16) == hexb("C1 01 02 00 08 07 06 05 04 03 02 01 AA BB 00 00")
    assert st.read(0x0102030405060708) == b"\xaa\xbb"


def test_write_block_32_pads_each_ate():
    dev, area = make_area(1024, 3, 32)
    st = ZMSStore(area)
    st.mount()
    st.write(5, b"abc")
    assert dev.read(st.ate_wra + 32, 32)[16:] == b"\xff" * 16
    assert st.geo.A == 32 and st.geo.maxlen == 1024 - 5 * 32


@pytest.mark.parametrize("kw, why", [({"sector_count": 1}, "sector count"),
                                     ({"sector_size": 48}, "multiple"),
                                     ({"sector_size": 64, "sector_count": 2}, "5 ATE"),
                                     ({"sector_count": 4}, "exceed")])
def test_configuration_errors(kw, why):
    _, area = make_area(1024, 3, 4, page=16 if "5 ATE" in why else None)
    st = ZMSStore(area, **kw)
    with pytest.raises(FlashError) as ei:
        st.mount()
    assert ei.value.errno == errno.EINVAL and why in str(ei.value)
    assert not st.mounted


def test_errors_and_header_id():
    _, area = make_area(1024, 2, 4)
    st = ZMSStore(area)
    with pytest.raises(FlashError) as ei:
        st.write(1, b"x")
    assert ei.value.errno == errno.EACCES
    st.mount()
    for bad in (0xFFFFFFFF, -1, 1 << 32):
        with pytest.raises(FlashError) as ei:
            st.write(bad, b"x")
        assert ei.value.errno == errno.EINVAL
    with pytest.raises(FlashError) as ei:
        st.read(0xFFFFFFFF)
    assert ei.value.errno == errno.ENOENT
    with pytest.raises(FlashError) as ei:
        st.write(1, bytes(st.geo.maxlen + 1))
    assert ei.value.errno == errno.EINVAL
    assert st.write(1, bytes(st.geo.maxlen)) == st.geo.maxlen
    with pytest.raises(FlashError) as ei:
        st.read(2)
    assert ei.value.errno == errno.ENOENT


def test_active_sector_free_space_clamped_but_seed_signed():
    _, area = make_area(1024, 2, 4)
    fs = ZmsFs(area, 0, 1024, 2)
    assert zms_active_sector_free_space(fs) == -errno.EACCES
    assert zms_mount(fs) == 0
    st = fs.store
    st.write(1, bytes(st.raw_active_sector_free_space()))
    st.delete(2)   # a delete may take the slot at data_wra
    assert zms_active_sector_free_space(fs) < 0
    assert st.active_sector_free_space() == 0


def test_seed_read_rejects_short_buffer():
    _, area = make_area(1024, 2, 4)
    fs = ZmsFs(area, 0, 1024, 2)
    zms_mount(fs)
    fs.store.write(3, b"abcdefghij")
    assert zms_read(fs, 3, bytearray(4), 8) == -errno.EINVAL
    buf = bytearray(4)
    assert zms_read(fs, 3, buf, 4) == 4 and buf == b"abcd"


def test_erase_less_device_never_erases_and_cycles_advance():
    dev, area = make_area(1024, 3, 16, explicit_erase=False)
    st = ZMSStore(area)
    st.mount()
    cycles = []
    for i in range(8):
        st.write(1, bytes([i]) * 20)
        st.use_next_sector()
        cycles.append(st.sector_cycle)
    assert dev.stats.flash_erase_calls == 0
    assert st.read(1) == bytes([7]) * 20
    assert max(cycles) > 1            # restarts bump the counter instead of erasing
    st2 = ZMSStore(area)
    st2.mount()
    assert st2.read(1) == bytes([7]) * 20


def test_failed_store_after_a_flash_error():
    dev, area = make_area(1024, 2, 4)
    st = ZMSStore(area)
    st.mount()
    st.write(1, b"one")
    dev.readonly = True
    with pytest.raises(FlashError):
        st.write(2, b"two")
    dev.readonly = False
    with pytest.raises(FlashError) as ei:
        st.read(1)
    assert ei.value.errno == errno.EIO and "failed" in str(ei.value)
    st.mount()
    assert st.read(1) == b"one"


def test_clear_unmounts_and_resets_every_sector():
    _, area = make_area(1024, 3, 4)
    st = ZMSStore(area)
    st.mount()
    st.write(1, b"v" * 40)
    st.clear()
    assert not st.mounted
    st.mount()
    assert st.ids() == []
    for s in range(3):
        assert Geometry(1024, 3, 4, 0xFF, True).empty_valid(st._ate_at(s * 1024 + 1008))


def _random_workload(st, rng, model, n):
    for _ in range(n):
        k = rng.randrange(12)
        r = rng.random()
        if r < 0.15:
            st.delete(k)
            model.pop(k, None)
        elif r < 0.2:
            st.use_next_sector()
        else:
            v = rng.randbytes(rng.choice((1, 4, 8, 9, 30, 100)))
            st.write(k, v)
            model[k] = v


@pytest.mark.parametrize("explicit", [True, False])
def test_index_equals_walk_and_model_through_remounts(explicit):
    rng = random.Random(7)
    _, area = make_area(1024, 3, 4 if explicit else 16, explicit_erase=explicit)
    st = ZMSStore(area)
    st.mount()
    model: dict = {}
    for _ in range(10):
        _random_workload(st, rng, model, 40)
        assert st.index_matches_walk()
        assert dict(st.items()) == model
        st = ZMSStore(area)
        st.mount()
        assert dict(st.items()) == model


@pytest.mark.parametrize("explicit, mode", [(True, "clean"), (True, "torn"), (False, "torn")])
def test_power_cut_leaves_old_or_new_value(explicit, mode):
    rng = random.Random(11)
    dev, area = make_area(1024, 3, 4 if explicit else 16, explicit_erase=explicit)
    st = ZMSStore(area)
    st.mount()
    model: dict = {}
    _random_workload(st, rng, model, 30)
    for trial in range(60):
        key = rng.randrange(12)
        new = rng.randbytes(rng.choice((3, 8, 20, 60)))
        dev.arm_power_cut(after=rng.randrange(1, 6), mode=mode, seed=trial)
        try:
            st.write(key, new)
            cut = False
        except PowerLoss:
            cut = True
        dev.power_restore()
        st = ZMSStore(area)
        st.mount()
        got = dict(st.items())
        if cut:
            assert got.get(key) in (model.get(key), new), trial
            if got.get(key) == new:
                model[key] = new
        else:
            model[key] = new
        assert {k: v for k, v in got.items() if k != key} == \
            {k: v for k, v in model.items() if k != key}
        assert got.get(key) == model.get(key)


def test_crc8_of_many_slots_at_once_equals_crc8_per_slot():
    from flashstack.zms.format import crc8_slots
    blob = random.Random(3).randbytes(4096)
    for step in (16, 32):
        got = crc8_slots(blob, 48, 100, step)
        assert got == bytes(crc8_ccitt(blob[48 + step * j + 1:48 + step * j + 16])
                            for j in range(100))
