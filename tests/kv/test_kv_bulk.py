"""Mount's bulk walk (flashstack.kv._bulk, docs/alios-kv.md §8 KV-8/KV-27) against the
record-by-record walk it replaces where that walk would write nothing: over images taken along
workloads that run many garbage collections, over damaged copies of them and over images cut
at random flash operations, both mounts must end in the same RAM state (index in search order,
block states, free space, write position), issue the same flash operations with the same
reasons, and leave the same image."""

import random

import pytest

from flashstack._crc8 import crc8_rows, crc8_with
from flashstack.errors import FlashError, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.kv import KVStore
from flashstack.kv import engine as kv_engine
from flashstack.kv.format import _CRC8_TABLE
from kv_flash import kv_device

# (blocks, block size, align): 16-bit positions below 64 KiB, 32-bit from there
CONFIGS = [(4, 4096, 4), (6, 4096, 8), (3, 8192, 4), (4, 16384, 4)]


def _mount(cfg_t, image, bulk: bool, monkeypatch, taken: list):
    dev, cfg = kv_device(cfg_t, image)
    area, rec = FlashArea(0, 0, cfg.total_size, dev).recorded()
    store = KVStore(area, cfg)
    rec.note = lambda: store.reason
    walk = kv_engine.walk_block

    def counted(*a, **k):
        done = walk(*a, **k)
        taken.append(done is not None)
        return done

    with monkeypatch.context() as m:
        m.setattr(kv_engine, "walk_block", counted if bulk else (lambda *a, **k: None))
        try:
            store.mount()
            err = None
        except FlashError as e:  # a damaged store may fail its GC (ENOSPC); both must agree
            err = (type(e).__name__, str(e))
    return (err, list(store.index.items()), store.state, store.space, store.clean, store.write_pos,
            store.gc_pending, [(o.kind, o.offset, o.length, o.data, o.note) for o in rec.ops], dev.snapshot())


def _same_mount(cfg_t, image, monkeypatch, taken):
    fast = _mount(cfg_t, image, True, monkeypatch, taken)
    exact = _mount(cfg_t, image, False, monkeypatch, [])
    assert fast == exact


def _workload(cfg_t, seed, steps, every):
    """Images along a random workload (sets of runs of equal-length and mixed values, updates,
    deletes, prefix deletes) on a store remounted now and then: one image every ``every`` ops."""
    rnd = random.Random(seed)
    dev, cfg = kv_device(cfg_t)
    store = KVStore(FlashArea(0, 0, cfg.total_size, dev), cfg)
    store.mount()
    keys = [f"k{i:03d}" for i in range(rnd.choice((20, 60, 150)))]
    images = []
    for n in range(steps):
        r = rnd.random()
        key = rnd.choice(keys)
        if r < 0.75:
            vl = 8 if rnd.random() < 0.6 else rnd.randint(1, 200)
            store.set(key, rnd.randbytes(vl))
        elif r < 0.93:
            if key in store:
                store.delete(key)
        elif r < 0.96:
            store.delete_by_prefix(key[:3])
        else:
            store.unmount()
            store.mount()
        if n % every == 0:
            images.append(dev.snapshot())
    return images, dev.stats.flash_erase_calls


@pytest.mark.parametrize("cfg_t", CONFIGS, ids=lambda c: f"{c[0]}x{c[1]}a{c[2]}")
def test_bulk_mount_equals_walk_over_many_gc_cycles(cfg_t, monkeypatch):
    taken: list[bool] = []
    for seed in range(3):
        steps = 1500 * cfg_t[1] // 4096  # about 300 records fill a 16 KiB block
        images, erases = _workload(cfg_t, seed, steps, steps // 25)
        assert erases >= 2 * cfg_t[0], "the workload must run many garbage collections"
        for image in images:
            _same_mount(cfg_t, image, monkeypatch, taken)
    assert sum(taken) > len(taken) // 2, "most blocks must take the bulk walk"


DAMAGE = ["byte", "bits", "erase_run", "header", "state"]


@pytest.mark.parametrize("cfg_t", CONFIGS, ids=lambda c: f"{c[0]}x{c[1]}a{c[2]}")
def test_bulk_mount_equals_walk_on_damaged_images(cfg_t, monkeypatch):
    rnd = random.Random(7)
    images, _ = _workload(cfg_t, 11, 900, 90)
    taken: list[bool] = []
    size = len(images[0])
    for image in images:
        for kind in DAMAGE:
            img = bytearray(image)
            for _ in range(rnd.randint(1, 4)):
                at = rnd.randrange(size)
                if kind == "byte":
                    img[at] = rnd.randrange(256)
                elif kind == "bits":
                    img[at] &= rnd.randrange(256)  # NOR: a torn program only clears bits
                elif kind == "erase_run":
                    n = rnd.randint(1, 40)
                    img[at:at + n] = b"\xff" * len(img[at:at + n])
                elif kind == "header":  # an item header's length or origin bytes
                    at = img.find(b"I", at)
                    if at >= 0 and at + 9 < size:
                        img[at + rnd.choice((3, 4, 6, 7))] = rnd.randrange(256)
                else:  # a record's state byte (deleted / torn state)
                    at = img.find(b"I\xee", at)
                    if at >= 0:
                        img[at + 1] = rnd.choice((0x00, 0x44, 0xEC))
            _same_mount(cfg_t, bytes(img[:size]), monkeypatch, taken)
    assert any(taken) and not all(taken), "damage must send some blocks to the exact walk"


@pytest.mark.parametrize("mode,tear", [("clean", "prefix"), ("torn", "prefix"), ("torn", "bits")])
def test_bulk_mount_equals_walk_after_power_cuts(mode, tear, monkeypatch):
    cfg_t = (4, 4096, 4)
    rnd = random.Random(hash((mode, tear)) & 0xFFFF)
    taken: list[bool] = []
    for seed in range(40):
        dev, cfg = kv_device(cfg_t)
        store = KVStore(FlashArea(0, 0, cfg.total_size, dev), cfg)
        store.mount()
        for _ in range(rnd.randint(50, 400)):
            store.set(f"k{rnd.randrange(40)}", rnd.randbytes(rnd.choice((8, 8, 30))))
        dev.arm_power_cut(after=rnd.randint(1, 6), mode=mode, tear=tear, seed=seed)
        try:
            for _ in range(20):
                store.set(f"k{rnd.randrange(40)}", rnd.randbytes(rnd.choice((8, 30))))
        except PowerLoss:
            pass
        dev.power_restore()
        _same_mount(cfg_t, dev.snapshot(), monkeypatch, taken)
    assert any(taken)


def test_crc8_rows_equals_the_byte_loop():
    rnd = random.Random(3)
    for width in (1, 2, 9, 18, 130):
        blob = rnd.randbytes(width * 40 + 17)
        for crc in (0, 0xFF):
            assert crc8_rows(_CRC8_TABLE, blob[:width * 40], width, crc) == bytes(
                crc8_with(_CRC8_TABLE, blob[j * width:(j + 1) * width], crc) for j in range(40))
            stride = width + 5
            count = (len(blob) - 3 - width) // stride + 1
            assert crc8_rows(_CRC8_TABLE, blob, width, crc, start=3, stride=stride, count=count) == bytes(
                crc8_with(_CRC8_TABLE, blob[3 + j * stride:3 + j * stride + width], crc) for j in range(count))


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("damage", ["deleted", "crc", "key_ff", "origin_same_key"])
def test_bulk_mount_equals_walk_in_a_run_of_a_used_block(where, damage, monkeypatch):
    """Targeted: one record of a run of equal-length records in the USED write block is deleted
    behind the store's back (mount DIRTY-marks the block), torn (CRC mismatch: mount deletes
    it), holds 0xFF in its key, or names in origin_off an older NORMAL copy of its key (an
    interrupted update: mount deletes the older copy)."""
    cfg_t = (4, 4096, 4)
    dev, cfg = kv_device(cfg_t)
    store = KVStore(FlashArea(0, 0, cfg.total_size, dev), cfg)
    store.mount()
    for i in range(40):
        store.set(f"key{i:03d}", i.to_bytes(8, "little"))
    img = bytearray(dev.snapshot())
    positions = sorted(p for copies in store.index.values() for p, _ in copies)
    assert store.state[positions[0] // 4096] == 0xCC  # USED
    pos = {"first": positions[0], "middle": positions[20], "last": positions[-1]}[where]
    if damage == "deleted":
        img[pos + 1] = 0x00
    elif damage == "crc":
        img[pos + store.HDR + 4] ^= 0x01
    elif damage == "key_ff":  # with a matching CRC: only the 0xFF rule finds it
        img[pos + store.HDR + 3] = 0xFF
        img[pos + 2] = crc8_with(_CRC8_TABLE, bytes(img[pos + store.HDR:pos + store.HDR + 14]), 0)
    else:  # the record names the first record of another copy of its own key as origin
        older = positions[0] if pos != positions[0] else positions[1]
        img[older + store.HDR:older + store.HDR + 6] = img[pos + store.HDR:pos + store.HDR + 6]
        img[older + 2] = crc8_with(_CRC8_TABLE, bytes(img[older + store.HDR:older + store.HDR + 14]), 0)
        img[pos + 6:pos + 8] = older.to_bytes(2, "little")
    taken: list[bool] = []
    _same_mount(cfg_t, bytes(img), monkeypatch, taken)
    assert taken[0] is False, "the damaged block must take the exact walk"
