"""Fixtures for the flash map tests: board data copied from the shared set (tests/data/boards)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for ``import fm_data``

import fm_data  # noqa: E402

from flashstack.flash_map import capi as zfm  # noqa: E402

DATA = fm_data.DATA


@pytest.fixture(autouse=True)
def _no_default_map():
    """Every test starts and ends with no default map (EACCES state)."""
    zfm.set_default_map(None)
    yield
    zfm.set_default_map(None)


@pytest.fixture
def qemu_map():
    """qemu_x86 + Zephyr's tests/subsys/storage/flash_map overlay: 1 MiB, 1 KiB pages, wbs 4."""
    info = fm_data.cached_info(str(DATA / "extra" / "qemu_x86_flash_map_test.dts"))
    devs = {d.name: d.create() for d in info.devices}
    return info.flash_map(devs)


@pytest.fixture
def stm32_map():
    """nucleo_f429zi: STM32F429xI non-uniform sectors, boot_partition read-only."""
    info = fm_data.cached_info(str(DATA / "nucleo_f429zi.dts"), "nucleo_f429zi")
    devs = {d.name: d.create() for d in info.devices}
    return info.flash_map(devs)
