"""Torn allocation headers (spec §13, torture finding L1): a header program cut after the USED
status leaves erased or partial RAM fields. Such a header is still listed (reference semantics)
but its torn RAM range must not block RAM placement, and its slot is reclaimed by
``onFeatureInitializationError(handle, 1)`` as the Kernel does at boot."""

from __future__ import annotations

import pytest

from flashstack.errors import PowerLoss
from flashstack.llkernel import USED_MAGIC, FeatureStore

KF = 0x90000000
RAM = 0x20010000
RAM_SIZE = 16 * 1024


def torn_region(region, keep: int, tear: str = "prefix", seed: int = 0):
    """Slot 0's header program (one 32-byte page) cut with ``keep`` bytes applied; reopened."""
    dev, area, s = region(0x10000, max_features=4, page=32, ram_base=RAM, ram_size=RAM_SIZE)
    dev.arm_power_cut(after=2, mode="torn", tear=tear, keep=keep, seed=seed)  # erase, then header
    with pytest.raises(PowerLoss):
        s.allocate_feature(3563, 1184)
    dev.power_restore()
    return dev, area, FeatureStore(area, max_features=4, ram_base=RAM, ram_size=RAM_SIZE)


def test_llkernel_torn_ram_size_does_not_block_allocation(region):
    """L1 reproducer (torture churn seed 32, cut 2, prefix, 32-byte pages): 20 bytes kept, so
    ram_address = the buffer start and ram_size = 0xFFFFFFFF. Before the fix the clipped range
    covered the whole buffer and even a 0-byte RAM area was refused."""
    dev, area, s = torn_region(region, keep=20)
    (torn,) = s.features()
    assert torn.ram_address == RAM and torn.ram_size == 0xFFFFFFFF
    h1 = s.allocate_feature(100, 256)
    assert h1 is not None, s.last_error
    assert s.feature_address_ram(h1) == RAM          # the torn range is not live
    assert s.allocate_feature(100, 0) is not None, s.last_error
    codes = {a.code for a in s.scan().all_anomalies() if a.slot == 0}
    assert "torn_ram_fields" in codes


@pytest.mark.parametrize("keep", range(4, 32))
def test_llkernel_every_prefix_tear_of_the_header(region, keep):
    """Whatever prefix of the header reached flash, the slot is listed (USED), RAM can still be
    placed (only a complete ram_size, keep >= 24, makes the range live), and the Kernel's boot
    handling (code 1 = CORRUPTED_CONTENT) frees the slot for reuse."""
    dev, area, s = torn_region(region, keep=keep)
    assert int.from_bytes(dev.read(0, 4), "little") == USED_MAGIC
    assert s.allocated_features_count() == 1
    h = s.allocate_feature(100, 1184)
    assert h == KF + s.slot_size, s.last_error
    ram = s.feature_address_ram(h)
    if keep >= 24:                       # RAM fields complete: [RAM, RAM + 1184) is live
        assert ram >= RAM + 1184
    else:
        assert ram == RAM
    s.on_feature_initialization_error(KF, 1)
    assert [f.handle for f in s.features()] == [h]
    assert s.allocate_feature(100, 0) == KF           # the torn slot is reclaimed


@pytest.mark.parametrize("seed", range(16))
def test_llkernel_bit_torn_header_never_blocks_an_empty_buffer(region, seed):
    """Bit tears leave any superset of the final bits: after the Kernel frees the torn Feature
    (code 1) the whole buffer is available again, whatever the torn fields were."""
    dev, area, s = torn_region(region, keep=None, tear="bits", seed=seed)
    listed = s.features()
    for f in listed:
        s.on_feature_initialization_error(f.handle, 1)
    assert s.allocated_features_count() == 0
    h = s.allocate_feature(s.slot_size - 32, RAM_SIZE)
    assert h == KF and s.feature_address_ram(h) == RAM
