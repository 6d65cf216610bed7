"""``flashstack zms`` (the nvs command family with the ZMS kind) on flashstack-demo images
(storage_partition: flash0 0x1e000 + 0x2000, 4 KiB erase pages)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.zms.settings import DATA_ID_OFFSET, name_id_of

STORAGE = 0x1E000


def run(*args, code=0):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code == code, (r.output, r.exception)
    return r


def js(*args):
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def img(tmp_path):
    out = tmp_path / "img"
    run("image", "create", "-o", out)
    return out


def flash0(img) -> bytes:
    return (img / "flash0.bin").read_bytes()


def test_write_read_list_history(img):
    assert js("zms", "write", "--image", img, "-p", "storage_partition", "0x10", "--data",
              "hello")["written"] == 5
    run("zms", "write", "--image", img, "-p", "storage_partition", "0x12345678", "--hex", "01 02")
    got = js("zms", "read", "--image", img, "-p", "storage_partition", "16")
    assert bytes.fromhex(got["hex"]) == b"hello" and got["id"] == 16
    listed = js("zms", "list", "--image", img, "-p", "storage_partition")
    assert listed["format"] == "zephyr-zms"
    assert listed["items"] == {"0x00000010": b"hello".hex(), "0x12345678": "0102"}
    run("zms", "write", "--image", img, "-p", "storage_partition", "16", "--data", "world")
    assert bytes.fromhex(js("zms", "read", "--image", img, "-p", "storage_partition", "16",
                            "--hist", "1")["hex"]) == b"hello"
    # the sector header is ZMS's: empty ATE with magic 0x42 at the end of the first sector
    raw = flash0(img)[STORAGE + 4096 - 16:STORAGE + 4096]
    assert raw[2:8] == b"\xff" * 6 and raw[12:14] == b"\x01\x42"


def test_reading_commands_never_write_and_dump(img):
    run("zms", "write", "--image", img, "-p", "storage_partition", "7", "--data", "x" * 30)
    before = flash0(img)
    for cmd in ("list", "export", "dump"):
        run("zms", cmd, "--image", img, "storage_partition")
    assert flash0(img) == before
    d = js("zms", "dump", "--image", img, "-p", "storage_partition")
    assert d["verdict"] == "healthy" and d["items"] == {"7": (b"x" * 30).hex()}
    assert d["sectors"][0]["cycle"] == 1


def test_settings_by_name_and_raw_ids(img):
    run("zms", "write", "--image", img, "-p", "storage_partition", "--settings", "bt/name",
        "--data", "dev1")
    run("zms", "write", "--image", img, "-p", "storage_partition", "--settings", "app/x", "--hex", "0102")
    assert js("zms", "list", "--image", img, "-p", "storage_partition", "--settings")["settings"] == \
        {"app/x": "0102", "bt/name": b"dev1".hex()}
    items = js("zms", "list", "--image", img, "-p", "storage_partition")["items"]
    nid = name_id_of("bt/name")
    assert items[f"{nid:#010x}"] == b"bt/name".hex()
    assert items[f"{nid + DATA_ID_OFFSET:#010x}"] == b"dev1".hex()
    run("zms", "delete", "--image", img, "-p", "storage_partition", "--settings", "app/x")
    r = run("zms", "read", "--image", img, "-p", "storage_partition", "--settings", "app/x", code=1)
    assert "ENOENT" in r.stderr and "app/x" in r.stderr


def test_export_import_round_trip(img, tmp_path):
    run("zms", "write", "--image", img, "-p", "storage_partition", "1", "--data", "one")
    run("zms", "write", "--image", img, "-p", "storage_partition", "--settings", "a/b", "--data", "v")
    out = tmp_path / "zms.json"
    run("zms", "export", "--image", img, "-p", "storage_partition", "-o", out)
    other = tmp_path / "img2"
    run("image", "create", "-o", other)
    run("zms", "import", "--image", other, "-p", "storage_partition", out)
    assert js("zms", "list", "--image", other, "-p", "storage_partition")["items"] == \
        js("zms", "list", "--image", img, "-p", "storage_partition")["items"]


def test_refuses_a_partition_that_is_not_zms(img):
    run("nvs", "write", "--image", img, "-p", "storage_partition", "1", "--data", "nvs data")
    before = flash0(img)
    r = run("zms", "write", "--image", img, "-p", "storage_partition", "1", "--data", "x", code=1)
    assert "holds Zephyr NVS" in r.stderr and "--force" in r.stderr   # named, not overwritten
    assert flash0(img) == before


def test_64bit_ids(img):
    run("zms", "write", "--image", img, "-p", "storage_partition", "0x0102030405060708", "--hex", "aa",
        "--id-64bit")
    got = js("zms", "read", "--image", img, "-p", "storage_partition", "0x0102030405060708",
             "--id-64bit")
    assert got["hex"] == "aa"
    r = run("zms", "write", "--image", img, "-p", "storage_partition", "0x0102030405060708",
            "--hex", "aa", code=1)
    assert "outside" in r.stderr
