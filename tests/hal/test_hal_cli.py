"""``flashstack hal`` on the built-in demo board."""

import json

import click.testing as click_testing  # the cli extra: CI installs it, so never skipped

from flashstack.cli.app import cli


def run(*args):
    return click_testing.CliRunner().invoke(cli, list(args))


def test_list_and_addr2offset():
    r = run("hal", "list", "--json")
    rows = {p["partition"]: p for p in json.loads(r.stdout)["partitions"]}
    assert rows["PARAMETER_2"]["start"] == 0x1E000 and rows["PARAMETER_2"]["length"] == 0x2000
    assert rows["BOOTLOADER"]["options"] == 1
    r = run("hal", "addr2offset", "0x1e010", "--json")
    assert json.loads(r.stdout) == {"address": 0x1E010, "partition": "PARAMETER_2", "value": 6, "offset": 0x10}


def test_read_and_linuxhost(tmp_path):
    img = str(tmp_path / "img")
    assert run("image", "create", "-o", img).exit_code == 0
    lh = tmp_path / "lh"
    lh.mkdir()
    (lh / "aos_partition_6.bin").write_bytes(b"hello")
    assert run("hal", "import-linuxhost", "--image", img, str(lh)).exit_code == 0
    r = run("hal", "read", "--image", img, "PARAMETER_2", "0", "8", "--json")
    assert json.loads(r.stdout)["data_hex"] == b"hello\xff\xff\xff".hex()
    r = run("hal", "read", "--image", img, "SPIFFS", "0", "4")
    assert r.exit_code == 1 and "SPIFFS" in r.output and "PARAMETER_2" in r.output
