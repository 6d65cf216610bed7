"""``flashstack board show`` / ``board list``."""

import json
import shutil
from pathlib import Path

import pytest

from flashstack.board import load_board

BOARDS = Path(__file__).parents[1] / "data" / "boards"  # Zephyr board set (tests/data)

DEMO = [  # (id, node label, device, offset, size, read-only) -- the contract's default board
    (0, "boot_partition", "flash0", 0x0, 0x10000, True),
    (1, "storage_partition", "flash0", 0x1E000, 0x2000, False),
    (2, "slot0_partition", "flash0", 0x20000, 0x60000, False),
    (3, "slot1_partition", "flash0", 0x80000, 0x60000, False),
    (4, "scratch_partition", "flash0", 0xE0000, 0x20000, False),
    (5, "kf_partition", "qspi0", 0x0, 0x400000, False),
    (6, "lfs_partition", "qspi0", 0x400000, 0xC00000, False),
]


def test_show_json_is_the_board_data(run):
    out = run.json("board", "show")
    assert out == json.loads(json.dumps(load_board("flashstack-demo").to_json()))
    assert out == run.json("board", "show", "flashstack-demo")
    assert out == run.json("board", "show", "--board", "flashstack-demo")


def test_show_json_partitions_of_the_default_board(run):
    out = run.json("board", "show")
    rows = [(p["id"], p["node_label"], p["offset"], p["size"], p["read_only"])
            for p in out["partitions"]]
    assert rows == [(i, n, o, s, ro) for i, n, _, o, s, ro in DEMO]


def test_show_table_has_every_partition_with_geometry(run):
    out = run("board", "show").stdout
    for _pid, name, dev, off, size, ro in DEMO:
        line = next(l for l in out.splitlines() if f" {name} " in l)
        assert dev in line and f"{off:#x}" in line and f"{off + size:#x}" in line, line
        assert (" ro " in line) == ro, line
    boot = next(l for l in out.splitlines() if " boot_partition " in l)
    assert "4 KiB" in boot                      # erase page of flash0
    assert "qspi0" in out and "0x90000000" in out  # external flash, memory-mapped
    # the unpartitioned gap between boot and storage is shown, in flash order
    lines = out.splitlines()
    free = [l for l in lines if "(free)" in l]
    assert len(free) == 1 and "0x10000" in free[0] and "0xe000 (56 KiB)" in free[0] and "0x1e000" in free[0]
    assert lines.index(free[0]) == lines.index(boot) + 1


def test_show_table_lists_disabled_partitions_after_the_map(run):
    out = run("board", "show", BOARDS / "extra" / "native_sim_flash_map_test.dts").stdout
    lines = out.splitlines()
    storage = next(i for i, l in enumerate(lines) if " storage_partition " in l)
    disabled = [i for i, l in enumerate(lines) if "(disabled)" in l]
    assert len(disabled) == 6 and min(disabled) > storage
    assert "disabled_a " in lines[disabled[0]] and "/disabled_flash@0" in lines[disabled[0]]


ZEPHYR_BOARDS = ["nrf52840dk_nrf52840", "native_sim", "qemu_x86", "nucleo_f429zi", "rpi_pico"]


def _check_against_zephyr_table(run, spec, name):
    expected = json.loads((BOARDS / f"{name}.json").read_text())["partitions"]
    got = run.json("board", "show", spec)["partitions"]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert {k: g[k] for k in e} == e
    table = run("board", "show", spec).stdout
    for e in expected:
        assert e["node_label"] in table and (e["label_property"] or "") in table


@pytest.mark.parametrize("name", ZEPHYR_BOARDS)
def test_show_builtin_real_board_matches_the_zephyr_table(run, name):
    """Ids (qemu_x86: not in file order), offsets, sizes, labels and devicetree nodes exactly
    as in the Zephyr-derived table, compared key by key on the --json output."""
    _check_against_zephyr_table(run, name, name)


@pytest.mark.parametrize("name", ZEPHYR_BOARDS)
def test_show_dts_path_matches_the_zephyr_table(run, tmp_path, name):
    dts = tmp_path / f"{name}.dts"
    shutil.copy(BOARDS / f"{name}.dts", dts)
    _check_against_zephyr_table(run, dts, name)


@pytest.mark.parametrize("name", ["qemu_x86", "native_sim"])
def test_show_dtb_path_matches_the_zephyr_table(run, name):
    _check_against_zephyr_table(run, BOARDS / "dtb" / f"{name}.dtb", name)


def test_show_stm32f4_dts_without_toml_shows_its_sectors(run, tmp_path):
    """BL-2: the STM32F4 flash node has no erase-block-size; the SoC table (Zephyr's
    flash_stm32f4x.c layout) gives the 16/64/128 KiB sectors of both banks, no TOML needed."""
    dts = tmp_path / "nucleo_f429zi.dts"
    shutil.copy(BOARDS / "nucleo_f429zi.dts", dts)
    (dev,) = run.json("board", "show", dts)["devices"]
    assert dev["layout"] == [[4, 16384], [1, 65536], [7, 131072]] * 2
    assert "STM32F4" in dev["layout_source"] and "flash_stm32f4x.c" in dev["layout_source"]
    out = run("board", "show", dts).stdout
    assert "4 x 16 KiB" in out and "flash_stm32f4x.c" in out
    _check_against_zephyr_table(run, dts, "nucleo_f429zi")


def test_show_layout_override_and_unknown_layout(run, tmp_path):
    """An unknown controller shows its partitions with the erase layout unknown (BL-3);
    --layout fills it in (BL-4); a layout that does not cover the device is one error line."""
    dts = tmp_path / "odd.dts"
    dts.write_text("""/dts-v1/;
/ { #address-cells = <1>; #size-cells = <1>;
    ctrl: flash-controller@4000 { compatible = "vnd,unknown-flash"; reg = <0x4000 0x100>;
        #address-cells = <1>; #size-cells = <1>;
        flash0: flash@0 { compatible = "soc-nv-flash"; reg = <0x0 0x100000>;
            partitions { compatible = "fixed-partitions"; #address-cells = <1>; #size-cells = <1>;
                boot: partition@0 { reg = <0x0 0x10000>; };
                app: partition@10000 { reg = <0x10000 0xf0000>; }; }; }; }; };
""")
    data = run.json("board", "show", dts)
    assert data["devices"][0]["layout_known"] is False
    assert [p["node_label"] for p in data["partitions"]] == ["boot", "app"]
    assert "erase layout unknown" in run("board", "show", dts).stdout
    data = run.json("board", "show", dts, "--layout", "flash0=16x64K")
    assert data["devices"][0]["layout"] == [[16, 65536]] and data["devices"][0]["layout_known"]
    assert data["devices"][0]["layout_source"] == "--layout flash0=16x64K"
    line = run.error("board", "show", dts, "--layout", "4x16K")
    assert "0x10000" in line and "flash0" in line
    line = run.error("board", "show", dts, "--layout", "4y16K")
    assert "4y16K" in line


def test_show_raw_dts_with_include_dirs(run):
    raw = BOARDS / "raw" / "qemu_x86"
    args = ["board", "show", raw / "boards/qemu/x86/qemu_x86.dts"]
    for d in ("dts/common", "dts/x86", "dts", "include", "include/zephyr", "boards/qemu/x86"):
        args += ["-I", raw / d]
    expected = json.loads((BOARDS / "qemu_x86.json").read_text())["partitions"]
    got = run.json(*args)["partitions"]
    assert [(g["id"], g["node_label"], g["offset"], g["size"]) for g in got] == [
        (e["id"], e["node_label"], e["offset"], e["size"]) for e in expected]
    # without the include directories the preprocessor cannot find the headers: one line
    line = run.error("board", "show", raw / "boards/qemu/x86/qemu_x86.dts")
    assert "qemu_x86.dts" in line


def test_show_unknown_board_is_one_error_line(run, tmp_path):
    line = run.error("board", "show", "no_such_board")
    assert "no_such_board" in line
    line = run.error("board", "show", tmp_path / "missing.dts")
    assert "missing.dts" in line


def test_show_malformed_dts_names_the_file(run, tmp_path):
    bad = tmp_path / "bad.dts"
    bad.write_text("/dts-v1/;\n/ {\n  flash@0 { reg = <0 ;\n};\n")
    line = run.error("board", "show", bad)
    assert "bad.dts" in line


def test_list_names_the_builtin_boards(run):
    rows = run.json("board", "list")
    names = [r["name"] for r in rows]
    assert names[0] == "flashstack-demo" and rows[0]["default"] is True
    for real in ("nrf52840dk_nrf52840", "nucleo_f429zi", "native_sim", "qemu_x86", "rpi_pico"):
        assert real in names
    demo = rows[0]
    assert [d["name"] for d in demo["devices"]] == ["flash0", "qspi0"]
    assert [d["size"] for d in demo["devices"]] == [1 << 20, 16 << 20]
    assert demo["partitions"] == 7
    assert all("error" not in r for r in rows), rows
    table = run("board", "list").stdout
    assert "flashstack-demo (default)" in table


def test_unaligned_partitions_are_marked_and_warned_once_per_line(run):
    r = run("board", "show", "rpi_pico")
    rows = [l for l in r.stdout.splitlines() if "second_stage_bootloader" in l]
    assert rows and "4 KiB !" in rows[0]
    assert "! not aligned to erase pages" in r.stdout
    warns = r.stderr.splitlines()
    assert len(warns) == 2 and all(w.startswith("warning: ") for w in warns)
    assert "second_stage_bootloader" in warns[0] and "not aligned" in warns[0]
    # the aligned default board: no marker, no warning
    r = run("board", "show")
    assert r.stderr == "" and "not aligned" not in r.stdout
    # board list stays quiet about alignment
    assert run("board", "list").stderr == ""


def test_two_different_boards_is_a_usage_error(run):
    assert "two boards" in run.error("board", "show", "rpi_pico", "--board", "native_sim", code=2)
