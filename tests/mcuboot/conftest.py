"""Shared helpers for the MCUboot tests: the reference cases and a device that logs its operations."""

from __future__ import annotations

import json
from pathlib import Path

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.mcuboot import BootConfig

DATA = Path(__file__).parent.parent / "data" / "mcuboot-state"


class LoggingFlash(SimulatedFlash):
    """A SimulatedFlash that records every program and erase (device offsets) in order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ops: list[tuple[str, int, int, bytes]] = []

    def write(self, off, data):
        self.ops.append(("write", off, len(data), bytes(data)))
        super().write(off, data)

    def erase(self, off, n):
        self.ops.append(("erase", off, n, b""))
        super().erase(off, n)


class Pair:
    """The primary | secondary | scratch device of a reference case, as flash areas 1, 2, 3."""

    def __init__(self, case: dict, image: bytes | None = None):
        c = case["config"]
        self.cfg = BootConfig(mode=c["mode"], max_align=c["max_align"], max_img_sectors=c["max_img_sectors"])
        sizes = [c["primary_size"], c["secondary_size"], c["scratch_size"]]
        total = sum(sizes)
        self.dev = LoggingFlash(total, erase_page_size=c["sector_size"], write_block_size=c["write_align"],
                                erase_value=c["erased_val"], name="flash0")
        if image is not None:
            self.dev.restore(image)
        self.starts = [0, sizes[0], sizes[0] + sizes[1]]
        self.areas = [FlashArea(i + 1, self.starts[i], sizes[i], self.dev, label=name)
                      for i, name in enumerate(("primary", "secondary", "scratch")) if sizes[i]]
        self.primary, self.secondary = self.areas[0], self.areas[1]
        self.scratch = self.areas[2] if len(self.areas) > 2 else None

    def load(self, name: str) -> None:
        self.dev.restore((DATA / name).read_bytes())

    def by_name(self) -> dict:
        return {a.label: a for a in self.areas}


def load_case(path: Path) -> dict:
    return json.loads(path.read_text())


def case_files(prefix: str) -> list[Path]:
    return sorted(p for p in DATA.glob(f"{prefix}*.json"))
