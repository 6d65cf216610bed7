"""build → inspect round trip on the built-in board and on real boards (examples/)."""

from __future__ import annotations

import pytest

from flashstack.build import build
from flashstack.inspect import inspect_images

EXPECTED_KINDS = {
    "flashstack-demo": {"boot_partition": "unknown", "storage_partition": "alios-kv",
                        "slot0_partition": "mcuboot", "slot1_partition": "erased",
                        "scratch_partition": "erased", "kf_partition": "llkernel", "lfs_partition": "littlefs"},
    "nrf52840dk_nrf52840": {"boot_partition": "unknown", "slot0_partition": "mcuboot",
                            "slot1_partition": "erased", "storage_partition": "zephyr-nvs"},
    "nucleo_f429zi": {"boot_partition": "unknown", "slot0_partition": "mcuboot",
                      "slot1_partition": "mcuboot", "scratch_partition": "erased"},
    "nrf52840dk_qspi_littlefs": {"boot_partition": "unknown", "slot0_partition": "mcuboot",
                                 "slot1_partition": "erased", "lfs1_part": "littlefs"},
    "rpi_pico_littlefs": {"second_stage_bootloader": "unknown", "code_partition": "unknown",
                          "storage_partition": "alios-kv"},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, request):
    from pathlib import Path
    examples = Path(__file__).resolve().parents[2] / "examples"
    cache = {}

    def get(name):
        if name not in cache:
            out = tmp_path_factory.mktemp(name) / "out"
            cache[name] = (build(examples / name / "manifest.toml", out), out)
        return cache[name]
    return get


def _by_name(report):
    return {p["partition"]: p for p in report["partitions"]}


@pytest.mark.parametrize("example", sorted(EXPECTED_KINDS))
def test_round_trip(built, example):
    result, out = built(example)
    report = inspect_images([out])
    parts = _by_name(report)
    assert {n: p["kind"] for n, p in parts.items()} == EXPECTED_KINDS[example]
    assert all(p["matches_build"] for p in parts.values())
    assert all(p["health"] == "ok" for p in parts.values()), [p["problems"] for p in parts.values()]
    recorded = {p["label"]: p["sha256"] for p in result.record["partitions"]}
    assert {n: p["sha256"] for n, p in parts.items()} == recorded


@pytest.mark.parametrize("example", sorted(EXPECTED_KINDS))
def test_hex_round_trip(built, example):
    """The Intel HEX output (absolute addresses) inspects to the same partitions."""
    result, out = built(example)
    from_hex = _by_name(inspect_images([out / "image.hex"]))
    from_bin = _by_name(inspect_images([out]))
    assert {n: p["sha256"] for n, p in from_hex.items()} == {n: p["sha256"] for n, p in from_bin.items()}


def test_demo_details(built):
    _, out = built("flashstack-demo")
    kv = _by_name(inspect_images([out], partition="storage_partition", details=True))["storage_partition"]
    assert kv["kv"]["items"]["wifi.ssid"] == b"flashstack".hex()
    assert kv["kv"]["health"]["verdict"] == "ok" and kv["kv"]["scan"]["live_keys"] == 6
    kf = _by_name(inspect_images([out], partition="kf_partition"))["kf_partition"]
    assert kf["llkernel"]["config"]["max_features"] == 16 and kf["llkernel"]["features"] == []
    lfs = _by_name(inspect_images([out], partition="lfs_partition", details=True))["lfs_partition"]
    assert sorted(f["path"] for f in lfs["littlefs"]["file_list"]) == [
        "/README.txt", "/config/calibration.txt", "/config/device.json"]


def test_nrf52840_settings_on_nvs(built):
    _, out = built("nrf52840dk_nrf52840")
    nvs = _by_name(inspect_images([out], details=True))["storage_partition"]["nvs"]
    assert nvs["config"] == {"sector_size": 4096, "sector_count": 8, "data_crc": False}
    assert nvs["settings"] == {"bt/name": b"flashstack-nrf".hex(), "app/mode": "01",
                               "app/calib": "0a0b0c0d", "hw/serial": b"NRF-000042".hex()}
    assert nvs["verdict"] == "healthy"


def test_nucleo_slots_and_sector_layout(built):
    result, out = built("nucleo_f429zi")
    parts = _by_name(inspect_images([out]))
    assert parts["slot0_partition"]["mcuboot"]["version"] == "1.2.3+0"
    assert parts["slot1_partition"]["mcuboot"]["version"] == "1.3.0+0"
    assert parts["slot1_partition"]["mcuboot"]["hash_ok"] is True
    # the boot file spans both 16 KiB sectors of the read-only boot partition
    boot = result.images["flash0"][:0x8000]
    assert boot[0x4000:0x4e20] != b"\xff" * 0xe20 and boot[20000:] == b"\xff" * (0x8000 - 20000)
    assert parts["boot_partition"]["read_only"] is True
    rec = {d["name"]: d for d in result.record["devices"]}
    assert rec["flash0"]["layout"][:3] == [[4, 16384], [1, 65536], [7, 131072]]
    assert rec["flash0"]["base_address"] == 0x08000000


def test_qspi_littlefs_and_pico_kv(built):
    _, out = built("nrf52840dk_qspi_littlefs")
    lfs = _by_name(inspect_images([out], partition="lfs1_part", details=True))["lfs1_part"]
    assert lfs["device"] == "mx25r64"
    assert sorted(f["path"] for f in lfs["littlefs"]["file_list"]) == ["/config.json", "/logs/boot.log"]
    _, out = built("rpi_pico_littlefs")
    kv = _by_name(inspect_images([out]))["storage_partition"]["kv"]
    assert kv["items"] == {"device.serial": b"PICO-0001".hex(), "net.hostname": b"pico-flashstack".hex(),
                           "led.brightness": "50", "cal.adc": "ff0f0000"}
    assert kv["config"]["block_size"] == 4096 and kv["config"]["total_size"] == 16384


def test_changed_partition_is_flagged(built, tmp_path):
    import shutil
    _, out = built("flashstack-demo")
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with open(copy / "flash0.bin", "r+b") as f:
        f.seek(0x1e000 + 4 + 8)     # first KV record's key bytes
        f.write(b"X")
    parts = _by_name(inspect_images([copy]))
    assert parts["storage_partition"]["matches_build"] is False
    assert parts["slot0_partition"]["matches_build"] is True
    assert parts["storage_partition"]["kv"]["health"]["crc_failures"] == 1
    assert parts["storage_partition"]["health"] == "warning"


def test_inspect_with_explicit_board_without_record(built, tmp_path):
    _, out = built("nucleo_f429zi")
    img = tmp_path / "dump.bin"
    img.write_bytes((out / "flash0.bin").read_bytes())
    report = inspect_images([img], board="nucleo_f429zi")
    assert report["record"] is False
    assert _by_name(report)["slot1_partition"]["kind"] == "mcuboot"
    assert "matches_build" not in _by_name(report)["slot1_partition"]


def test_raw_devicetree_with_include_dirs(tmp_path):
    """A manifest naming a raw (unpreprocessed) DTS with include dirs (the Zephyr tree in
    tests/data/boards/raw/native_sim); inspect reloads the board from the record, include dirs
    included."""
    from pathlib import Path
    manifest = Path(__file__).resolve().parents[1] / "data" / "build" / "native_sim_raw.toml"
    result = build(manifest, tmp_path / "out")
    assert result.record["board"] == "native_sim"
    assert len(result.record["include_dirs"]) == 6
    parts = _by_name(inspect_images([tmp_path / "out"]))
    assert list(parts) == ["boot_partition", "slot0_partition", "slot1_partition", "scratch_partition",
                           "storage_partition"]
    assert parts["storage_partition"]["nvs"]["items"] == {"1": b"raw devicetree".hex()}


def test_every_example_is_covered(examples_dir):
    assert sorted(p.name for p in examples_dir.iterdir() if (p / "manifest.toml").is_file()) == sorted(EXPECTED_KINDS)


def test_demo_example_equals_the_built_in_demo(built):
    """examples/flashstack-demo is a copy of the package's demo manifest and inputs
    (examples/README.md says they build the same image): the two must not drift apart."""
    result, _ = built("flashstack-demo")
    assert result.images == build(None, None).images
