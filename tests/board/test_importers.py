"""Importers of other ecosystems' partition tables (docs/board-layouts.md IM-1..IM-6): files in
the tools' own shapes (tests/data/importers, each citing its format source) become boards with
the same show/open behaviour; malformed ones are errors naming file and line."""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashstack.board import load_board
from flashstack.board.importers import detect
from flashstack.board.importers.esp_idf import ENTRY, load_binary
from flashstack.cli.app import cli
from flashstack.errors import InvalidArgument

DATA = Path(__file__).resolve().parent.parent / "data" / "importers"


def parts(board) -> list[tuple]:
    return [(p.id, p.name, p.device, p.offset, p.size, p.read_only) for p in board.partitions]


# --- Nordic Partition Manager ----------------------------------------------------------------

def test_partition_manager_generated_yaml():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        b = load_board(DATA / "partitions.yml")
    # spanning containers are nesting, not overlaps; mcuboot_pad (0x200) is truly unaligned
    assert [str(w.message) for w in caught if "overlap" in str(w.message)] == []
    assert any("mcuboot_pad" in str(w.message) and "aligned" in str(w.message) for w in caught)
    assert detect(DATA / "partitions.yml") == "nordic-pm"
    assert [d.name for d in b.devices] == ["flash_primary", "external_flash"]
    assert b.device("flash_primary").size == 0x100000
    assert parts(b) == [
        (0, "mcuboot", "flash_primary", 0x0, 0xC000, False),
        (1, "mcuboot_primary", "flash_primary", 0xC000, 0xEC000, False),
        (2, "mcuboot_pad", "flash_primary", 0xC000, 0x200, False),
        (3, "mcuboot_primary_app", "flash_primary", 0xC200, 0xEBE00, False),
        (4, "app", "flash_primary", 0xC200, 0xEBE00, False),
        (5, "settings_storage", "flash_primary", 0xF8000, 0x8000, False),
        (6, "mcuboot_secondary", "external_flash", 0x0, 0xEC000, False)]
    assert "sram_primary" not in {p.name for p in b.partitions}
    with b.open() as ob:  # opens like any board
        assert ob.area("settings_storage").read(0, 4) == b"\xff" * 4


def test_pm_static_yaml():
    b = load_board(DATA / "pm_static.yml")
    assert [(p.name, p.offset, p.size) for p in b.partitions][-1] == ("littlefs_storage", 0xF4000, 0xC000)


@pytest.mark.parametrize("text,line,words", [
    ("app:\n  address: 0x0\n  region: flash_primary\n", 1, "needs address and size"),
    ("a:\n  address: 0x0\n  size: 0x1000\nb:\n  address: 0x1000\n  size: 0x1000\n  end_address: 0x3000\n",
     4, "end_address 0x3000"),
    ("big:\n  address: 0x0\n  size: 0x1000\n  span: [ghost]\n", 1, "unknown partition 'ghost'"),
    ("x:\n  address: 0x0\n  size: [1, 2\n", 4, "invalid YAML"),  # where the parser stops
    ("x:\n  address: zero\n  size: 0x10\n", 1, "is not an integer"),
])
def test_partition_manager_errors_name_file_and_line(tmp_path, text, line, words):
    p = tmp_path / "pm_static.yml"
    p.write_text(text)
    with pytest.raises(InvalidArgument) as e:
        load_board(p)
    assert f"{p}:{line}" in str(e.value) and words in str(e.value)


# --- ESP-IDF -----------------------------------------------------------------------------------

ESP_EXPECTED = [
    (0, "nvs", "flash0", 0x9000, 0x4000, False),
    (1, "otadata", "flash0", 0xD000, 0x2000, False),
    (2, "phy_init", "flash0", 0xF000, 0x1000, False),
    (3, "factory", "flash0", 0x10000, 0x100000, False),
    (4, "ota_0", "flash0", 0x110000, 0x100000, False),
    (5, "ota_1", "flash0", 0x210000, 0x100000, False),
    (6, "storage", "flash0", 0x310000, 0xF0000, True)]


def test_esp_idf_csv():
    b = load_board(DATA / "partitions.csv")
    assert parts(b) == ESP_EXPECTED
    assert b.partition("storage").label == "data/littlefs"
    assert b.devices[0].size == 4 << 20 and b.devices[0].layout == ((1024, 4096),)


def esp_binary(rows, md5: bool = True) -> bytes:
    """The binary table as gen_esp32part.py writes it (entries, MD5 entry, 0xFF padding)."""
    types = {"app": 0, "data": 1}
    subs = {"nvs": 2, "ota": 0, "phy": 1, "factory": 0, "ota_0": 0x10, "ota_1": 0x11, "littlefs": 0x83}
    blob = b""
    for name, ptype, sub, off, size, ro in rows:
        blob += ENTRY.pack(b"\xaa\x50", types[ptype], subs[sub], off, size,
                           name.encode().ljust(16, b"\0"), 2 if ro else 0)
    if md5:
        blob += b"\xeb\xeb" + b"\xff" * 14 + hashlib.md5(blob).digest()
    return blob + b"\xff" * (0xC00 - len(blob))


ESP_ROWS = [("nvs", "data", "nvs", 0x9000, 0x4000, False), ("otadata", "data", "ota", 0xD000, 0x2000, False),
            ("phy_init", "data", "phy", 0xF000, 0x1000, False),
            ("factory", "app", "factory", 0x10000, 0x100000, False),
            ("ota_0", "app", "ota_0", 0x110000, 0x100000, False),
            ("ota_1", "app", "ota_1", 0x210000, 0x100000, False),
            ("storage", "data", "littlefs", 0x310000, 0xF0000, True)]


def test_esp_idf_binary_table_alone_and_in_a_dump(tmp_path):
    table = tmp_path / "partition-table.bin"
    table.write_bytes(esp_binary(ESP_ROWS))
    assert parts(load_board(table)) == ESP_EXPECTED
    dump = tmp_path / "dump.bin"
    dump.write_bytes(b"\xff" * 0x8000 + esp_binary(ESP_ROWS) + b"\xff" * 0x1000)
    assert detect(dump) == "esp-idf-bin"
    assert parts(load_board(dump)) == ESP_EXPECTED


def test_esp_idf_binary_errors_name_the_byte(tmp_path):
    blob = bytearray(esp_binary(ESP_ROWS))
    blob[32 * 7 + 20] ^= 0xFF  # damage the MD5
    p = tmp_path / "t.bin"
    p.write_bytes(bytes(blob))
    with pytest.raises(InvalidArgument, match=r"byte 0xe0: partition table MD5"):
        load_binary(p)
    blob = bytearray(esp_binary(ESP_ROWS, md5=False))
    blob[32:34] = b"\x12\x34"
    p.write_bytes(bytes(blob))
    with pytest.raises(InvalidArgument, match=r"byte 0x20: entry magic 1234"):
        load_binary(p)


@pytest.mark.parametrize("row,words", [
    ("nvs, data, nvs, 0x9000", "4 fields"),
    ("nvs, data, nvs, 0x9000, 0x4000, shiny", "unknown flag 'shiny'"),
    ("nvs, disk, nvs, 0x9000, 0x4000", "unknown partition type 'disk'"),
    ("nvs, data, nvss, 0x9000, 0x4000", "unknown subtype 'nvss'"),
    ("app0, app, factory, 0x9000, 1M", "not aligned to 0x10000"),
    ("nvs, data, nvs, 0x9000, lots", "size 'lots'"),
    ("averyveryverylongname, data, nvs, 0x9000, 0x4000", "1..16 bytes"),
])
def test_esp_idf_csv_errors_name_file_and_line(tmp_path, row, words):
    p = tmp_path / "partitions.csv"
    p.write_text("# Name, Type, SubType, Offset, Size, Flags\n" + row + "\n")
    with pytest.raises(InvalidArgument) as e:
        load_board(p)
    assert f"{p}:2" in str(e.value) and words in str(e.value)


def test_esp_idf_csv_overlap_and_duplicate(tmp_path):
    p = tmp_path / "partitions.csv"
    p.write_text("nvs, data, nvs, 0x9000, 0x4000\nnvs, data, phy, 0xd000, 0x1000\n")
    with pytest.raises(InvalidArgument, match=r":2: partition name 'nvs' already used on line 1"):
        load_board(p)
    p.write_text("nvs, data, nvs, 0x9000, 0x4000\nphy, data, phy, 0xa000, 0x1000\n")
    with pytest.raises(InvalidArgument, match=r":2: phy .* overlaps nvs \(line 1\)"):
        load_board(p)


# --- AliOS-Things ------------------------------------------------------------------------------

def test_alios_hal_partitions_table():
    with pytest.warns(UserWarning, match="aos/hal/flash.h"):
        b = load_board(DATA / "board.c")
    assert detect(DATA / "board.c") == "alios"
    assert parts(b) == [
        (0, "bootloader", "flash0", 0x0, 0x10000, True),
        (1, "application", "flash0", 0x10000, 0xC0000, False),
        (2, "parameter_1", "flash0", 0xD0000, 0x1000, False),
        (3, "parameter_2", "flash0", 0xF0000, 0x2000, False),
        (4, "spiffs", "qspi0", 0x0, 0x100000, False)]
    assert b.device("flash0").base_address == 0x08000000
    assert b.partition("application").address == 0x08010000
    hal = b.extra["hal"]
    assert hal["owners"] == {"EMBEDDED": "flash0", "QSPI": "qspi0"}
    assert hal["table"][0] == {"partition": "BOOTLOADER", "owner": "EMBEDDED",
                               "description": "Bootloader", "start": 0x08000000,
                               "length": 0x10000, "options": 1}


@pytest.mark.parametrize("body,line,words", [
    ("[HAL_PARTITION_BOOTLOADER] = { .partition_colour = 1, },", 3, "unknown field .partition_colour"),
    ("[HAL_PARTITION_BOOTLOADER] = { .partition_start_addr = 0x0, },", 3, "missing .partition_length"),
    ("[HAL_PARTITION_BOOTLOADER] = {\n .partition_start_addr = MYSTERY,\n .partition_length = 4 },", 4,
     "unknown name 'MYSTERY'"),
    ("[HAL_PARTITION_BOOTLOADER] = { .partition_owner = HAL_FLASH_TAPE, .partition_start_addr = 0,"
     " .partition_length = 4 },", 3, "unknown name 'HAL_FLASH_TAPE'"),
])
def test_alios_errors_name_file_and_line(tmp_path, body, line, words):
    p = tmp_path / "partition_conf.c"
    p.write_text("/* table */\nconst hal_logic_partition_t hal_partitions[] = {\n" + body + "\n};\n")
    with pytest.raises(InvalidArgument) as e:
        load_board(p)
    assert f"{p}:{line}" in str(e.value) and words in str(e.value)


def test_alios_table_filled_in_code_is_refused(tmp_path):
    p = tmp_path / "board.c"
    p.write_text("hal_logic_partition_t hal_partitions[HAL_PARTITION_MAX];\nvoid board_init(void) {}\n")
    with pytest.raises(InvalidArgument, match=r"board.c:1: .*without an initializer"):
        load_board(p)


# --- the CLI -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["partitions.yml", "partitions.csv"])
def test_board_show_of_imported_tables(tmp_path, name):
    shutil.copy(DATA / name, tmp_path / name)
    r = CliRunner().invoke(cli, ["board", "show", str(tmp_path / name), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["partitions"] and all(p["size"] > 0 for p in data["partitions"])
    r = CliRunner().invoke(cli, ["board", "show", str(tmp_path / name)])
    assert r.exit_code == 0 and data["partitions"][0]["node_label"] in r.stdout


def test_board_show_of_a_bad_table_is_one_error_line(tmp_path):
    p = tmp_path / "partitions.csv"
    p.write_text("nvs, data, nvs, 0x9000\n")
    r = CliRunner().invoke(cli, ["board", "show", str(p)])
    assert r.exit_code == 1 and f"{p}:1" in r.output and "Traceback" not in r.output


def test_alios_table_feeds_the_hal_layer():
    """The imported [hal] rows are what `flashstack hal` reads: addresses resolve to partitions."""
    r = CliRunner().invoke(cli, ["hal", "list", "--board", str(DATA / "board.c"), "--json"])
    assert r.exit_code == 0, r.output
    data, _ = json.JSONDecoder().raw_decode(r.stdout[r.stdout.index("{"):])
    rows = {row["partition"]: row for row in data["partitions"]}
    assert rows["APPLICATION"]["device"] == "flash0" and rows["SPIFFS"]["device"] == "qspi0"
    r = CliRunner().invoke(cli, ["hal", "addr2offset", "0x08010010", "--board", str(DATA / "board.c")])
    assert r.exit_code == 0 and "APPLICATION + 0x10" in r.output
