"""``flashstack kv`` on an image of the built-in demo board."""

import json

import click.testing as click_testing  # the cli extra: CI installs it, so never skipped
import pytest

from flashstack.cli.app import cli as main


@pytest.fixture
def img(tmp_path):
    runner = click_testing.CliRunner()
    out = tmp_path / "img"
    r = runner.invoke(main, ["image", "create", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return str(out)


def run(*args):
    r = click_testing.CliRunner().invoke(main, list(args))
    return r


def test_set_get_list_del(img):
    assert run("kv", "set", "--image", img, "wifi.ssid", "flashstack").exit_code == 0
    assert run("kv", "set", "--image", img, "cal", "--hex", "01 02 ff").exit_code == 0
    r = run("kv", "get", "--image", img, "wifi.ssid")
    assert r.exit_code == 0 and r.output.strip() == "flashstack"
    r = run("kv", "get", "--image", img, "cal", "--json")
    assert json.loads(r.stdout)["value_hex"] == "0102ff"
    r = run("kv", "list", "--image", img, "--json")
    items = json.loads(r.stdout)["items"]
    assert [(i["key"], i["length"]) for i in items] == [("wifi.ssid", 10), ("cal", 3)]
    with open(f"{img}/flash0.bin", "rb") as f:
        f.seek(0x1E000)
        assert f.read(4) == bytes.fromhex("4BCC0000")  # PARAMETER_2 = storage_partition at 0x1e000
    assert run("kv", "del", "--image", img, "cal").exit_code == 0
    r = run("kv", "get", "--image", img, "cal")
    assert r.exit_code == 1 and "not found" in r.output and "Traceback" not in r.output
    assert run("kv", "del", "--image", img, "--prefix", "").exit_code == 0
    assert json.loads(run("kv", "list", "--image", img, "--json").output)["items"] == []


def test_reading_never_writes(img):
    with open(f"{img}/flash0.bin", "rb") as f:
        before = f.read()
    r = run("kv", "list", "--image", img, "--json")  # blank store: mount would format, but on a copy
    assert r.exit_code == 0
    r = run("kv", "dump", "--image", img, "--json")
    assert json.loads(r.stdout)["verdict"] == "blank"
    with open(f"{img}/flash0.bin", "rb") as f:
        assert f.read() == before


def test_dump_reports_torn_record(img):
    run("kv", "set", "--image", img, "key_1", "val_1")
    with open(f"{img}/flash0.bin", "r+b") as f:  # a torn update: header and 2 key bytes only
        f.seek(0x1E000 + 0x18)
        f.write(bytes.fromhex("49EE42050500040" + "06B65"))
    r = run("kv", "dump", "--image", img, "--json")
    rep = json.loads(r.stdout)
    assert rep["verdict"] == "recoverable"
    torn = [x for x in rep["records"] if x["pos"] == 0x18]
    assert torn and not torn[0]["crc_ok"] and torn[0]["status"] == "torn"
    r = run("kv", "dump", "--image", img)
    assert r.exit_code == 0 and "verdict: recoverable" in r.output and "BAD" in r.output


def test_import_export(img, tmp_path):
    csv_path = tmp_path / "in.csv"
    csv_path.write_text("key,type,encoding,value\nname,data,string,dev\ncount,data,u16,513\n")
    r = run("kv", "import", "--image", img, str(csv_path), "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["written"] == 2
    r = run("kv", "export", "--image", img, "--format", "json")
    doc = json.loads(r.stdout)
    assert {(i["key"], i["value"]) for i in doc["items"]} == {("name", "dev"), ("count", "AQI=")}
    bad = tmp_path / "bad.csv"
    bad.write_text("key,type,encoding,value\nok,data,string,x\nbig,data,u8,300\n")
    r = run("kv", "import", "--image", img, str(bad))
    assert r.exit_code == 1 and "bad.csv:3" in r.output
    assert run("kv", "get", "--image", img, "ok").exit_code == 1  # nothing of bad.csv was written


def test_bad_geometry_is_one_clear_line(img):
    r = run("kv", "list", "--image", img, "--block-size", "2048")
    assert r.exit_code == 1 and "erase" in r.output and "Traceback" not in r.output


MARKUP_KEY = "[bold]k[/x]"  # rich would take both for tags (and fail on the stray closing one)


def test_markup_in_keys_and_values_is_printed_literally(img):
    r = run("kv", "set", "--image", img, MARKUP_KEY, "[/x] v [bold]")
    assert r.exit_code == 0, r.output
    assert f"set {MARKUP_KEY} (13 bytes) on" in r.output
    r = run("kv", "get", "--image", img, MARKUP_KEY)
    assert r.exit_code == 0 and r.output.strip() == "[/x] v [bold]"
    r = run("kv", "list", "--image", img)
    assert r.exit_code == 0, r.output
    assert MARKUP_KEY in r.output and "[/x] v [bold]" in r.output
    assert run("kv", "set", "--image", img, MARKUP_KEY, "second").exit_code == 0
    r = run("kv", "dump", "--image", img)
    assert r.exit_code == 0, r.output
    assert MARKUP_KEY in r.output and "verdict: ok" in r.output
