"""The fourth tear mode, unstable bits (Zephyr PR#103452): a cut inside a program leaves some
bits that read 0 or 1 differently on each read until an erase or a program settles them."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss


def _torn(seed: int, erase_value: int = 0xFF) -> tuple[SimulatedFlash, bytes]:
    dev = SimulatedFlash(4096, erase_page_size=1024, erase_value=erase_value, name="u")
    target = bytes(range(64)) if erase_value == 0 else bytes((~b) & 0xFF for b in range(64))
    dev.arm_power_cut(1, mode="torn", tear="unstable", seed=seed)
    with pytest.raises(PowerLoss, match="torn/unstable"):
        dev.write(0, target)
    dev.power_restore()
    return dev, target


@pytest.mark.parametrize("erase_value", [0xFF, 0x00])
def test_unstable_bits_read_differently_until_erased(erase_value):
    dev, target = _torn(7, erase_value)
    bits = dev.unstable_bits
    assert bits and all(0 <= o < 64 for o in bits)
    reads = {dev.read(0, 64) for _ in range(20)}
    assert len(reads) > 1, "unstable bits must not read the same every time"
    stable_mask = bytes((~bits.get(i, 0)) & 0xFF for i in range(64))
    first = next(iter(reads))
    for r in reads:   # only the unstable bits move
        assert all((a ^ b) & m == 0 for a, b, m in zip(r, first, stable_mask))
    dev.erase(0, 1024)
    assert not dev.unstable_bits
    assert {dev.read(0, 64) for _ in range(5)} == {bytes([erase_value]) * 64}


def test_a_program_that_sets_the_bits_settles_them():
    dev, target = _torn(3)
    dev.allow_double_writes = True
    dev.write(0, bytes(64))           # every bit programmed (0 on 0xFF-erased flash)
    assert not dev.unstable_bits
    assert dev.read(0, 64) == bytes(64)


def test_the_same_seed_gives_the_same_reads():
    a, _ = _torn(11)
    b, _ = _torn(11)
    assert a.unstable_bits == b.unstable_bits
    assert [a.read(0, 64) for _ in range(5)] == [b.read(0, 64) for _ in range(5)]


def test_restore_clears_unstable_bits():
    dev, _ = _torn(5)
    dev.restore(b"\xff" * 4096)
    assert not dev.unstable_bits
