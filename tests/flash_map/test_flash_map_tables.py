"""The shared board tables (boards/*.json) reproduced from every input form (spec §8, §9, §10 IDs):
flattened DTS, raw DTS through cpp and through pcpp, DTB compiled by ``dtc -@``."""

from __future__ import annotations

import shutil
import subprocess

import fm_data
import pytest
from fm_data import BOARDS, DATA, RAW, SETTINGS, expected, load_quiet, raw_args

KEYS = ["id", "node", "node_label", "node_labels", "label_property", "offset", "size",
        "read_only", "device_node", "memory_node"]


def table_of(info) -> list[dict]:
    return [{k: p.to_json()[k] for k in KEYS} for p in info.numbered()]


def check_all(info, board: str, *, labels: bool = True) -> None:
    exp = expected(board)
    got = table_of(info)
    if not labels:  # a DTB without __symbols__ has no node labels (FM-30)
        exp_parts = [dict(p, node_label=None, node_labels=[]) for p in exp["partitions"]]
    else:
        exp_parts = exp["partitions"]
    assert got == exp_parts
    assert info.flash_devices == exp["flash_devices"]
    assert info.chosen == exp["chosen"]
    assert info.node_status == exp["node_status"]


@pytest.mark.parametrize("board", BOARDS)
def test_flattened_dts_matches_table(board):
    info = load_quiet(DATA / f"{board}.dts", device_settings=SETTINGS.get(board))
    check_all(info, board)


@pytest.mark.parametrize("board", BOARDS)
def test_dtb_compiled_with_symbols_matches_table(board):
    info = load_quiet(DATA / "dtb" / f"{board}.dtb", device_settings=SETTINGS.get(board))
    assert info.tree.kind == "dtb"
    check_all(info, board)


def test_dtb_without_symbols_has_no_labels_but_same_ids():
    info = load_quiet(DATA / "dtb" / "qemu_x86.nosymbols.dtb")
    check_all(info, "qemu_x86", labels=False)


@pytest.mark.parametrize("tool", ["cpp", "pcpp"])
@pytest.mark.parametrize("board", sorted(RAW))
def test_raw_tree_through_preprocessor_matches_table(board, tool):
    if tool == "cpp" and shutil.which("cpp") is None:
        pytest.skip("system cpp not installed (pcpp variant covers the raw tree)")
    path, dirs = raw_args(board)
    info = load_quiet(path, dirs, preprocess_tool=tool)
    check_all(info, board)


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc not installed; precompiled DTBs cover it")
@pytest.mark.parametrize("board", BOARDS)
def test_dtb_compiled_now_with_dtc(board, tmp_path):
    out = tmp_path / f"{board}.dtb"
    subprocess.run(["dtc", "-@", "-q", "-I", "dts", "-O", "dtb", "-o", str(out),
                    str(DATA / f"{board}.dts")], check=True)
    check_all(load_quiet(out, device_settings=SETTINGS.get(board)), board)


def test_qemu_ids_not_in_file_order():
    """§8.2: /eeprom1's phandle to eepromemu_partition numbers it first."""
    info = load_quiet(DATA / "qemu_x86.dts")
    ids = {p.node_label: p.id for p in info.partitions}
    assert ids == {"eepromemu_partition": 0, "storage_partition": 1, "slot0_partition": 2,
                   "slot1_partition": 3}
    # map order (FM-25) stays file order
    assert [p.node_label for p in info.partitions] == [
        "storage_partition", "slot0_partition", "slot1_partition", "eepromemu_partition"]


@pytest.mark.parametrize("board", BOARDS)
def test_board_geometry_from_devicetree(board):
    info = load_quiet(DATA / f"{board}.dts", device_settings=SETTINGS.get(board))
    (fd,) = expected(board)["flash_devices"]
    (dev,) = info.devices
    assert dev.size == fd["reg"][1]
    assert dev.write_block_size == fd["write_block_size"]
    if fd["erase_block_size"]:
        assert dev.layout == ((fd["reg"][1] // fd["erase_block_size"], fd["erase_block_size"]),)
    else:  # STM32F429xI: 2 banks of 4x16 + 1x64 + 7x128 KiB (chip table)
        assert dev.layout == ((4, 16384), (1, 65536), (7, 131072)) * 2
    for p in info.partitions:
        assert p.address == fd["reg"][0] + p.offset  # FM-23


@pytest.mark.parametrize("name", fm_data.EXTRA)
def test_extra_trees_same_from_dts_and_dtb(name):
    """Every partition key (labels in source order included) agrees between DTS and DTB."""
    a = load_quiet(DATA / "extra" / f"{name}.dts")
    b = load_quiet(DATA / "dtb" / f"{name}.dtb")
    assert [p.to_json() for p in a.numbered()] == [p.to_json() for p in b.numbered()]
    assert a.devices == b.devices and a.chosen == b.chosen
