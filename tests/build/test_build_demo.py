"""The built-in demo build: what lands in each partition, the record, HEX = raw images."""

from __future__ import annotations

import hashlib
import json

import pytest

from flashstack.board import load_board
from flashstack.build import build, demo_manifest_path
from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea

DEMO = demo_manifest_path().parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "build"
    result = build(None, out)
    return result, out


def _area(result, label):
    board = load_board("flashstack-demo")
    spec = board.partition(label)
    data = result.images[spec.device][spec.offset:spec.offset + spec.size]
    dev = SimulatedFlash(len(data), erase_page_size=4096, allow_double_writes=True)
    dev.restore(data)
    return FlashArea(spec.id, 0, len(data), dev, label=label, address=spec.address), data


def test_outputs_and_record(demo):
    result, out = demo
    assert sorted(p.name for p in out.iterdir()) == ["build.json", "flash0.bin", "image.hex", "qspi0.bin"]
    record = json.loads((out / "build.json").read_text())
    assert record == result.record
    assert record["board"] == "flashstack-demo" and record["tool"] == "flashstack"
    from flashstack import __version__
    assert record["version"] == __version__
    for dev in record["devices"]:
        data = (out / dev["image"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == dev["sha256"] and len(data) == dev["size"]
    images = {d["name"]: (out / d["image"]).read_bytes() for d in record["devices"]}
    labels = [p["label"] for p in record["partitions"]]
    assert labels == ["boot_partition", "storage_partition", "slot0_partition", "slot1_partition",
                      "scratch_partition", "kf_partition", "lfs_partition"]
    for p in record["partitions"]:
        part = images[p["device"]][p["offset"]:p["offset"] + p["size"]]
        assert hashlib.sha256(part).hexdigest() == p["sha256"]
    kinds = {p["label"]: p["content"]["type"] for p in record["partitions"]}
    assert kinds == {"boot_partition": "file", "storage_partition": "alios-kv", "slot0_partition": "file",
                     "slot1_partition": "erased", "scratch_partition": "erased", "kf_partition": "llkernel",
                     "lfs_partition": "littlefs"}


def test_read_only_boot_partition_holds_the_file(demo):
    result, _ = demo
    boot = (DEMO / "bootloader.bin").read_bytes()
    _, data = _area(result, "boot_partition")
    assert load_board("flashstack-demo").partition("boot_partition").read_only
    assert data[:len(boot)] == boot and data[len(boot):] == b"\xff" * (len(data) - len(boot))


def test_kv_factory_settings(demo):
    from flashstack.kv import KVConfig, KVStore
    result, _ = demo
    area, _ = _area(result, "storage_partition")
    store = KVStore(area, KVConfig(total_size=8192, block_size=4096))
    store.mount()
    assert dict(store.items()) == {b"device.model": b"flashstack-demo", b"device.serial": b"FS-000001",
                                   b"hw.revision": b"\x03", b"wifi.ssid": b"flashstack", b"wifi.country": b"DE",
                                   b"boot.count": b"\0\0\0\0"}


def test_empty_kf_region_and_littlefs(demo):
    import littlefs
    from flashstack.llkernel.store import FeatureStore
    result, _ = demo
    kf, data = _area(result, "kf_partition")
    assert data == b"\xff" * len(data)
    store = FeatureStore(kf, 0x90000000, max_features=16)
    assert store.allocated_features_count() == 0 and store.slot_size == 256 * 1024
    _, lfs = _area(result, "lfs_partition")
    ctx = littlefs.UserContext(len(lfs))
    ctx.buffer[:] = lfs
    fs = littlefs.LittleFS(context=ctx, block_size=4096, block_count=len(lfs) // 4096, mount=False)
    fs.mount()
    for rel in ("README.txt", "config/device.json", "config/calibration.txt"):
        with fs.open(rel, "rb") as f:
            assert f.read() == (DEMO / "lfs" / rel).read_bytes()


def test_hex_matches_the_raw_images(demo):
    import intelhex
    result, out = demo
    ih = intelhex.IntelHex(str(out / "image.hex"))
    bases = {"flash0": 0, "qspi0": 0x90000000}
    covered = {name: 0 for name in bases}
    for start, end in ih.segments():
        name = "qspi0" if start >= 0x90000000 else "flash0"
        off = start - bases[name]
        assert ih.tobinstr(start=start, end=end - 1) == result.images[name][off:off + end - start]
        covered[name] += end - start
    # every erase page that is not erased is in the HEX file, erased pages are not
    for name, image in result.images.items():
        dirty = sum(4096 for i in range(0, len(image), 4096) if image[i:i + 4096] != b"\xff" * 4096)
        assert covered[name] == dirty


def test_build_is_deterministic(tmp_path, demo):
    result, _ = demo
    again = build(None, None)
    assert again.images == result.images
    assert again.files == [] and not (tmp_path / "build").exists()
