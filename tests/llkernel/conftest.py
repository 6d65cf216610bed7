"""Fixtures for the llkernel tests: KF regions on simulated NOR flash."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.llkernel import FeatureStore

DATA = Path(__file__).resolve().parent.parent / "data" / "llkernel"
KF_START = 0x90000000
RAM_BASE = 0x20000000


def open_region(kf_size=0x10000, *, sub=4096, page=256, kf_start=KF_START, backing=None, image=None,
                **store_kw):
    """A (device, area, store) triple: the whole device is the KF partition at ``kf_start``."""
    dev = SimulatedFlash(kf_size, erase_page_size=sub, program_page_size=page, backing=backing,
                         name="qspi0")
    if image is not None:
        dev.restore(image)
    area = FlashArea(0, 0, kf_size, dev, label="kf_partition", node_labels=("kf_partition",),
                     address=kf_start)
    store_kw.setdefault("ram_base", RAM_BASE)
    return dev, area, FeatureStore(area, **store_kw)


@pytest.fixture(scope="session")
def region():
    """Factory: ``region(kf_size=..., max_features=..., ...) -> (device, area, store)``."""
    return open_region


def load_case(name: str) -> dict:
    with open(DATA / f"{name}.json") as f:
        return json.load(f)


def load_bin(name: str) -> bytes:
    with gzip.open(DATA / f"{name}.gz") as f:
        return f.read()


@pytest.fixture
def vectors():
    """Access to the copied reference vectors: ``.case(name)``, ``.bin(file)``, ``.index``."""
    class _V:
        index = json.loads((DATA / "index.json").read_text())["cases"]
        case = staticmethod(load_case)
        bin = staticmethod(load_bin)
    return _V
