"""Loaders fail clearly (reproducers board_toml_types.py, inspect_bad_build_json.py,
kv_import_shapes.py, soft_errors.py without the devicetree cases, kv_failed_set_repairs_image.py)
and file references stay bounded: every bad input is a flashstack.errors exception naming the
file and the key, line or offset; a failed writer leaves the image byte-identical."""

from __future__ import annotations

import copy
import json
import os

import pytest
from click.testing import CliRunner

from flashstack.board import load_board
from flashstack.build import build, load_manifest
from flashstack.cli.app import cli
from flashstack.errors import InvalidArgument
from flashstack.inspect import inspect_images
from flashstack.kv.csvio import load_items, parse_csv, parse_json

DEV = '[[devices]]\nname = "flash0"\nsize = 0x10000\nerase_page_size = 0x1000\n'
BOARD_CASES = {
    "partitions = [5]": ("partitions = [5]\n" + DEV, "[[partitions]] entry 1: must be a table"),
    "mixed list": ('partitions = [[true, "x"]]\n' + DEV, "[[partitions]] entry 1: must be a table"),
    "page size 0": ('[[devices]]\nname = "f"\nlayout = [[1, 0]]\n', "'layout' must be"),
    "erase_page_size 0": ('[[devices]]\nname = "f"\nsize = 4096\nerase_page_size = 0\n',
                          "'erase_page_size' must be an integer >= 1"),
    "erase_page_size str": ('[[devices]]\nname = "f"\nsize = 4096\nerase_page_size = "4096"\n',
                            "'erase_page_size' must be an integer >= 1"),
    "name list": ('[[devices]]\nname = ["f"]\nsize = 4096\nerase_page_size = 4096\n',
                  "'name' must be a string"),
    "offset list": (DEV + '[[partitions]]\nname = "p"\noffset = [0]\nsize = 0x1000\n',
                    "'offset' must be an integer >= 0"),
    "offset float": (DEV + '[[partitions]]\nname = "p"\noffset = 0.5\nsize = 0x1000\n',
                     "'offset' must be an integer >= 0"),
    "device table": (DEV + '[[partitions]]\nname = "p"\noffset = 0\nsize = 0x1000\ndevice = {}\n',
                     "'device' must be a string"),
    "base_address list": (DEV.replace('name = "flash0"\n', 'name = "flash0"\nbase_address = []\n'),
                          "'base_address' must be an integer >= 0"),
    "devices = [5]": ("devices = [5]\n", "[[devices]] entry 1: must be a table"),
    "2**31 pages": ('[[devices]]\nname = "f"\nlayout = [[0x80000000, 16]]\n', "erase pages; at most"),
}


@pytest.mark.parametrize("title", sorted(BOARD_CASES))
def test_board_toml_of_the_wrong_shape(tmp_path, title):
    text, message = BOARD_CASES[title]
    p = tmp_path / "b.toml"
    p.write_text(text)
    with pytest.raises(InvalidArgument, match="b.toml") as exc:
        board = load_board(str(p))
        with board.open(images=None):
            pass
    assert message in str(exc.value)


def _non_utf8(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize("load, name, data, offset", [
    (load_board, "b.toml", b'name = "caf\xe9"\n', 11),
    (load_manifest, "m.toml", b'description = "caf\xe9"\n', 18),
    (load_items, "a.csv", b"key,type,encoding,value\nk,data,string,caf\xe9\n", 41),
    (load_items, "a.json", b'{"k": "caf\xe9"}', 10),
    (lambda p: inspect_images([p]), "x.hex", b":020000040000FA\n:01000000\xe9\n", 25),
])
def test_non_utf8_text_names_file_and_offset(tmp_path, load, name, data, offset):
    p = _non_utf8(tmp_path, name, data)
    with pytest.raises(InvalidArgument, match=f"{name}: not UTF-8 text: byte 0x.. at offset {offset}"):
        load(p)


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    build(None, out_dir=d)
    return d, json.loads((d / "build.json").read_text())


def _part(rec, label):
    return next(p for p in rec["partitions"] if p["label"] == label)


RECORD_CASES = [
    ("no label", lambda r: r["partitions"][0].pop("label"), "partitions[0].label"),
    ("partitions object", lambda r: r.__setitem__("partitions", {"a": 1}), "partitions must be"),
    ("no device name", lambda r: r["devices"][0].pop("name"), "devices[0].name"),
    ("devices number", lambda r: r.__setitem__("devices", 5), "devices must be"),
    ("content number", lambda r: _part(r, "storage_partition").__setitem__("content", 5), ".content must"),
    ("type list", lambda r: _part(r, "storage_partition")["content"].__setitem__("type", ["x"]),
     ".content.type must"),
    ("kv block_size str", lambda r: _part(r, "storage_partition")["content"]["config"].__setitem__(
        "block_size", "4096"), "config.block_size must be an integer"),
    ("lfs block_size list", lambda r: _part(r, "lfs_partition")["content"].__setitem__(
        "config", {"block_size": [1]}), "config.block_size must be an integer"),
    ("llk max_features str", lambda r: _part(r, "kf_partition")["content"]["config"].__setitem__(
        "max_features", "16"), "config.max_features must be an integer"),
]


@pytest.mark.parametrize("title, edit, message", RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_build_record_of_the_wrong_shape(demo_build, tmp_path, title, edit, message):
    d, good = demo_build
    rec = copy.deepcopy(good)
    edit(rec)
    for name in ("flash0.bin", "qspi0.bin"):
        (tmp_path / name).write_bytes((d / name).read_bytes())
    (tmp_path / "build.json").write_text(json.dumps(rec))
    with pytest.raises(InvalidArgument, match="build.json") as exc:
        inspect_images([tmp_path])
    assert message in str(exc.value)


@pytest.mark.parametrize("doc", ['{"items": 5}', '{"items": true}', '{"items": null}',
                                 '{"items": "ab"}', ('{"items": [{"key": "k", "value": "v", '
                                 '"encoding": 5}]}'), "[" * 100000 + "]" * 100000])
def test_kv_json_of_the_wrong_shape(doc):
    with pytest.raises(InvalidArgument, match="<json>"):
        parse_json(doc)


def test_kv_csv_field_over_the_csv_limit():
    with pytest.raises(InvalidArgument, match=r"<csv>:2: malformed CSV"):
        parse_csv('key,type,encoding,value\nk,data,string,"' + "x" * 140000)


# --- file references -------------------------------------------------------------------------
def _csv(tmp_path, target):
    p = tmp_path / "in.csv"
    p.write_text(f"key,type,encoding,value\nk,file,binary,{target}\n")
    return str(p)


def test_file_rows_read_regular_files_inside_the_folder(tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"\x01\x02")
    assert load_items(_csv(tmp_path, "blob.bin"))[0].value == b"\x01\x02"
    with pytest.raises(InvalidArgument, match="outside"):
        load_items(_csv(tmp_path, "/etc/hostname"))
    assert load_items(_csv(tmp_path, "/etc/hostname"), allow_outside=True)[0].value


def test_file_rows_refuse_devices_and_fifos(tmp_path):
    with pytest.raises(InvalidArgument, match="not a regular file"):
        load_items(_csv(tmp_path, "/dev/zero"), allow_outside=True)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgument, match="not a regular file"):   # returns: never blocks
        load_items(_csv(tmp_path, "fifo"))
    with pytest.raises(InvalidArgument, match="not a regular file"):
        load_items(str(fifo))


def test_json_file_encoding_stays_inside_the_folder(tmp_path):
    p = tmp_path / "in.json"
    p.write_text(json.dumps({"items": [{"key": "k", "encoding": "file", "value": "/etc/passwd"}]}))
    with pytest.raises(InvalidArgument, match="outside"):
        load_items(str(p))
    link = tmp_path / "link"
    link.symlink_to("/etc/passwd")
    p.write_text(json.dumps({"items": [{"key": "k", "encoding": "file", "value": "link"}]}))
    with pytest.raises(InvalidArgument, match="outside"):
        load_items(str(p))


# --- failed writers change nothing (kv_failed_set_repairs_image.py) ---------------------------
def test_failed_kv_commands_leave_a_damaged_image(demo_build, tmp_path):
    d, _ = demo_build
    img = tmp_path / "flash0.bin"
    data = bytearray((d / "flash0.bin").read_bytes())
    data[0x1E000 + 4 + 8 + len(b"device.model")] ^= 0x01      # one value byte of the KV store
    for name in ("qspi0.bin", "build.json"):
        (tmp_path / name).write_bytes((d / name).read_bytes())
    for args in (["kv", "set", "--image", str(tmp_path), "x", "--hex", "00" * 513],
                 ["kv", "del", "--image", str(tmp_path), "no.such.key"],
                 ["kv", "set", "--image", str(tmp_path), "", "v"],
                 ["nvs", "delete", "--image", str(tmp_path), "-p", "storage_partition", "0x1ffff"]):
        img.write_bytes(data)
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 1 and "internal error" not in r.stderr, r.stderr
        assert img.read_bytes() == bytes(data), args
