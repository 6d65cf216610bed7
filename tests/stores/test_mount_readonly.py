"""``mount_readonly()`` on the KV, NVS, ZMS and LLKERNEL stores: mounts (and repairs) on an
in-memory copy; the real device sees reads only (its write and erase counters stay put)."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig, KVStore
from flashstack.llkernel import FeatureStore
from flashstack.nvs import NVSStore
from flashstack.zms import ZMSStore


def _area(size=0x4000, **kw) -> FlashArea:
    dev = SimulatedFlash(size, erase_page_size=0x1000, allow_double_writes=True, **kw)
    return FlashArea(1, 0, size, dev, label="storage", address=0x10000000)


def _writes(area) -> tuple[int, int, bytes]:
    st = area.device.stats
    return st.flash_write_calls, st.flash_erase_calls, area.device.snapshot()


def _nvs(area):
    st = NVSStore(area, 0x1000, 4)
    st.mount()
    st.write(1, b"hello")
    # a corrupt ATE where the next one goes: mount must close the sector and move on
    area.write(st.ate_wra, b"\x00" * 8)


@pytest.mark.parametrize("make", ["kv", "nvs", "zms", "llkernel"])
def test_mount_readonly_never_writes_the_area(make):
    area = _area()
    if make == "kv":
        cfg = KVConfig(total_size=0x4000, block_size=0x1000)
        st = KVStore(area, cfg)
        st.mount()
        st.set("a", b"1")
        area.write(st.stats()["write_pos"], b"I\xee")      # a torn record header: mount repairs it
        before = _writes(area)
        ro = KVStore.mount_readonly(area, cfg)
        assert ro.get("a") == b"1"
        ro.set("b", b"2")                                 # writes land on the copy
    elif make == "nvs":
        _nvs(area)
        before = _writes(area)
        ro = NVSStore.mount_readonly(area, 0x1000, 4)
        assert ro.read(1) == b"hello"
        ro.write(3, b"new")
    elif make == "zms":
        st = ZMSStore(area, 0x1000, 4)
        st.mount()
        st.write(1, b"hello")
        before = _writes(area)
        ro = ZMSStore.mount_readonly(area, 0x1000, 4)
        assert ro.read(1) == b"hello"
        ro.write(2, b"x" * 40)
    else:
        before = _writes(area)
        ro = FeatureStore.mount_readonly(area, 0x10000000, max_features=4, ram_base=0x20000000)
        ro.install(b"\x01" * 100, 16)
        assert ro.allocated_features_count() == 1
    assert _writes(area) == before
    copy = getattr(ro, "area", None) or ro.storage
    assert copy.device is not area.device


_MOUNTS = {"kv": (lambda a: KVStore(a, KVConfig(total_size=0x4000, block_size=0x1000)),
                   lambda a: KVStore.mount_readonly(a, KVConfig(total_size=0x4000, block_size=0x1000))),
           "nvs": (lambda a: NVSStore(a, 0x1000, 4), lambda a: NVSStore.mount_readonly(a, 0x1000, 4)),
           "zms": (lambda a: ZMSStore(a, 0x1000, 4), lambda a: ZMSStore.mount_readonly(a, 0x1000, 4))}


@pytest.mark.parametrize("name", sorted(_MOUNTS))
def test_a_writing_mount_formats_an_erased_area_mount_readonly_does_not(name):
    writable, readonly = _MOUNTS[name]
    area = _area()
    before = _writes(area)
    readonly(area)
    assert _writes(area) == before
    writable(area).mount()            # the control: the firmware's mount writes the erased area
    assert _writes(area)[:2] != before[:2]
