"""Trustworthy store commands (issue 10): writers refuse what they do not own, a failed
command leaves every image byte-identical, parameters come from the build record and the
bytes (each with its source), dumps exit 3 on damage."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click.testing as click_testing
import pytest

from flashstack.cli.app import cli


def run(*args):
    return click_testing.CliRunner().invoke(cli, [str(a) for a in args])


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir())}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The demo build (MCUboot image in slot0, KV in storage, littlefs) — copied per test."""
    out = tmp_path_factory.mktemp("demo") / "build"
    r = run("build", "-o", out, "-f", "bin")
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture
def demo(built, tmp_path):
    dst = tmp_path / "build"
    dst.mkdir()
    for p in built.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


@pytest.mark.parametrize("part, what", [("slot0_partition", "MCUboot image"), ("lfs_partition", "littlefs")])
def test_kv_set_refuses_a_partition_holding_another_kind(demo, part, what):
    before = digest(demo)
    r = run("kv", "set", "--image", demo, "-p", part, "k", "v", "--total-size", "0x2000")
    assert r.exit_code == 1 and what in r.output and "--force" in r.output
    assert digest(demo) == before


def test_kv_set_refuses_unknown_data_unless_forced(tmp_path):
    img = tmp_path / "img"
    assert run("image", "create", "-o", img).exit_code == 0
    with open(img / "flash0.bin", "r+b") as f:
        f.seek(0x1E000)
        f.write(b"\x12\x34" * 64)
    before = digest(img)
    r = run("kv", "set", "--image", img, "k", "v")
    assert r.exit_code == 1 and "neither erased nor AliOS KV" in r.output
    assert digest(img) == before
    r = run("kv", "set", "--image", img, "k", "v", "--force", "--repair")
    assert r.exit_code == 0, r.output
    assert run("kv", "get", "--image", img, "k").output.strip() == "v"


def _torn(img: Path) -> None:
    """A KV with one good key and a torn update record after it."""
    assert run("kv", "set", "--image", img, "key_1", "val_1").exit_code == 0
    with open(img / "flash0.bin", "r+b") as f:
        f.seek(0x1E000 + 0x18)
        f.write(bytes.fromhex("49EE42050500040" + "06B65"))


@pytest.fixture
def torn(tmp_path):
    img = tmp_path / "img"
    assert run("image", "create", "-o", img).exit_code == 0
    _torn(img)
    return img


@pytest.mark.parametrize("args, errno_name", [
    (["set", "x" * 200, "v"], "EINVAL"),                 # key longer than max_key_len
    (["set", "k", "--hex", "00" * 600], "EINVAL"),      # value longer than max_val_len
    (["del", "nosuchkey"], "ENOENT"),
    (["set", "k"], None),                               # no value: usage
])
def test_failed_writer_leaves_a_damaged_store_untouched(torn, args, errno_name):
    before = digest(torn)
    r = run("kv", args[0], "--image", torn, *args[1:])
    assert r.exit_code != 0
    if errno_name:
        assert errno_name in r.output
    assert "b'" not in r.output           # keys print as text
    assert digest(torn) == before


def test_failed_import_leaves_the_image_untouched(torn, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("key,type,encoding,value\nok,data,string,x\nbig,data,u8,300\n")
    before = digest(torn)
    assert run("kv", "import", "--image", torn, bad).exit_code == 1
    assert digest(torn) == before


def test_writer_does_not_repair_without_repair(torn):
    before = digest(torn)
    r = run("kv", "set", "--image", torn, "k2", "v2")
    assert r.exit_code == 1 and "needs recovery" in r.output and "--repair" in r.output
    assert digest(torn) == before
    r = run("kv", "set", "--image", torn, "k2", "v2", "--repair")
    assert r.exit_code == 0, r.output
    assert json.loads(run("kv", "dump", "--image", torn, "--json").output)["verdict"] == "ok"


def test_kv_reads_geometry_from_the_build_record_and_names_its_source(tmp_path):
    man = tmp_path / "m.toml"
    man.write_text('board = "flashstack-demo"\n[partitions.lfs_partition]\ntype = "alios-kv"\n'
                   'block_size = 4096\ntotal_size = 0x4000\n[partitions.lfs_partition.items]\na = "1"\n')
    out = tmp_path / "out"
    assert run("build", man, "-o", out, "-f", "bin").exit_code == 0
    r = run("kv", "list", "--image", out, "-p", "lfs_partition", "--json")
    assert r.exit_code == 0, r.output
    params = json.loads(r.stdout)["parameters"]
    assert params["total_size"]["value"] == 0x4000 and "build record" in params["total_size"]["source"]
    r = run("kv", "list", "--image", out, "-p", "lfs_partition", "--total-size", "0x2000")
    assert r.exit_code == 1 and "0x2000" in r.output and "0x4000" in r.output


def test_kv_reads_block_count_from_the_bytes(tmp_path):
    from flashstack.kv import KVConfig, KVStore
    img = tmp_path / "img"
    assert run("image", "create", "-o", img).exit_code == 0
    assert run("kv", "set", "--image", img, "-p", "lfs_partition", "--total-size", "0x4000", "a", "1").exit_code == 0
    r = run("kv", "list", "--image", img, "-p", "lfs_partition", "--json")
    params = json.loads(r.stdout)["parameters"]
    assert params["total_size"] == {"value": 0x4000, "source": "bytes (block headers)"}
    assert KVConfig(total_size=0x4000, block_size=0x1000).blocks == 4 and KVStore  # the 4-block store


def test_kv_dump_exits_3_on_data_loss(tmp_path):
    img = tmp_path / "img"
    assert run("image", "create", "-o", img).exit_code == 0
    assert run("kv", "set", "--image", img, "key_1", "val_1").exit_code == 0
    assert run("kv", "dump", "--image", img, "--json").exit_code == 0
    with open(img / "flash0.bin", "r+b") as f:   # the record's block header: an invalid state
        f.seek(0x1E000 + 1)
        f.write(b"\x00")
    r = run("kv", "dump", "--image", img, "--json")
    assert json.loads(r.stdout)["verdict"] == "data loss"
    assert r.exit_code == 3


def test_nvs_write_refuses_an_mcuboot_slot(demo):
    before = digest(demo)
    r = run("nvs", "write", "--image", demo, "-p", "slot0_partition", "1", "--data", "x")
    assert r.exit_code == 1 and "MCUboot image" in r.output and "--force" in r.output
    assert digest(demo) == before


def test_nvs_dump_exits_3_when_damaged(tmp_path):
    img = tmp_path / "img"
    assert run("image", "create", "-o", img).exit_code == 0
    for i, v in ((1, "hello"), (2, "world")):
        assert run("nvs", "write", "--image", img, "-p", "storage_partition", i, "--data", v).exit_code == 0
    assert run("nvs", "dump", "--image", img, "-p", "storage_partition").exit_code == 0
    with open(img / "flash0.bin", "r+b") as f:   # the CRC-8 of the newest data ATE
        f.seek(0x1E000 + 0xFE0 + 7)
        f.write(b"\x00")
    r = run("nvs", "dump", "--image", img, "-p", "storage_partition", "--json")
    assert json.loads(r.stdout)["verdict"] == "damaged" and r.exit_code == 3


def test_inspect_exits_3_on_a_partition_changed_since_the_build(demo):
    assert run("inspect", demo).exit_code == 0
    assert run("kv", "set", "--image", demo, "wifi.ssid", "other").exit_code == 0
    r = run("inspect", demo, "--json")
    parts = {p["partition"]: p for p in json.loads(r.stdout)["partitions"]}
    assert parts["storage_partition"]["matches_build"] is False and r.exit_code == 3
