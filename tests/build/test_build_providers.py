"""Partition content providers beyond the demo: KV from CSV/JSON, installed Features, NVS by
id, padding to the write block, littlefs options, absolute offsets in files."""

from __future__ import annotations

import hashlib

import pytest

from flashstack.build import ManifestError, build
from flashstack.inspect import inspect_images


def _parts(out):
    return {p["partition"]: p for p in inspect_images([out], details=True)["partitions"]}


def test_kv_items_from_csv_json_and_inline(project, tmp_path):
    csv = "key,type,encoding,value\nwifi.ssid,data,string,lab\nboot.count,data,u32,0x10\n"
    js = '{"cert.id": {"encoding": "hex2bin", "value": "c0ffee"}}'
    m = project('[partitions.storage_partition]\ntype = "alios-kv"\ncsv = "f.csv"\njson = "f.json"\n'
                '[partitions.storage_partition.items]\n"hw.rev" = { u8 = 2 }\n', {"f.csv": csv, "f.json": js})
    result = build(m, tmp_path / "out")
    kv = _parts(tmp_path / "out")["storage_partition"]["kv"]
    assert list(kv["items"]) == ["wifi.ssid", "boot.count", "cert.id", "hw.rev"]
    assert kv["items"]["boot.count"] == "10000000" and kv["items"]["cert.id"] == "c0ffee"
    assert result.record["partitions"][1]["content"]["keys"] == list(kv["items"])


def test_kv_duplicate_key_between_csv_and_inline(project, tmp_path):
    m = project('[partitions.storage_partition]\ntype = "alios-kv"\ncsv = "f.csv"\n'
                '[partitions.storage_partition.items]\na = "2"\n', {"f.csv": "key,type,encoding,value\na,data,string,1\n"})
    with pytest.raises(ManifestError, match="items.a: key 'a' already given at .*f.csv:2"):
        build(m, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_kv_bad_csv_row_names_the_line(project, tmp_path):
    m = project('[partitions.storage_partition]\ntype = "alios-kv"\ncsv = "f.csv"\n',
                {"f.csv": "key,type,encoding,value\na,data,u8,300\n"})
    with pytest.raises(ManifestError, match=r"key 'csv'.*f.csv:2"):
        build(m, tmp_path / "out")


def test_llkernel_features_installed(project, tmp_path):
    f1, f2 = b"\x11" * 300, bytes(range(256)) * 20
    m = project('[partitions.kf_partition]\ntype = "llkernel"\nmax_features = 8\nram_base = 0x20000000\n'
                '[[partitions.kf_partition.features]]\nfile = "a.fo"\nram_size = 64\n'
                '[[partitions.kf_partition.features]]\nfile = "b.fo"\nram_size = 1000\n',
                {"a.fo": f1, "b.fo": f2})
    result = build(m, tmp_path / "out")
    kf = _parts(tmp_path / "out")["kf_partition"]
    assert kf["kind"] == "llkernel" and kf["health"] == "ok"
    feats = kf["llkernel"]["features"]
    slot = 0x400000 // 8
    assert [(f["slot"], f["handle"], f["rom_size"], f["ram_size"]) for f in feats] == [
        (0, 0x90000000, 300, 64), (1, 0x90000000 + slot, len(f2), 1000)]
    assert feats[0]["ram_address"] == 0x20000000 and feats[1]["ram_address"] >= 0x20000000 + 64
    qspi = result.images["qspi0"]
    assert qspi[32:32 + 300] == f1 and qspi[slot + 32:slot + 32 + len(f2)] == f2
    desc = result.record["partitions"][5]["content"]
    assert desc["features"][1]["sha256"] == hashlib.sha256(f2).hexdigest()


def test_llkernel_feature_too_large_for_slot(project, tmp_path):
    m = project('[partitions.kf_partition]\ntype = "llkernel"\nmax_features = 16\nram_base = 0x20000000\n'
                '[[partitions.kf_partition.features]]\nfile = "a.fo"\n', {"a.fo": b"\0" * (256 * 1024 - 31)})
    with pytest.raises(ManifestError, match=r"key 'features\[0\].file'.*takes at most 262112"):
        build(m, tmp_path / "out")


def test_nvs_by_id(project, tmp_path):
    m = project('[partitions.storage_partition]\ntype = "zephyr-nvs"\ndata_crc = true\n'
                '[partitions.storage_partition.items]\n"1" = "one"\n"0x10" = { u16 = 513 }\n')
    build(m, tmp_path / "out")
    part = _parts(tmp_path / "out")["storage_partition"]
    assert part["kind"] == "zephyr-nvs"
    assert part["nvs"]["items"] == {"1": b"one".hex(), "16": "0102"}
    assert part["nvs"]["config"] == {"sector_size": 4096, "sector_count": 2, "data_crc": True}
    assert part["nvs"]["settings"] is None


@pytest.mark.parametrize("key, msg", [("name", "NVS ids are numbers"), ("0xffff", "0xFFFF is reserved")])
def test_nvs_bad_ids(project, tmp_path, key, msg):
    m = project(f'[partitions.storage_partition]\ntype = "zephyr-nvs"\n[partitions.storage_partition.items]\n"{key}" = "x"\n')
    with pytest.raises(ManifestError, match=msg):
        build(m, tmp_path / "out")


def test_nvs_value_larger_than_a_sector(project, tmp_path):
    m = project('[partitions.storage_partition]\ntype = "zephyr-nvs"\n[partitions.storage_partition.items]\n'
                f'"1" = {{ hex = "{"00" * 5000}" }}\n')
    with pytest.raises(ManifestError, match="partition storage_partition \\(zephyr-nvs\\): cannot build the store"):
        build(m, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_file_padded_to_write_block_and_offset(project, tmp_path):
    m = project('board = "nrf52840dk_nrf52840"\n[partitions.slot1_partition]\nfile = "a.bin"\noffset = 0x100\n',
                {"a.bin": b"\x01\x02\x03\x04\x05"})
    result = build(m, None)
    img = result.images["flash0"]
    assert img[0x82100:0x82108] == b"\x01\x02\x03\x04\x05\xff\xff\xff"
    m = project('board = "nrf52840dk_nrf52840"\n[partitions.slot1_partition]\nfile = "a.bin"\noffset = 2\n')
    with pytest.raises(ManifestError, match="offset 0x2 is not a multiple of the write block size 4"):
        build(m, None)


def test_littlefs_options(project, tmp_path):
    m = project('[partitions.slot1_partition]\ntype = "littlefs"\ndir = "fs"\nblock_size = 8192\nblock_count = 16\n',
                {"fs/a.txt": "hello"})
    result = build(m, tmp_path / "out")
    cfg = result.record["partitions"][3]["content"]["config"]
    assert (cfg["block_size"], cfg["block_count"], cfg["read_size"], cfg["prog_size"]) == (8192, 16, 1, 1)
    lfs = _parts(tmp_path / "out")["slot1_partition"]["littlefs"]
    assert lfs["superblock"]["block_size"] == 8192 and lfs["superblock"]["block_count"] == 16
    assert lfs["file_list"] == [{"path": "/a.txt", "size": 5}]
    m = project('[partitions.slot1_partition]\ntype = "littlefs"\ndir = "fs"\nblock_size = 6144\n')
    with pytest.raises(ManifestError, match="block size 6144 is not a multiple of the erase page 4096"):
        build(m, None)


def test_settings_default_geometry_is_zephyrs(project, tmp_path):
    """settings = true without geometry keys: Zephyr's Settings backend defaults (first sector,
    at most 8 sectors), here 8 of the 32 sectors of a 128 KiB partition."""
    m = project('[partitions.scratch_partition]\ntype = "zephyr-nvs"\nsettings = true\n'
                '[partitions.scratch_partition.items]\n"a/b" = "c"\n')
    result = build(m, None)
    assert result.record["partitions"][4]["content"]["config"]["sector_count"] == 8


def test_read_only_partition_needs_the_privileged_view(project):
    """The build writes a read-only partition only through FlashArea.privileged(): the plain
    area of the same board refuses the write (EACCES)."""
    from flashstack.board import load_board
    from flashstack.build import load_manifest
    from flashstack.build.providers import make_provider
    from flashstack.errors import AccessDenied

    m = load_manifest(project('[partitions.boot_partition]\nfile = "b.bin"\n', {"b.bin": b"\x01" * 16}))
    provider = make_provider(m.partitions[0])
    with load_board("flashstack-demo").open() as ob:
        area = ob.area("boot_partition")
        assert area.read_only
        provider.check(area)
        with pytest.raises(AccessDenied):
            provider.render(area)
        provider.render(area.privileged())
        assert area.read(0, 16) == b"\x01" * 16
