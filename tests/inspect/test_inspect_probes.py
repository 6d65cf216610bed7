"""Partition identification: MCUboot headers and TLVs, littlefs, unknown data, erased."""

from __future__ import annotations

import hashlib
import struct

import pytest

from flashstack.inspect import entropy, first_non_erased, identify, inspect_area, make_image, parse_image
from flashstack.inspect.analysis import byte_summary, last_non_erased
from flashstack.inspect._identify import PartitionView
from flashstack.mcuboot.image import BOOT_MAGIC, IMAGE_MAGIC, TLV_SHA256


def _slot(image: bytes, size: int = 0x8000) -> bytes:
    return image + b"\xff" * (size - len(image))


def test_mcuboot_header_fields_and_hash():
    payload = bytes(range(256)) * 10
    img = parse_image(_slot(make_image(payload, (1, 2, 3, 4), load_address=0x1000, flags=0x01)))
    assert img.version == "1.2.3+4"
    assert (img.image_size, img.header_size, img.load_address) == (len(payload), 0x200, 0x1000)
    assert img.hash_type == "SHA256" and img.hash_ok is True
    assert img.to_json()["flags"] == ["PIC"]
    sha = [t for t in img.tlvs if t["type"] == TLV_SHA256][0]
    signed = make_image(payload, (1, 2, 3, 4), load_address=0x1000, flags=0x01)[:0x200 + len(payload)]
    assert sha["value_hex"] == hashlib.sha256(signed).hexdigest()
    assert img.total_size == 0x200 + len(payload) + 4 + 4 + 32


def test_mcuboot_header_layout_is_the_32_byte_struct():
    raw = make_image(b"abc", (9, 8, 0x0706, 0x05040302))
    assert struct.unpack_from("<I", raw)[0] == IMAGE_MAGIC == 0x96F3B83D
    assert raw[:4] == bytes.fromhex("3db8f396")
    assert struct.unpack_from("<HHI", raw, 8) == (0x200, 0, 3)          # hdr size, prot TLVs, img size
    assert raw[20:28] == bytes([9, 8, 0x06, 0x07, 0x02, 0x03, 0x04, 0x05])  # version


def test_mcuboot_protected_tlvs_are_hashed():
    image = make_image(b"payload" * 50, protected_tlvs=[(0x50, struct.pack("<I", 7))])
    img = parse_image(_slot(image))
    assert img.protected_tlv_size == 4 + 4 + 4
    assert [t["name"] for t in img.tlvs] == ["SEC_CNT", "SHA256"]
    assert img.tlvs[0]["protected"] and img.hash_ok


def test_mcuboot_corrupted_payload_fails_hash():
    image = bytearray(make_image(b"x" * 1000))
    image[0x200 + 10] ^= 0x01
    report = identify(PartitionView("slot0", _slot(bytes(image)), None))
    assert report["kind"] == "mcuboot"
    assert report["mcuboot"]["hash_ok"] is False
    assert report["health"] == "error" and "HASH MISMATCH" in report["summary"]


def test_mcuboot_truncated_image_is_reported_not_raised():
    image = make_image(b"y" * 5000)
    img = parse_image(image[:3000])
    assert img is not None and img.problems and img.hash_ok is None


def test_mcuboot_trailer_magic():
    slot = bytearray(_slot(make_image(b"z" * 100)))
    slot[-16:] = BOOT_MAGIC
    assert parse_image(bytes(slot)).trailer_magic
    assert not parse_image(_slot(make_image(b"z" * 100))).trailer_magic


def test_no_magic_is_not_mcuboot():
    assert parse_image(b"\x00" * 64) is None


def test_erased_and_unknown(make_area):
    assert inspect_area(make_area(b"\xff" * 8192))["kind"] == "erased"
    data = b"\xff" * 100 + bytes(range(255)) * 4 + b"\xff" * (8192 - 100 - 1020)
    rep = inspect_area(make_area(data))
    assert rep["kind"] == "unknown"
    assert rep["bytes"]["first_non_erased"] == 100
    assert rep["bytes"]["last_non_erased"] == 100 + 1019
    assert rep["bytes"]["entropy"] == pytest.approx(7.994, abs=1e-3)
    assert rep["bytes"]["erased_pages"] == 1 and rep["bytes"]["pages"] == 2


def test_analysis_helpers():
    assert entropy(b"") == 0.0 and entropy(b"aaaa") == 0.0
    assert entropy(b"ab" * 8) == pytest.approx(1.0)
    assert first_non_erased(b"\xff\xff\x00") == 2 and first_non_erased(b"\xff") is None
    assert last_non_erased(b"\x00\xff") == 0
    assert byte_summary(b"\x00" * 4, erase_value=0x00)["first_non_erased"] is None


def test_littlefs_partition_summary(make_area):
    import littlefs
    fs = littlefs.LittleFS(block_size=4096, block_count=16, read_size=1, prog_size=1, cache_size=64,
                           lookahead_size=32)
    fs.mkdir("d")
    with fs.open("d/a.txt", "w") as f:
        f.write("hello")
    with fs.open("b.bin", "wb") as f:
        f.write(b"\x00" * 5000)
    image = bytes(fs.context.buffer)
    rep = inspect_area(make_area(image), details=True)
    assert rep["kind"] == "littlefs"
    info = rep["littlefs"]
    assert info["superblock"]["block_size"] == 4096 and info["superblock"]["block_count"] == 16
    assert info["files"] == 2 and info["dirs"] == 1 and info["file_bytes"] == 5005
    assert sorted(f["path"] for f in info["file_list"]) == ["/b.bin", "/d/a.txt"]
    assert info["used_blocks"] == fs.used_block_count


def test_hint_runs_the_named_probe_first(make_area):
    """An erased partition built as an empty KF region is reported as that region."""
    rep = inspect_area(make_area(b"\xff" * 65536, address=0x90000000),
                       {"type": "llkernel", "config": {"kf_start": 0x90000000, "max_features": 4}})
    assert rep["kind"] == "llkernel"
    assert rep["llkernel"]["features"] == [] and rep["llkernel"]["config"]["slot_size"] == 16384
    assert inspect_area(make_area(b"\xff" * 65536))["kind"] == "erased"


def _kv_dump_with_gc_pending() -> bytes:
    """A 2-block AliOS KV cut by power loss where the next mount would run GC (found by
    cutting at every operation until the KV layer's scan says so)."""
    from flashstack.device import SimulatedFlash
    from flashstack.errors import PowerLoss
    from flashstack.flash_map import FlashArea
    from flashstack.kv import KVConfig, KVStore
    from flashstack.kv import scan

    cfg = KVConfig(total_size=8192, block_size=4096)
    for cut in range(1, 400):
        dev = SimulatedFlash(8192, erase_page_size=4096, allow_double_writes=True, name="d")
        store = KVStore(FlashArea(0, 0, 8192, dev, label="kv"), cfg)
        store.mount()
        dev.arm_power_cut(after=cut)
        try:
            for i in range(400):
                store.set(b"key%d" % (i % 3), bytes([i % 256]) * 100)
            continue
        except PowerLoss:
            dev.power_restore()
        image = dev.snapshot()
        dev.restore(image)
        if scan(FlashArea(0, 0, 8192, dev, label="kv"), cfg).gc_would_run:
            return image
    raise AssertionError("no cut point leaves a pending GC")


def test_kv_dump_is_reported_as_it_is_not_after_the_gc_mount_would_run(make_area):
    from flashstack.kv.format import BLOCK_STATE_NAMES

    image = _kv_dump_with_gc_pending()
    report = inspect_area(make_area(image))
    kv = report["kv"]
    assert kv["health"]["gc_would_run"] is True
    on_flash = [BLOCK_STATE_NAMES[image[b * 4096 + 1]] for b in range(2)]
    assert [b["state"] for b in kv["stats"]["blocks"]] == on_flash
    assert "DIRTY" in on_flash and kv["stats"]["garbage_bytes"] > 0
