"""Validation before writing: each error names manifest, partition and key; no partial output."""

from __future__ import annotations

import pytest

from flashstack.build import ManifestError, build


def _no_output(out, parent):
    assert not out.exists()
    assert not [p for p in parent.iterdir() if p.name.startswith(".out.tmp-")]


def _fails(manifest, tmp_path, *fragments):
    out = tmp_path / "out"
    with pytest.raises(ManifestError) as exc:
        build(manifest, out)
    assert exc.value.errno == 22
    for f in fragments:
        assert f in str(exc.value), (f, str(exc.value))
    _no_output(out, tmp_path)
    return exc.value


def test_unknown_label(project, tmp_path):
    m = project('[partitions.nope]\nfile = "a.bin"\n', {"a.bin": b"x"})
    _fails(m, tmp_path, "manifest.toml: partition nope", "unknown partition label 'nope'",
           "board flashstack-demo", "storage_partition")


def test_content_too_large(project, tmp_path):
    m = project('[partitions.storage_partition]\nfile = "big.bin"\n', {"big.bin": b"\0" * 0x2001})
    _fails(m, tmp_path, "partition storage_partition, key 'file'", "past the partition size 0x2000",
           "1 bytes too large")


def test_file_at_offset_too_large(project, tmp_path):
    m = project('[partitions.storage_partition]\nfile = "b.bin"\noffset = 0x1ff0\n', {"b.bin": b"\0" * 17})
    _fails(m, tmp_path, "ends at 0x2001")


def test_missing_file(project, tmp_path):
    m = project('[partitions.boot_partition]\nfile = "mcuboot.bin"\n')
    _fails(m, tmp_path, "partition boot_partition, key 'file'", "mcuboot.bin", "not found")


def test_kv_over_capacity(project, tmp_path):
    items = "\n".join(f'"key{i:03d}" = {{ hex = "{"00" * 500}" }}' for i in range(9))
    m = project(f'[partitions.storage_partition]\ntype = "alios-kv"\n[partitions.storage_partition.items]\n{items}\n')
    _fails(m, tmp_path, "partition storage_partition (alios-kv)", "items.key007: key 'key007'",
           "no space left in the KV store after 7 of 9 items")


def test_kv_fragmentation_no_space_found_before_writing(project, tmp_path):
    """Within the byte budget but records do not pack into the blocks: the store's ENOSPC."""
    # 3 blocks of 4096: 15 records of 512 bytes pass the byte budget (2 x 4092) but only 7 fit a block
    items = "\n".join(f'"k{i:x}" = {{ hex = "{"11" * 500}" }}' for i in range(15))
    m = project('[partitions.kf_partition]\ntype = "alios-kv"\ntotal_size = 12288\n'
                f'[partitions.kf_partition.items]\n{items}\n')
    _fails(m, tmp_path, "partition kf_partition (alios-kv): cannot build the store (15 items)",
           "no space left in the KV store after 14 of 15 items")


def test_kv_block_size_below_erase_page(project, tmp_path):
    m = project('[partitions.storage_partition]\ntype = "alios-kv"\nblock_size = 2048\n'
                '[partitions.storage_partition.items]\na = "b"\n')
    err = _fails(m, tmp_path, "partition storage_partition (alios-kv)", "not an erase-page boundary")
    assert str(err).count("[EINVAL]") == 1


def test_kv_item_limits_all_listed(project, tmp_path):
    long_key = "k" * 129
    m = project('[partitions.storage_partition]\ntype = "alios-kv"\n'
                f'[partitions.storage_partition.items]\n"{long_key}" = "v"\n"big" = {{ hex = "{"00" * 513}" }}\n'
                '"empty" = ""\n')
    _fails(m, tmp_path, "3 bad row(s)", f"items.{long_key}: key", "max_key_len is 128",
           "items.big: key 'big': value is 513 bytes; 1..512 allowed", "items.empty: key 'empty': value is 0 bytes")


def test_kv_needs_write_block_1(project, tmp_path):
    m = project('board = "nrf52840dk_nrf52840"\n[partitions.storage_partition]\ntype = "alios-kv"\n'
                '[partitions.storage_partition.items]\na = "b"\n')
    _fails(m, tmp_path, "partition storage_partition (alios-kv)", "write block size 4")


def test_several_problems_reported_at_once(project, tmp_path):
    m = project('[partitions.nope]\nfile = "a.bin"\n[partitions.boot_partition]\nfile = "missing.bin"\n'
                '[partitions.slot0_partition]\ntype = "squashfs"\n[partitions.slot1_partition]\nfiel = "x"\n')
    err = _fails(m, tmp_path, "unknown partition label 'nope'", "missing.bin", "unknown type 'squashfs'",
                 "unknown key(s) 'fiel'")
    assert len(err.problems) == 4


def test_same_partition_twice(project, tmp_path):
    m = project('[partitions.storage_partition]\ntype = "erased"\n[partitions.storage]\ntype = "erased"\n')
    _fails(m, tmp_path, "partition storage", "names the same partition as 'storage_partition'")


def test_littlefs_does_not_fit(project, tmp_path):
    m = project('[partitions.storage_partition]\ntype = "littlefs"\ndir = "fs"\n', {"fs/big.bin": b"\1" * 20000})
    _fails(m, tmp_path, "partition storage_partition, key 'dir' (littlefs)", "does not fit a littlefs of 0x2000 bytes")


def test_littlefs_needs_uniform_pages(project, tmp_path):
    board = ('name = "mixed"\n[[devices]]\nname = "flash0"\nsize = 0x30000\n'
             'layout = [[4, 0x4000], [1, 0x10000], [1, 0x10000]]\n'
             '[[partitions]]\nname = "data"\noffset = 0x0\nsize = 0x20000\n')
    m = project('board = "mixed.toml"\n[partitions.data]\ntype = "littlefs"\ndir = "fs"\n',
                {"mixed.toml": board, "fs/a.txt": "a"})
    _fails(m, tmp_path, "littlefs needs uniform erase pages", "16384, 65536")


def test_llkernel_features_need_ram_base(project, tmp_path):
    m = project('[partitions.kf_partition]\ntype = "llkernel"\n'
                '[[partitions.kf_partition.features]]\nfile = "f.bin"\nram_size = 64\n', {"f.bin": b"\1" * 100})
    _fails(m, tmp_path, "partition kf_partition, key 'ram_base'", "needs ram_base")


def test_hex_needs_device_addresses(project, tmp_path, examples_dir):
    dts = (examples_dir / "nrf52840dk_qspi_littlefs" / "nrf52840dk_nrf52840_littlefs_qspi.dts").read_text()
    m = project('board = "b.dts"\n[output]\nformats = ["hex"]\n', {"b.dts": dts})
    _fails(m, tmp_path, "Intel HEX output needs an absolute address for device mx25r64",
           "[devices.mx25r64] base_address")


def test_failed_build_keeps_previous_output(project, tmp_path):
    good = project('[partitions.storage_partition]\ntype = "alios-kv"\n[partitions.storage_partition.items]\na = "1"\n')
    out = tmp_path / "out"
    build(good, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = project('[partitions.storage_partition]\ntype = "alios-kv"\n[partitions.storage_partition.items]\n"" = "1"\n')
    with pytest.raises(ManifestError, match="empty key"):
        build(bad, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]


def test_overlapping_partitions_both_named(project, tmp_path):
    board = ('name = "nested"\n[[devices]]\nname = "flash0"\nsize = 0x20000\nerase_page_size = 0x1000\n'
             '[[partitions]]\nname = "whole"\noffset = 0x0\nsize = 0x10000\n'
             '[[partitions]]\nname = "inner"\noffset = 0x4000\nsize = 0x4000\n')
    m = project('board = "nested.toml"\n[partitions.whole]\ntype = "erased"\n[partitions.inner]\nfile = "a.bin"\n',
                {"nested.toml": board, "a.bin": b"a"})
    with pytest.warns(UserWarning):
        _fails(m, tmp_path, "partition inner: overlaps partition whole (flash0 0x0+0x10000)")


def test_llkernel_ram_exhausted_before_writing(project, tmp_path):
    m = project('[partitions.kf_partition]\ntype = "llkernel"\nram_base = 0x20000000\nram_size = 4096\n'
                '[[partitions.kf_partition.features]]\nfile = "a.fo"\nram_size = 3000\n'
                '[[partitions.kf_partition.features]]\nfile = "a.fo"\nram_size = 3000\n', {"a.fo": b"\1" * 64})
    _fails(m, tmp_path, "partition kf_partition, key 'features[1]' (llkernel): cannot install")


def test_partition_by_id_string_and_shared_label(project, tmp_path):
    """A manifest names a partition by node label, label property or id ("1"); a label
    property shared by two partitions is refused with the board's own message."""
    board = ('name = "twin"\n[[devices]]\nname = "nor0"\nsize = 0x4000\nerase_page_size = 0x1000\n'
             '[[partitions]]\nname = "a_partition"\nlabel = "data"\noffset = 0x0\nsize = 0x2000\n'
             '[[partitions]]\nname = "b_partition"\nlabel = "data"\noffset = 0x2000\nsize = 0x2000\n')
    m = project('board = "twin.toml"\n[partitions.1]\nfile = "x.bin"\n', {"twin.toml": board, "x.bin": b"\x01"})
    record = build(m, None).record
    assert [(p["label"], p["content"]["type"]) for p in record["partitions"]] == [
        ("a_partition", "erased"), ("b_partition", "file")]
    m = project('board = "twin.toml"\n[partitions.data]\nfile = "x.bin"\n', {"twin.toml": board, "x.bin": b"\x01"})
    _fails(m, tmp_path, "manifest.toml: partition data", "label 'data' names 2 partitions")
