"""Boards (docs/board API): built-in boards, the default flashstack-demo, board TOML files,
to_json against the shared tables, and open() with in-memory and file-backed images."""

from __future__ import annotations

import errno
import json
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "flash_map"))
import fm_data  # noqa: E402

from flashstack.board import (BUILTIN_BOARDS, Board, DeviceSpec, OpenBoard,  # noqa: E402
                              PartitionSpec, load_board)
from flashstack.errors import AccessDenied, InvalidArgument, NotFound, ReadOnlyBacking  # noqa: E402
from flashstack.flash_map import PartitionWarning  # noqa: E402

KEYS = ["id", "node", "node_label", "node_labels", "label_property", "offset", "size",
        "read_only", "device_node", "memory_node"]


def quiet_load(*a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PartitionWarning)
        return load_board(*a, **kw)


# --- built-in boards ---------------------------------------------------------------------------

def test_default_board_is_flashstack_demo():
    b = load_board()
    assert b.name == "flashstack-demo" and load_board(None).name == "flashstack-demo"
    flash0, qspi0 = b.devices
    assert (flash0.name, flash0.size, flash0.layout, flash0.write_block_size, flash0.base_address) == (
        "flash0", 1 << 20, ((256, 4096),), 1, 0)
    assert (qspi0.name, qspi0.size, qspi0.layout, qspi0.chip, qspi0.base_address) == (
        "qspi0", 16 << 20, ((4096, 4096),), "w25q128jv", 0x90000000)
    got = [(p.id, p.node_label, p.device, p.offset, p.size, p.read_only, p.address) for p in b.partitions]
    assert got == [
        (0, "boot_partition", "flash0", 0x0, 0x10000, True, 0x0),
        (1, "storage_partition", "flash0", 0x1E000, 0x2000, False, 0x1E000),
        (2, "slot0_partition", "flash0", 0x20000, 0x60000, False, 0x20000),
        (3, "slot1_partition", "flash0", 0x80000, 0x60000, False, 0x80000),
        (4, "scratch_partition", "flash0", 0xE0000, 0x20000, False, 0xE0000),
        (5, "kf_partition", "qspi0", 0x0, 0x400000, False, 0x90000000),
        (6, "lfs_partition", "qspi0", 0x400000, 0xC00000, False, 0x90400000)]
    assert b.hal_partitions is None


@pytest.mark.parametrize("name", sorted(BUILTIN_BOARDS))
def test_every_builtin_board_loads_and_opens(name):
    b = quiet_load(name)
    assert b.name == name and b.devices and b.partitions
    with b.open() as ob:
        assert isinstance(ob, OpenBoard)
        for p in b.partitions:
            fa = ob.area(p.node_label)
            assert (fa.id, fa.offset, fa.size, fa.device) == (p.id, p.offset, p.size, ob.devices[p.device])


@pytest.mark.parametrize("board", fm_data.BOARDS)
def test_to_json_matches_shared_table(board):
    """board show --json compares mechanically with boards/*.json."""
    j = json.loads(json.dumps(quiet_load(board).to_json()))
    exp = fm_data.expected(board)
    assert [{k: p[k] for k in KEYS} for p in j["partitions"]] == exp["partitions"]
    for key in ("flash_devices", "chosen", "node_status"):
        assert j[key] == exp[key], key
    assert {d["name"] for d in j["devices"]} == {p["device"] for p in j["partitions"]}


def test_builtin_boards_are_independent_copies():
    a = load_board("nrf52840dk_nrf52840")
    a.partitions.clear()
    a.chosen.clear()
    b = load_board("nrf52840dk_nrf52840")
    assert len(b.partitions) == 4 and b.chosen
    for _ in range(2):  # the cached board still reports its warnings on every load
        with pytest.warns(PartitionWarning) as caught:
            load_board("rpi_pico")
        text = " ".join(str(w.message) for w in caught)
        assert "second_stage_bootloader" in text and "code_partition" in text


def test_builtin_real_boards_geometry():
    nucleo = load_board("nucleo_f429zi")
    assert nucleo.devices[0].chip == "stm32f429xi"
    assert nucleo.devices[0].layout == ((4, 16384), (1, 65536), (7, 131072)) * 2
    assert nucleo.devices[0].base_address == 0x08000000
    nrf = load_board("nrf52840dk_nrf52840")
    assert (nrf.devices[0].chip, nrf.devices[0].write_block_size) == ("nrf52840", 4)


def test_board_from_dts_dtb_and_raw_paths():
    b = quiet_load(fm_data.DATA / "qemu_x86.dts")
    assert b.name == "qemu_x86" and b.partition("eepromemu_partition").id == 0
    d = quiet_load(fm_data.DATA / "dtb" / "qemu_x86.dtb")
    assert [p.to_json() for p in d.partitions] == [p.to_json() for p in b.partitions]
    path, dirs = fm_data.raw_args("native_sim")
    r = quiet_load(path, include_dirs=dirs)
    assert [p.node_label for p in r.partitions][-1] == "storage_partition"


def test_unknown_board():
    with pytest.raises(NotFound) as e:
        load_board("no-such-board")
    assert e.value.errno == errno.ENOENT and "flashstack-demo" in str(e.value)


# --- board TOML ---------------------------------------------------------------------------------

TOML = """
name = "t"
description = "test board"

[[devices]]
name = "int"
size = 0x40000
erase_page_size = 0x1000
write_block_size = 4
base_address = 0x8000000

[[devices]]
name = "ext"
chip = "mx25r6435f"

[[partitions]]
name = "boot"
label = "mcuboot"
offset = 0x0
size = 0x8000
read_only = true

[[partitions]]
node_labels = ["data", "storage_partition"]
device = "ext"
offset = 0x10000
size = 0x20000
id = 7

[hal]
generation = "v3"
[hal.partitions]
PARAMETER_2 = "storage_partition"
"""


def test_board_toml(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text(TOML)
    b = load_board(p)
    assert b.name == "t" and b.description == "test board" and b.source == str(p)
    assert b.device("ext").size == 8 << 20 and b.device("ext").chip == "mx25r6435f"
    boot, data = b.partitions
    assert (boot.id, boot.label, boot.node_labels, boot.address, boot.read_only) == (
        0, "mcuboot", ("boot",), 0x8000000, True)
    assert (data.id, data.device, data.node_labels, data.address) == (
        7, "ext", ("data", "storage_partition"), None)
    assert b.extra == {"hal": {"generation": "v3", "partitions": {"PARAMETER_2": "storage_partition"}}}
    assert b.partition("storage_partition") is data and b.partition(7) is data
    assert b.partition("mcuboot") is boot
    j = b.to_json()
    assert j["flash_devices"][0] == {"node": None, "compatible": [], "reg": [0x8000000, 0x40000],
                                     "erase_block_size": 0x1000, "write_block_size": 4}
    with b.open() as ob:
        with pytest.raises(AccessDenied):
            ob.area("boot").erase(0, 0x1000)


@pytest.mark.parametrize("snippet,exc,words", [
    ('[[devices]]\nname = "a"\nsize = 0x1000\n', InvalidArgument, ["device a", "erase_page_size"]),
    ('[[devices]]\nname = "a"\nsize = 0x1000\nerase_page_size = 0x1000\nbogus = 1\n',
     InvalidArgument, ["bogus"]),
    ('[[devices]]\nname = "a"\nsize = 0x1000\nerase_page_size = 0x1000\n'
     '[[partitions]]\nname = "p"\noffset = 0x800\nsize = 0x1000\n', InvalidArgument,
     ["partition p", "past the end"]),
    ('[[devices]]\nname = "a"\nsize = 0x1000\nerase_page_size = 0x1000\n'
     '[[partitions]]\nname = "p"\ndevice = "zz"\noffset = 0\nsize = 0x1000\n', NotFound, ["zz"]),
    ('[[devices]]\nname = "a"\nchip = "nonexistent-chip-xyz"\n', NotFound, ["nonexistent-chip-xyz"]),
    ('name = "x"\n[[devices\n', InvalidArgument, ["invalid TOML"]),
])
def test_board_toml_errors_name_file_and_entry(tmp_path, snippet, exc, words):
    p = tmp_path / "bad.toml"
    p.write_text(snippet)
    with pytest.raises(exc) as e:
        load_board(p)
    assert str(p) in str(e.value)
    for w in words:
        assert w in str(e.value)


def test_board_toml_with_devicetree_and_settings(tmp_path):
    (tmp_path / "nucleo.dts").write_text((fm_data.DATA / "nucleo_f429zi.dts").read_text())
    p = tmp_path / "nucleo.toml"
    p.write_text('devicetree = "nucleo.dts"\n[[devices]]\nname = "flash0"\nchip = "stm32f429xi"\n'
                 '[hal]\ngeneration = "v2"\n')
    b = load_board(p)
    assert b.name == "nucleo" and b.devices[0].chip == "stm32f429xi"
    assert b.extra == {"hal": {"generation": "v2"}}
    assert [pp.node_label for pp in b.partitions][0] == "boot_partition"
    p.write_text('devicetree = "nucleo.dts"\n')  # no chip: the SoC table knows the sectors
    b = load_board(p)
    assert b.devices[0].chip is None and b.devices[0].layout == ((4, 16384), (1, 65536), (7, 131072)) * 2
    assert "STM32F4" in b.devices[0].layout_source


def test_partition_overlap_in_toml_warns(tmp_path):
    p = tmp_path / "o.toml"
    p.write_text('[[devices]]\nname = "a"\nsize = 0x4000\nerase_page_size = 0x1000\n'
                 '[[partitions]]\nname = "x"\noffset = 0\nsize = 0x2000\n'
                 '[[partitions]]\nname = "y"\noffset = 0x1000\nsize = 0x2000\n')
    with pytest.warns(PartitionWarning, match="overlap"):
        load_board(p)


# --- open(): images ------------------------------------------------------------------------------

def test_open_directory_of_images_persists(tmp_path):
    b = load_board()
    d = tmp_path / "img"
    with b.open(d) as ob:
        assert ob.devices["qspi0"].path == str(d / "qspi0.bin")
        ob.area("storage_partition").write(0, b"hello")
        ob.area("kf_partition").write(16, b"kf")
    assert (d / "flash0.bin").stat().st_size == 1 << 20
    with b.open(d, create=False) as ob:
        assert ob.area("storage_partition").read(0, 5) == b"hello"
        assert ob.area(5).read(16, 2) == b"kf"
    with b.open({"flash0": d / "flash0.bin", "qspi0": d / "qspi0.bin"}, readonly=True) as ob:
        with pytest.raises(ReadOnlyBacking):
            ob.area("storage_partition").write(8, b"x")


def test_open_single_file_for_one_device_board(tmp_path):
    b = quiet_load("qemu_x86")
    img = tmp_path / "qemu.bin"
    with b.open(img) as ob:
        ob.area("slot0_partition").write(0, b"\x01\x02\x03\x04")
        assert ob.flash_map.chosen["zephyr,code-partition"] is ob.area("slot0_partition")
    data = img.read_bytes()
    assert data[0x11000:0x11004] == b"\x01\x02\x03\x04" and len(data) == 1 << 20


def test_open_errors(tmp_path):
    b = load_board()
    with pytest.raises(NotFound):
        b.open({"nope": tmp_path / "x.bin"})
    with pytest.raises(NotFound):
        b.open(tmp_path / "missing-dir", create=False)
    f = tmp_path / "one.bin"
    f.write_bytes(b"")
    with pytest.raises(InvalidArgument):
        b.open(f)


def test_open_image_target_rules(tmp_path):
    """Board.open and flashstack.board.images share Board.image_paths: one rule for targets."""
    demo, qemu = load_board(), quiet_load("qemu_x86")
    with pytest.raises(InvalidArgument, match="2 flash devices"):   # an image name, not a directory
        demo.open(tmp_path / "demo.bin")
    assert not (tmp_path / "demo.bin").exists()
    (dev,) = qemu.devices
    with qemu.open(f"{tmp_path / 'q'}/"):                           # trailing slash: a directory
        pass
    assert (tmp_path / "q" / f"{dev.name}.bin").stat().st_size == dev.size
    with pytest.raises(NotFound, match="image create --board qemu_x86"):
        qemu.open(tmp_path / "none.bin", create=False)
    with pytest.raises(NotFound, match="no device nope"):
        demo.image_paths({"nope": "x.bin"})


def test_open_in_zephyr_mode_and_sim_kwargs():
    with load_board().open(enforce_read_only=False, allow_double_writes=True) as ob:
        boot = ob.area("boot_partition")
        boot.write(0, b"\x0f")
        boot.write(0, b"\x03")  # double write allowed (AND)
        assert boot.read(0, 1) == b"\x03"


def test_specs_are_public_and_validated():
    assert PartitionSpec(1, "x", ("a",)).name == "a"
    with pytest.raises(InvalidArgument):
        DeviceSpec("d", 0x3000, ((2, 0x1000),))
    assert isinstance(load_board(), Board)
