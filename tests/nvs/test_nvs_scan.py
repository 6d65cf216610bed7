"""Read-only analysis: scan() verdicts and ATE states, stats(), looks_like_nvs()."""

from __future__ import annotations

import errno
import hashlib
import json
import random

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSStore
from flashstack.nvs import detect_nvs, looks_like_nvs, scan


def make(S=1024, N=3, W=4, data_crc=False):
    dev = SimulatedFlash(S * N, erase_page_size=S, write_block_size=W)
    a = FlashArea(0, 0, S * N, dev, label="storage")
    return dev, a, NVSStore(a, data_crc=data_crc)


def test_erased_area_is_empty_and_scan_never_writes():
    dev, a, _ = make()
    r = scan(a)
    assert r.verdict == "empty"
    assert r.mount_operations == ["P 1008: ff ff 00 00 00 00 ff 5c"]
    assert dev.snapshot() == b"\xff" * 3072
    assert dev.stats.flash_write_calls == 0 and dev.stats.flash_erase_calls == 0
    assert not looks_like_nvs(a)


def test_healthy_store_states():
    dev, a, st = make()
    st.mount()
    st.write(1, b"one")
    st.write(1, b"uno")
    st.write(2, b"two")
    st.delete(2)
    st.write(3, b"three")
    r = st.scan()
    assert r.verdict == "healthy" and r.mount_operations == []
    states = [(x.id, x.state) for x in r.ates]
    assert states == [(3, "valid"), (2, "deleted"), (2, "deleted"), (1, "valid"),
                      (1, "superseded"), (0xFFFF, "marker")]
    assert r.items == {1: b"uno", 3: b"three"}
    assert r.free_space == st.free_space()
    assert (r.ate_wra, r.data_wra, r.write_sector) == (st.ate_wra, st.data_wra, 0)
    assert r.sectors[0].counts == {"valid": 2, "deleted": 2, "superseded": 1, "marker": 1}
    assert looks_like_nvs(a) and detect_nvs(a) == 1024
    json.dumps(r.to_json())
    stats = st.stats()
    assert stats["live_ids"] == 2 and stats["live_bytes"] == 8
    assert stats["sectors"][0]["counts"]["superseded"] == 1


def test_interrupted_gc_is_recoverable():
    dev, a, st = make(N=2)
    st.mount()
    for i in range(25):
        st.write(i % 10, bytes([i]) * 32)
    dev.arm_power_cut(after=6)
    with pytest.raises(PowerLoss):
        st.write(5, b"\x77" * 32)
    dev.power_restore()
    before = dev.snapshot()
    r = scan(a)
    assert dev.snapshot() == before
    assert r.verdict == "recoverable"
    assert any("without gc_done" in n for n in r.mount_notes)
    assert r.mount_operations[0] == "E 1024 1024"
    assert r.sectors[0].state == "closed" and r.sectors[0].close_ate == "valid"


def test_corrupt_ate_and_crc_errors_are_damaged():
    dev, a, st = make(data_crc=True)
    st.mount()
    st.write(1, b"abcdef")
    st.write(2, b"xyz")
    img = bytearray(dev.snapshot())
    img[1] = 0x00                                  # break id 1's data CRC
    img[984:992] = bytes(8)                        # a corrupt ATE slot below id 2
    dev.restore(bytes(img))
    r = scan(a, data_crc=True)
    assert r.verdict == "damaged"
    assert r.read_errors == {1: "EIO"}
    assert any(x.state == "corrupt" for x in r.ates)
    assert [x.data_crc_ok for x in r.ates if x.id == 1] == [False]


def test_orphan_data_reported():
    dev, a, st = make()
    st.mount()
    st.write(1, b"abc")
    dev.arm_power_cut(after=2)                    # data lands, its ATE does not
    with pytest.raises(PowerLoss):
        st.write(2, b"orphan!!")
    dev.power_restore()
    r = scan(a)
    assert r.orphan_data == [[4, 12]] and r.verdict == "recoverable"
    assert r.mount_operations == [] and r.data_wra == 12


def test_random_bytes_are_not_nvs():
    dev, a, _ = make(N=4)
    rng = random.Random(7)
    dev.restore(bytes(rng.getrandbits(8) for _ in range(4096)))
    assert not looks_like_nvs(a)
    r = scan(a)
    assert r.verdict == "unmountable" and r.mount_errno == errno.EDEADLK
    assert r.ates and all(not x.valid or x.state == "unknown" for x in r.ates)


def test_detects_larger_nvs_sectors():
    dev = SimulatedFlash(8192, erase_page_size=1024, write_block_size=4)
    a = FlashArea(0, 0, 8192, dev, label="storage")
    st = NVSStore(a, sector_size=2048)
    st.mount()
    st.write(1, b"x")
    assert detect_nvs(a) == 2048


def test_scan_every_vector_final_image(vectors):
    """scan() of each reference final image agrees with a mount of the image."""
    for name in vectors.names():
        case = vectors.load(name)
        g = case["geometry"]
        S, N = g["sector_size"], g["sector_count"]
        dev = SimulatedFlash(S * N, erase_page_size=S, write_block_size=g["write_block_size"])
        dev.restore(vectors.bin(case["final_image"]))
        a = FlashArea(0, 0, S * N, dev, label="storage")
        r = scan(a, data_crc=g["data_crc"])
        digest = hashlib.sha256(dev.snapshot()).hexdigest()
        st = NVSStore(a, data_crc=g["data_crc"])
        try:
            st.mount()
        except OSError:
            assert r.verdict == "unmountable", name
            continue
        assert r.verdict in ("healthy", "recoverable", "damaged", "empty"), name
        if digest == hashlib.sha256(dev.snapshot()).hexdigest():
            # mount wrote nothing: the scan saw exactly the mounted state
            assert r.ate_wra == st.ate_wra and r.data_wra == st.data_wra, name
        ok = {i: v for i, v in r.items.items()}
        try:
            assert ok == dict(st.items()), name
        except OSError:
            assert r.read_errors, name
