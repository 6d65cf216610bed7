"""PowerLoss is outside the FlashError hierarchy (DEV-35): no ``except FlashError`` or
``except OSError`` can swallow a simulated power cut, and it still carries ``.errno`` EIO."""

from __future__ import annotations

import errno
import pickle

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import FlashError, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig, KVStore
from flashstack.nvs import NVSStore


def test_power_loss_is_not_a_flash_error_but_has_errno():
    cut = PowerLoss("flash0: cut", op_index=3, kind="write", offset=16, length=4, applied=2)
    assert not isinstance(cut, (FlashError, OSError))
    assert cut.errno == errno.EIO and str(cut) == "flash0: cut [EIO]"
    back = pickle.loads(pickle.dumps(cut))      # torture workers send it across processes
    assert (back.op_index, back.kind, back.offset, back.length, back.applied) == (3, "write", 16, 4, 2)
    assert str(back) == str(cut)


def test_except_flash_error_does_not_swallow_a_cut():
    dev = SimulatedFlash(4096, erase_page_size=1024)
    dev.arm_power_cut(after=1)
    with pytest.raises(PowerLoss):
        try:
            dev.write(0, b"\x00")
        except (FlashError, OSError):
            pytest.fail("a power cut was caught as a flash error")


def _cut_during(store, dev, op):
    dev.arm_power_cut(after=1)
    with pytest.raises(PowerLoss):
        op()
    dev.power_restore()
    return store


def test_a_cut_fails_the_kv_store_until_remount():          # KV-30
    dev = SimulatedFlash(8192, erase_page_size=4096, allow_double_writes=True)
    store = KVStore(FlashArea(0, 0, 8192, dev), KVConfig())
    store.mount()
    _cut_during(store, dev, lambda: store.set("k", b"v"))
    assert store.failed
    store.mount()
    assert not store.failed


def test_a_cut_fails_the_nvs_store_until_remount():         # NVS-29
    dev = SimulatedFlash(4096, erase_page_size=1024, write_block_size=4)
    store = NVSStore(FlashArea(0, 0, 4096, dev))
    store.mount()
    _cut_during(store, dev, lambda: store.write(1, b"abcd"))
    assert store.failed
    store.mount()
    assert not store.failed and list(store.ids()) == []     # the cut write never committed
