"""Fixtures and a reference NOR model for the device tests (docs/device.md)."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash

#: §9 geometry: Zephyr qemu_x86 / native_sim flash simulator overlay.
SIM_SIZE = 1 << 20
SIM_PAGE = 1024
SIM_WBS = 4


def make_sim(erase_value=0xFF, **kw) -> SimulatedFlash:
    """A §9 conformance device: 1 MiB, erase page 1024, wbs 4, aligned reads only."""
    kw.setdefault("unaligned_read", False)
    kw.setdefault("allow_double_writes", False)
    return SimulatedFlash(SIM_SIZE, erase_page_size=SIM_PAGE, write_block_size=SIM_WBS,
                          erase_value=erase_value, **kw)


@pytest.fixture(params=[0xFF, 0x00], ids=["ev_ff", "ev_00"])
def erase_value(request) -> int:
    return request.param


@pytest.fixture
def sim(erase_value) -> SimulatedFlash:
    return make_sim(erase_value)


class NorModel:
    """The simplest possible NOR model: a list of ints, one per byte, and the rules of §4.2/§4.3
    written out byte by byte (no shared code with the device)."""

    def __init__(self, size, page, erase_value=0xFF, wbs=1, double=False, explicit=True):
        self.mem = [erase_value] * size
        self.page, self.ev, self.wbs = page, erase_value, wbs
        self.double, self.explicit = double, explicit

    def programmed_blocks(self, off, n):
        return sum(1 for b in range(off, off + n, self.wbs)
                   if any(self.mem[i] != self.ev for i in range(b, b + self.wbs)))

    def program_value(self, old, new):
        if not self.explicit:
            return new
        return old & new if self.ev == 0xFF else old | new

    def write(self, off, data) -> bool:
        """Apply a write; False when the device must reject it as a double write."""
        if self.explicit and not self.double and self.programmed_blocks(off, len(data)):
            return False
        for i, b in enumerate(data):
            self.mem[off + i] = self.program_value(self.mem[off + i], b)
        return True

    def full_write(self, off, data) -> bytes:
        """The bytes ``[off, off+len)`` would hold after the whole write."""
        return bytes(self.program_value(self.mem[off + i], b) for i, b in enumerate(data))

    def erase(self, off, n):
        for i in range(off, off + n):
            self.mem[i] = self.ev

    def image(self) -> bytes:
        return bytes(self.mem)


@pytest.fixture
def sim_factory():
    """``make_sim(erase_value=0xFF, **kw)`` for tests that need several devices."""
    return make_sim


@pytest.fixture
def nor_model():
    """The :class:`NorModel` class (fixtures are the only way to share code under importlib mode)."""
    return NorModel
