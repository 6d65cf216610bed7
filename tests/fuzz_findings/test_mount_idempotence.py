"""Mount is idempotent on any image, damaged or not (issue 11): for every store, over images
made by flipping bytes of a real store, a reader (mount on a copy) serves what a writing mount
serves, a failed mount writes nothing, and a second writing mount of what the first one wrote
serves the same items and writes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig, KVStore
from flashstack.kv.store import shadow_area
from flashstack.fuzz import Finding
from flashstack.fuzz.stores import STORES, check_mount_idempotent, seed_image

KV_CFG = KVConfig(total_size=4096, block_size=1024)
SEEDS = {kind: seed_image(kind) for kind in STORES}


def _area(img: bytes, page: int, wbs: int = 1) -> tuple[SimulatedFlash, FlashArea]:
    dev = SimulatedFlash(len(img), erase_page_size=page, write_block_size=wbs,
                         allow_double_writes=True, name="fuzz")
    dev.restore(img)
    return dev, FlashArea(0, 0, len(img), dev, label="storage")


def _mutate(seed: bytes, flips) -> bytes:
    img = bytearray(seed)
    for off, x in flips:
        img[off % len(img)] ^= x
    return bytes(img)


flips = st.lists(st.tuples(st.integers(0, 0x7FFF), st.integers(1, 255)), min_size=1, max_size=8)


@pytest.mark.parametrize("kind", sorted(STORES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=flips)
def test_mount_idempotent_on_fuzzed_images(kind, flips):
    check_mount_idempotent(kind, _mutate(SEEDS[kind], flips))


@pytest.mark.parametrize("kind", sorted(STORES))
def test_mount_idempotent_on_the_clean_seed(kind):
    check_mount_idempotent(kind, SEEDS[kind])


def test_the_invariant_detects_a_mount_that_writes_every_time(monkeypatch):
    """The check can fail: a store whose writing mount always programs a byte is reported."""
    from flashstack.fuzz import stores

    def served(area, writing):
        if writing:
            pos = area.read(0, 64).find(b"\xff")
            area.write(pos, b"\x00")
        return {}
    kind = stores.StoreKind("bad", 4096, 1024, 1, served, lambda area: None)
    monkeypatch.setitem(stores.STORES, "bad", kind)
    with pytest.raises(Finding, match="serves|wrote"):
        check_mount_idempotent("bad", b"\xff" * 4096)


def test_kv_remount_keeps_the_key_of_the_finding(finding):
    """kv_remount_drops_key.py: a record running past its block is not served at all, so the
    formatting of the next block cannot drop a key the first mount served."""
    img = finding("kv_remount_drops_key.bin")
    cfg = KVConfig(total_size=16384, block_size=1024)
    dev, area = _area(img, 1024)
    ro = KVStore(shadow_area(area, cfg), cfg)
    ro.mount()
    served = dict(ro.items())
    st_ = KVStore(area, cfg)
    st_.mount()
    assert dict(st_.items()) == served
    once = dev.snapshot()
    dev2, area2 = _area(once, 1024)
    again = KVStore(area2, cfg)
    again.mount()
    assert dict(again.items()) == served
    assert dev2.snapshot() == once




def test_zms_second_mount_of_a_started_afresh_image_writes_nothing():
    """Found by ``python -m flashstack.fuzz zms-mount`` (F11): no sector closed, the last one
    with a valid first ATE but no ZMS empty ATE. The first mount starts it afresh; the
    reference's second mount then erased sector 0 as well. Now the second mount keeps the
    started sector and writes nothing."""
    from pathlib import Path

    from flashstack.zms import ZMSStore
    img = (Path(__file__).parent.parent / "data" / "fuzz-regressions" / "zms-mount-f11.bin").read_bytes()
    dev, area = _area(img, 1024, 4)
    first = ZMSStore(area, 1024, 3)
    first.mount()
    assert first.mount_notes == ["sector 2 not a ZMS sector: started afresh"]
    written = dev.snapshot()
    assert written[:1024] == img[:1024]          # sector 0 is not touched by the first mount
    again = ZMSStore(area, 1024, 3)
    again.mount()
    assert again.mount_notes == []
    assert dev.snapshot() == written
    assert dict(again.items()) == dict(first.items())
    check_mount_idempotent("zms", img)
