"""Shared data helpers for tests/flash_map and tests/board (board files in tests/data/boards).

Imported as ``fm_data`` (tests/flash_map/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path

from flashstack.board.devicetree import load_devicetree

DATA = Path(__file__).resolve().parent.parent / "data" / "boards"
BOARDS = ["nrf52840dk_nrf52840", "native_sim", "qemu_x86", "rpi_pico", "nucleo_f429zi"]
EXTRA = sorted(p.stem for p in (DATA / "extra").glob("*.dts"))
# STM32F4 flash nodes carry no erase-block-size: the board gives the chip (FM-21).
SETTINGS = {"nucleo_f429zi": {"flash0": {"chip": "stm32f429xi"}}}

RAW = {  # board -> (board file, include dirs) inside raw/<board>/, as boards/raw/README.md
    "native_sim": ("boards/native/native_sim/native_sim.dts",
                   ["dts/common", "dts/posix", "dts/vendor", "dts", "include", "include/zephyr",
                    "boards/native/native_sim"]),
    "qemu_x86": ("boards/qemu/x86/qemu_x86.dts",
                 ["dts/common", "dts/x86", "dts/vendor", "dts", "include", "include/zephyr",
                  "boards/qemu/x86"]),
}


def expected(board: str) -> dict:
    with open(DATA / f"{board}.json") as f:
        return json.load(f)


def raw_args(board: str) -> tuple[str, list[str]]:
    base = DATA / "raw" / board
    f, dirs = RAW[board]
    return str(base / f), [str(base / d) for d in dirs if (base / d).is_dir()]


def load_quiet(path, include_dirs=(), **kw):
    """load_devicetree with partition warnings (rpi_pico alignment) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_devicetree(path, include_dirs, **kw)


@functools.lru_cache(maxsize=None)
def cached_info(path: str, settings_key: str | None = None):
    """Parsed once per session (the info is never mutated; devices are created per test)."""
    return load_quiet(path, device_settings=SETTINGS.get(settings_key))
