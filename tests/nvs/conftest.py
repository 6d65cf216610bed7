"""Fixtures for the Zephyr NVS tests: devices, areas and the reference vectors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea

VECTOR_DIR = Path(__file__).resolve().parents[1] / "data" / "zephyr-nvs"


def vector_names() -> list[str]:
    return sorted(p.name[:-len(".json.gz")] for p in VECTOR_DIR.glob("*.json.gz"))


def load_vector(name: str) -> dict:
    with gzip.open(VECTOR_DIR / f"{name}.json.gz", "rt") as f:
        return json.load(f)


def load_vector_bin(name: str) -> bytes:
    with gzip.open(VECTOR_DIR / f"{name}.gz", "rb") as f:
        return f.read()


def make_area(sector_size=1024, sector_count=3, wbs=4, erase_value=0xFF, page=None,
              allow_double_writes=False, extra=0):
    """A SimulatedFlash of ``sector_count`` sectors (+ ``extra`` bytes) and an area over it."""
    size = sector_size * sector_count + extra
    dev = SimulatedFlash(size, erase_page_size=page or sector_size, write_block_size=wbs,
                         erase_value=erase_value, allow_double_writes=allow_double_writes)
    return dev, FlashArea(0, 0, sector_size * sector_count, dev, label="storage")


@pytest.fixture
def area_factory():
    return make_area


def pytest_generate_tests(metafunc):
    """Parametrize ``vector_name`` over every copied reference case (quirk cases included:
    the test decides what to assert for them)."""
    if "vector_name" in metafunc.fixturenames:
        metafunc.parametrize("vector_name", vector_names())


@pytest.fixture
def vectors():
    """Loader helpers: ``vectors.load(name)``, ``vectors.bin(name)``, ``vectors.names()``."""
    class _V:
        load = staticmethod(load_vector)
        bin = staticmethod(load_vector_bin)
        names = staticmethod(vector_names)
    return _V


@pytest.fixture
def nvs_img(demo_img):
    """A directory of erased flashstack-demo images (the suite's ``demo_img``)."""
    return demo_img
