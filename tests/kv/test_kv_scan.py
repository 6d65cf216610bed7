"""scan(): read-only analysis (KV-32) of healthy, torn, interrupted, corrupt and blank images."""

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig, KVStore, scan


def _store(total=8192):
    dev = SimulatedFlash(total, erase_page_size=4096, allow_double_writes=True)
    area = FlashArea(0, 0, total, dev)
    s = KVStore(area, KVConfig(total_size=total))
    return dev, area, s


def test_blank_image():
    dev, area, _ = _store()
    r = scan(area)
    assert r.verdict == "blank" and [b.state for b in r.blocks] == ["ERASED", "ERASED"]
    assert dev.snapshot() == b"\xff" * 8192


def test_healthy_image():
    dev, area, s = _store()
    s.mount()
    s.set("a", b"1")
    s.set("a", b"2")
    s.set("b", b"hello")
    r = scan(area)
    assert r.verdict == "ok" and r.mount_ops == [] and r.live_keys == 2
    assert [(x.key, x.status) for x in r.records] == [("a", "deleted"), ("a", "live"), ("b", "live")]
    assert r.blocks[0].state == "DIRTY" and r.blocks[0].garbage_bytes == 12 and r.reclaimable_bytes == 12


@pytest.mark.parametrize("after,keep,status", [(1, 10, "torn"), (2, None, "superseded")])
def test_interrupted_update(after, keep, status):
    dev, area, s = _store()
    s.mount()
    s.set("key_1", b"val_1")
    dev.arm_power_cut(after=after, mode="torn" if keep else "clean", keep=keep)
    with pytest.raises(PowerLoss):
        s.set("key_1", b"val_2")
    dev.power_restore()
    before = dev.snapshot()
    r = scan(area)
    assert dev.snapshot() == before, "scan must not write"
    assert r.verdict == "recoverable"
    assert status in [x.status for x in r.records]
    assert any(op["data"] == "00" for op in r.mount_ops)
    if keep:
        assert any(not x.crc_ok for x in r.records)


def test_corrupt_header_and_invalid_block():
    dev, area, s = _store()
    s.mount()
    s.set("a", b"1")
    img = bytearray(dev.snapshot())
    img[16:24] = b"\x49\xee\x00\x00\x00\x00\x00\x00"  # key_len 0: invalid header
    img[4097] = 0x12                                  # block 1: invalid state
    dev.restore(bytes(img))
    r = scan(area)
    assert r.corrupt and r.corrupt[0]["pos"] == 16
    assert r.blocks[1].state == "INVALID" and r.verdict == "data loss"
    assert any(op["op"] == "E" and op["pos"] == 4096 for op in r.mount_ops)


def test_bit_torn_write_leaves_non_erased_tail():
    dev, area, s = _store()
    s.mount()
    s.set("a", b"1")
    img = bytearray(dev.snapshot())
    img[0x30:0x34] = b"\x12\x34\x56\x78"  # programmed bytes behind the end of data (0xFF header at 0x10)
    dev.restore(bytes(img))
    r = scan(area)
    tail = [c for c in r.corrupt if "non-erased" in c["why"]]
    assert tail and tail[0]["pos"] == 0x30 and r.verdict == "recoverable"


def test_gc_would_run_after_a_cut_before_gc():
    dev, area, _ = _store()
    recorded, rec = area.recorded()
    s = KVStore(recorded, KVConfig(total_size=area.size))
    rec.note = lambda: s.reason
    s.mount()
    i = 0
    while True:  # find the update that runs a GC
        image = dev.snapshot()
        rec.take()
        s.set("hot", bytes([i % 250 + 1]) * 60)
        i += 1
        reasons = [op.note or "" for op in rec.ops]
        if any(r.startswith("gc") for r in reasons):
            break
    first_gc = next(n for n, r in enumerate(reasons) if r.startswith("gc"))
    dev.restore(image)
    s2 = KVStore(area, KVConfig())
    s2.mount()
    dev.arm_power_cut(after=first_gc + 1)  # the update's own operations done, GC not started
    with pytest.raises(PowerLoss):
        s2.set("hot", bytes([(i - 1) % 250 + 1]) * 60)
    dev.power_restore()
    r = scan(area)
    assert r.gc_would_run and not any(op["why"].startswith("gc") for op in r.mount_ops)


def test_package_scan_is_the_function_and_no_module_shares_its_name():
    import importlib

    import flashstack.kv as kv
    import flashstack.nvs as nvs
    for pkg in (kv, nvs):
        assert callable(pkg.scan) and pkg.scan.__module__ == f"{pkg.__name__}._scan"
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(f"{pkg.__name__}.scan")
        assert callable(pkg.scan)


def test_torn_block_state_is_reported_not_invalid():
    dev, area, s = _store()
    s.mount()
    s.set("a", b"1")
    img = bytearray(dev.snapshot())
    img[1] = 0xC4  # USED -> DIRTY program cut at bit level
    dev.restore(bytes(img))
    r = scan(area)
    assert r.blocks[0].state == "TORN" and r.blocks[0].state_after_mount == "DIRTY"
    assert r.verdict == "recoverable" and r.live_keys == 1
    assert any("0xc4" in p and "DIRTY" in p for p in r.problems)
    assert r.mount_ops[0]["pos"] == 1 and r.mount_ops[0]["data"] == "44"
    img[2] = 0x5A  # reserved bytes a format never leaves: a cut erase, formatted
    dev.restore(bytes(img))
    assert scan(area).blocks[0].state == "INVALID"
