"""Mount is idempotent on any image, damaged or not (issue 11): for every store, over images
made by flipping bytes of a real store, a reader (mount on a copy) serves what a writing mount
serves, a failed mount writes nothing, and a second writing mount of what the first one wrote
serves the same items and writes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashstack.device import SimulatedFlash
from flashstack.errors import FlashError, NoSpace
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig, KVStore
from flashstack.kv.store import shadow_area
from flashstack.llkernel import FeatureStore
from flashstack.nvs import NVSStore, mount_copy

KV_CFG = KVConfig(total_size=4096, block_size=1024)


def _area(img: bytes, page: int, wbs: int = 1) -> tuple[SimulatedFlash, FlashArea]:
    dev = SimulatedFlash(len(img), erase_page_size=page, write_block_size=wbs,
                         allow_double_writes=True, name="fuzz")
    dev.restore(img)
    return dev, FlashArea(0, 0, len(img), dev, label="storage")


def _kv_seed() -> bytes:
    dev, area = _area(b"\xff" * KV_CFG.total_size, 1024)
    st_ = KVStore(area, KV_CFG)
    st_.mount()
    for i in range(60):
        st_.set(f"k{i % 9}", bytes([i]) * (5 + 7 * (i % 5)))
    st_.delete("k3")
    return dev.snapshot()


def _nvs_seed() -> bytes:
    dev, area = _area(b"\xff" * 3072, 1024, 4)
    st_ = NVSStore(area, 1024, 3)
    st_.mount()
    for i in range(70):
        st_.write(1 + i % 11, bytes([i]) * (3 + 5 * (i % 6)))
    st_.delete(4)
    return dev.snapshot()


SEEDS = {"kv": _kv_seed(), "nvs": _nvs_seed()}


def _kv_items(area, writing: bool):
    st_ = KVStore(area if writing else shadow_area(area, KV_CFG), KV_CFG)
    st_.mount()
    return dict(st_.items())


def _nvs_items(area, writing: bool):
    if writing:
        st_ = NVSStore(area, 1024, 3)
        st_.mount()
    else:
        st_ = mount_copy(area, 1024, 3)
    return dict(st_.items())


STORES = {"kv": (_kv_items, 1024, 1), "nvs": (_nvs_items, 1024, 4)}

mutations = st.lists(st.tuples(st.integers(0, 4095), st.integers(1, 255)), min_size=1, max_size=8)


def _mutate(seed: bytes, flips) -> bytes:
    img = bytearray(seed)
    for off, x in flips:
        img[off % len(img)] ^= x
    return bytes(img)


def _served(fn, area, writing):
    try:
        return fn(area, writing)
    except FlashError as exc:
        return ("error", exc.errno)


def check_idempotent(kind: str, img: bytes) -> None:
    """The invariant, for one store kind and one image."""
    fn, page, wbs = STORES[kind]
    dev, area = _area(img, page, wbs)
    seen = _served(fn, area, False)
    assert dev.snapshot() == img, "a reader wrote"
    first = _served(fn, area, True)
    assert first == seen, "the reader and the writing mount disagree"
    written = dev.snapshot()
    if isinstance(first, tuple):
        assert written == img, "a failed mount wrote"
        return
    dev2, area2 = _area(written, page, wbs)
    assert _served(fn, area2, True) == first, "a remount serves other items"
    assert dev2.snapshot() == written, "a second mount wrote"


@pytest.mark.parametrize("kind", sorted(STORES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=mutations)
def test_mount_idempotent_on_fuzzed_images(kind, flips):
    check_idempotent(kind, _mutate(SEEDS[kind], flips))


@pytest.mark.parametrize("kind", sorted(STORES))
def test_mount_idempotent_on_the_clean_seed(kind):
    check_idempotent(kind, SEEDS[kind])


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


def _llk_seed() -> bytes:
    dev = SimulatedFlash(0x8000, erase_page_size=4096, program_page_size=256, name="qspi0")
    area = FlashArea(0, 0, 0x8000, dev, label="kf_partition", address=0x90000000)
    fs = FeatureStore(area, max_features=4, ram_base=0x20000000)
    for i in range(3):
        fs.install(bytes([i + 1]) * (700 + 900 * i), 512)
    fs.free_feature(fs.features()[1].handle)
    return dev.snapshot()


LLK_SEED = _llk_seed()


@settings(max_examples=60, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 0x7FFF), st.integers(1, 255)), max_size=8))
def test_llkernel_open_is_idempotent_and_read_only(flips):
    img = _mutate(LLK_SEED, flips)
    dev = SimulatedFlash(0x8000, erase_page_size=4096, program_page_size=256, name="qspi0")
    dev.restore(img)
    area = FlashArea(0, 0, 0x8000, dev, label="kf_partition", address=0x90000000)

    def listed():
        try:
            return FeatureStore(area, max_features=4, ram_base=0x20000000).features()
        except FlashError as exc:
            return exc.errno
    first = listed()
    assert dev.snapshot() == img
    assert listed() == first
    assert dev.snapshot() == img


def test_kv_gc_checks_the_copy_fits_before_writing():
    """The guard itself: a collection whose destination has less room than the victim's live
    records (impossible from real bytes since records never cross a block) writes nothing."""
    dev, area = _area(SEEDS["kv"], 1024)
    kv = KVStore(area, KV_CFG)
    kv.mount()
    kv.set("k1", b"another value")
    live_blocks = {c[0][0] // kv.B for c in kv.index.values()}
    victim = next(b for b in sorted(live_blocks) if kv.state[b] == 0x44)   # DIRTY, live records
    d = kv.state.index(0xEE)
    before = dev.snapshot()
    kv._load_window(victim, min(kv.N, victim + 2))
    kv._check_gc_fits(victim, d)               # fits from the block header: no error
    kv.write_pos = (d + 1) * kv.B - 8           # only 8 bytes left where the copy would start
    with pytest.raises(NoSpace, match=f"garbage collection of block {victim}"):
        kv._check_gc_fits(victim, d)
    kv._win = None
    assert dev.snapshot() == before
