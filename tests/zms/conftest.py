"""Fixtures for the Zephyr ZMS tests: devices, areas and the reference vectors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea

VECTOR_DIR = Path(__file__).resolve().parents[1] / "data" / "zephyr-zms"


def vector_names() -> list[str]:
    return sorted(p.name[:-len(".json.gz")] for p in VECTOR_DIR.glob("*.json.gz"))


def load_vector(name: str) -> dict:
    with gzip.open(VECTOR_DIR / f"{name}.json.gz", "rt") as f:
        return json.load(f)


def load_vector_bin(name: str) -> bytes:
    with gzip.open(VECTOR_DIR / f"{name}.gz", "rb") as f:
        return f.read()


def make_area(sector_size=1024, sector_count=3, wbs=4, erase_value=0xFF, explicit_erase=True,
              allow_double_writes=False, page=None):
    """A SimulatedFlash of ``sector_count`` sectors and an area over all of it."""
    size = sector_size * sector_count
    dev = SimulatedFlash(size, erase_page_size=page or sector_size, write_block_size=wbs,
                         erase_value=erase_value, explicit_erase=explicit_erase,
                         allow_double_writes=allow_double_writes)
    return dev, FlashArea(0, 0, size, dev, label="storage")


@pytest.fixture
def area_factory():
    return make_area


def pytest_generate_tests(metafunc):
    if "vector_name" in metafunc.fixturenames:
        metafunc.parametrize("vector_name", vector_names())


@pytest.fixture
def vectors():
    class _V:
        load = staticmethod(load_vector)
        bin = staticmethod(load_vector_bin)
        names = staticmethod(vector_names)
    return _V
