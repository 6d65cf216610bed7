"""Fixtures for the store registry tests: small stores of every kind, as partition views."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.stores import PartitionView


def area_of(size: int, page: int = 4096, address: int | None = None, image: bytes | None = None) -> FlashArea:
    dev = SimulatedFlash(size, erase_page_size=page, allow_double_writes=True, name="dev")
    if image is not None:
        dev.restore(image)
    return FlashArea(0, 0, size, dev, label="part", address=address)


def view_of(area: FlashArea, page: int = 4096) -> PartitionView:
    return PartitionView(area.name, area.read(0, area.size), area, erase_page=page, address=area.address)


@pytest.fixture
def kv_area():
    """A 4-block AliOS KV (blocks of 4 KiB) holding two keys, in a 32 KiB partition."""
    from flashstack.kv import KVConfig, KVStore
    area = area_of(0x8000)
    store = KVStore(area, KVConfig(total_size=0x4000, block_size=0x1000))
    store.mount()
    store.set("wifi.ssid", b"flashstack")
    store.set("boot.count", b"\x01")
    return area


@pytest.fixture
def nvs_crc_area():
    """A Zephyr NVS with data CRC on, 3 sectors of 4 KiB, two ids."""
    from flashstack.nvs import NVSStore
    area = area_of(0x3000)
    store = NVSStore(area, 0x1000, 3, data_crc=True)
    store.mount()
    store.write(1, b"one")
    store.write(0x10, b"\x01\x02")
    return area


@pytest.fixture
def llk_area():
    """A KF region of 64 KiB built with N = 8 (slots of 8 KiB), two features installed."""
    from flashstack.llkernel import FeatureStore
    area = area_of(0x10000, address=0x90000000)
    store = FeatureStore(area, 0x90000000, max_features=8, ram_base=0x20000000, ram_size=0x4000)
    store.install(b"\xaa" * 100, 64)
    store.install(b"\xbb" * 5000, 64)
    return area
