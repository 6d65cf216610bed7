"""Zephyr 4.4 ``zephyr,mapped-partition`` (docs/flash-map-mapped.md MP-1..MP-7): the converted
boards of tests/data/boards/mapped match their flash maps exactly, from the flattened DTS, from
a DTB compiled by dtc and through ``board show --json``; raw DTS with includes; the binding
example (nested, disabled, partitions straight under the memory node, two memories)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from fm_data import DATA, load_quiet

from flashstack.board import load_board
from flashstack.errors import InvalidArgument

MAPPED = DATA / "mapped"
BOARDS = sorted(p.stem for p in MAPPED.glob("*.json"))
KEYS = ["id", "node", "node_label", "node_labels", "label_property", "offset", "size", "address",
        "read_only", "device_node", "memory_node"]
DEV_KEYS = ["node", "compatible", "reg", "address", "ranges", "erase_block_size", "write_block_size"]


def expected(board: str) -> dict:
    return json.loads((MAPPED / f"{board}.json").read_text())


def check(info, board: str) -> None:
    exp = expected(board)
    got = {p.id: p for p in info.numbered()}
    assert sorted(got) == sorted(p["id"] for p in exp["partitions"])
    for e in exp["partitions"]:
        p = got[e["id"]]
        assert {k: p.to_json()[k] for k in KEYS} == {k: e[k] for k in KEYS}
        assert (p in info.partitions) == e["in_flash_map"]
    assert [{k: d[k] for k in DEV_KEYS} for d in info.flash_devices] == \
        [{k: d[k] for k in DEV_KEYS} for d in exp["flash_devices"]]
    assert info.chosen == exp["chosen"]
    assert info.node_status == exp["node_status"]


def test_there_are_mapped_boards():
    assert len(BOARDS) == 4


@pytest.mark.parametrize("board", BOARDS)
def test_flattened_dts_matches_the_zephyr_map(board):
    check(load_quiet(MAPPED / f"{board}.dts"), board)


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc not installed")
@pytest.mark.parametrize("board", BOARDS)
def test_dtb_compiled_by_dtc_matches_the_zephyr_map(board, tmp_path):
    out = tmp_path / f"{board}.dtb"
    subprocess.run(["dtc", "-@", "-q", "-I", "dts", "-O", "dtb", "-o", str(out),
                    str(MAPPED / f"{board}.dts")], check=True)
    info = load_quiet(out)
    assert info.tree.kind == "dtb"
    check(info, board)


@pytest.mark.parametrize("board", BOARDS)
def test_board_show_json_matches_the_zephyr_map(board):
    from click.testing import CliRunner

    from flashstack.cli.app import cli

    r = CliRunner().invoke(cli, ["board", "show", str(MAPPED / f"{board}.dts"), "--json"])
    assert r.exit_code == 0, r.output
    got = {p["id"]: p for p in json.loads(r.stdout)["partitions"]}
    for e in expected(board)["partitions"]:
        assert {k: got[e["id"]][k] for k in ("id", "node_label", "offset", "size", "read_only",
                                             "address", "device_node")} == \
            {k: e[k] for k in ("id", "node_label", "offset", "size", "read_only", "address",
                               "device_node")}


def test_rp2350_non_zero_base_offsets_and_addresses():
    # the RP2350 boot block (image_def, 256 bytes) is not erase-page aligned: said, not refused
    with pytest.warns(UserWarning, match="not aligned to the erase pages") as seen:
        b = load_board(MAPPED / "adafruit_metro_rp2350_rp2350b_m33_0.dts")
    named = [str(w.message) for w in seen]
    assert len(named) == 2 and "partition image_def " in named[0] and "partition code_partition " in named[1]
    (dev,) = b.devices
    assert dev.base_address == 0x10000000 and dev.size == 16 << 20
    code = b.partition("code_partition")
    assert (code.offset, code.address, code.size) == (0x100, 0x10000100, (16 << 20) - 0x100)
    with b.open() as ob:  # offsets are device-relative in the live map
        assert ob.area("code_partition").read(0, 4) == b"\xff" * 4


def test_mcuboot_variant_deleted_table_is_gone():
    """`/delete-node/ partitions;` then a new table: the old code_partition must not appear."""
    info = load_quiet(MAPPED / "extra" / "rpi_pico2_rp2350a_m33_0_mcuboot.dts")
    labels = [(p.id, p.node_label, p.offset) for p in info.numbered()]
    assert labels == [(0, "boot_partition", 0x0), (1, "slot0_partition", 0x10000),
                      (2, "slot1_partition", 0xE0000), (3, "storage_partition", 0x1B0000)]
    assert all(p.address == 0x10000000 + p.offset for p in info.partitions)
    assert info.chosen_flash["zephyr,code-partition"].endswith("partition@10000")


def test_binding_example_nested_disabled_and_direct_children():
    info = load_quiet(MAPPED / "extra" / "mapped_partition_binding_example.dts")
    rows = {p.node_label: p for p in info.numbered()}
    # MP-4: unit-address order inside one node, a nested parent before its children
    order = [p.node_label for p in info.numbered()]
    assert order.index("external_partition") < order.index("external_inner_a_partition") \
        < order.index("external_inner_b_partition")
    assert [p.id for p in info.numbered()] == list(range(7))
    assert order[:4] == ["boot_partition", "slot0_partition", "slot1_partition", "storage_partition"]
    # MP-3: nested offsets add up; addresses translate through flash1's ranges
    inner_b = rows["external_inner_b_partition"]
    assert (inner_b.offset, inner_b.address) == (0x6000, 0x10006000)
    # MP-5: the disabled partition has an ID but is not in the map
    assert rows["storage_partition"] in info.disabled
    assert rows["storage_partition"].id == 3
    # two memories under one controller are two devices with the controller as device node
    assert sorted(d.name for d in info.devices) == ["flash0", "flash1"]
    assert {d.node for d in info.devices} == {"/flash-controller@4001e000"}
    # an unknown controller without erase-block-size: shown, layout unknown (BL-3)
    assert not any(d.layout_known for d in info.devices)


def dts(body: str) -> str:
    return f"/dts-v1/;\n/ {{ #address-cells = <1>; #size-cells = <1>;\n{body}\n}};\n"


CTRL = """
    ctrl: flash-controller@4000 {{
        compatible = "nordic,nrf52-flash-controller";
        reg = <0x4000 0x100>;
        ranges;
        #address-cells = <1>; #size-cells = <1>;
        flash0: flash@{base:x} {{
            compatible = "soc-nv-flash";
            reg = <{base:#x} 0x100000>;
            {ranges}
            #address-cells = <1>; #size-cells = <1>;
            erase-block-size = <4096>; write-block-size = <4>;
            {parts}
        }};
    }};
"""


def test_raw_dts_with_include_dirs(tmp_path):
    """A raw board file that includes its partition table (with DT_SIZE_K) from an include dir."""
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "parts.dtsi").write_text("""
&flash0 { partitions { ranges; #address-cells = <1>; #size-cells = <1>;
    boot_partition: partition@0 { compatible = "zephyr,mapped-partition"; reg = <0x0 DT_SIZE_K(48)>; read-only; };
    storage_partition: partition@f8000 { compatible = "zephyr,mapped-partition"; label = "storage";
        reg = <0xf8000 DT_SIZE_K(32)>; };
}; };
""")
    board = tmp_path / "board.dts"
    board.write_text(dts(CTRL.format(base=0x10000000, ranges="ranges = <0x0 0x10000000 0x100000>;",
                                     parts="")) + '#include "parts.dtsi"\n')
    info = load_quiet(board, [inc])
    assert [(p.id, p.node_label, p.offset, p.size, p.address, p.read_only) for p in info.numbered()] == [
        (0, "boot_partition", 0, 0xC000, 0x10000000, True),
        (1, "storage_partition", 0xF8000, 0x8000, 0x100F8000, False)]
    assert info.devices[0].layout == ((256, 4096),) and info.devices[0].base_address == 0x10000000


def test_mixed_tree_shares_one_id_counter(tmp_path):
    """MP-4: fixed partitions on an external NOR and mapped ones on the SoC flash, one counter."""
    nor = """
    spi@1000 { reg = <0x1000 0x100>; #address-cells = <1>; #size-cells = <0>;
        nor0: flash@0 { compatible = "jedec,spi-nor"; reg = <0>; jedec-id = [ef 40 18];
            size = <134217728>;
            partitions { compatible = "fixed-partitions"; #address-cells = <1>; #size-cells = <1>;
                lfs: partition@0 { reg = <0x0 0x100000>; }; }; }; };
"""
    parts = """partitions { ranges; #address-cells = <1>; #size-cells = <1>;
        a: partition@0 { compatible = "zephyr,mapped-partition"; reg = <0x0 0x10000>; };
        b: partition@10000 { compatible = "zephyr,mapped-partition"; reg = <0x10000 0x10000>; }; };"""
    path = tmp_path / "mixed.dts"
    path.write_text(dts(CTRL.format(base=0, ranges="ranges = <0x0 0x0 0x100000>;", parts=parts) + nor))
    info = load_quiet(path)
    ids = {p.node_label: p.id for p in info.numbered()}
    assert sorted(ids.values()) == [0, 1, 2]
    assert ids["a"] < ids["b"]
    assert {p.device for p in info.partitions} == {"flash0", "nor0"}


def test_missing_ranges_gives_a_negative_offset_error(tmp_path):
    """Edge case: a memory at 0x8000000 without `ranges` (translation stops there): the
    partition's address would lie below the memory's, an error naming file and node."""
    parts = """partitions { ranges; #address-cells = <1>; #size-cells = <1>;
        a: partition@0 { compatible = "zephyr,mapped-partition"; reg = <0x0 0x10000>; }; };"""
    path = tmp_path / "noranges.dts"
    path.write_text(dts(CTRL.format(base=0x8000000, ranges="", parts=parts)))
    with pytest.raises(InvalidArgument) as e:
        load_quiet(path)
    assert "noranges.dts" in str(e.value) and "partition@0" in str(e.value)


def test_memory_not_soc_nv_flash_is_reported_not_guessed(tmp_path):
    path = tmp_path / "nor.dts"
    path.write_text(dts("""
    spi@1000 { reg = <0x1000 0x100>; #address-cells = <1>; #size-cells = <0>;
        nor0: flash@0 { compatible = "jedec,spi-nor"; reg = <0>; size = <8388608>;
            #address-cells = <1>; #size-cells = <1>;
            partitions { ranges; #address-cells = <1>; #size-cells = <1>;
                x: partition@0 { compatible = "zephyr,mapped-partition"; reg = <0x0 0x1000>; }; }; }; };
"""))
    with pytest.warns(UserWarning, match="not soc-nv-flash"):
        from flashstack.board.devicetree import load_devicetree
        info = load_devicetree(path)
    assert info.partitions == [] and [p.node_label for p in info.disabled] == ["x"]
    assert info.disabled[0].id == 0
