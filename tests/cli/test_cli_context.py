"""Store commands know their context (issue 10): parameters from the build record and the
bytes with their sources, the board from build.json, one image grammar (directory, HEX edited
in place, partition images), writers that refuse what they do not own, and failed commands
that leave every image byte-identical."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import click.testing as click_testing
import pytest

from flashstack.cli.app import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args):
    return click_testing.CliRunner().invoke(cli, [str(a) for a in args])


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).iterdir())}


def _build(tmp_path, text: str, *fmt) -> Path:
    man = tmp_path / "m.toml"
    man.write_text(text)
    out = tmp_path / "out"
    r = run("build", man, "-o", out, *(fmt or ("-f", "bin")))
    assert r.exit_code == 0, r.output
    return out


_CRC = ('board = "flashstack-demo"\n[partitions.storage_partition]\ntype = "zephyr-nvs"\n'
        'data_crc = true\n[partitions.storage_partition.items]\n"1" = "hello"\n"2" = "world!"\n')


def test_nvs_data_crc_from_the_build_record_and_from_the_bytes(tmp_path):
    out = _build(tmp_path, _CRC)
    doc = json.loads(run("nvs", "list", "--image", out, "--json").stdout)
    assert doc["items"] == {"0x0001": b"hello".hex(), "0x0002": b"world!".hex()}
    assert doc["parameters"]["data_crc"]["value"] is True
    assert "build record" in doc["parameters"]["data_crc"]["source"]
    bare = tmp_path / "bare"            # the same bytes without build.json: the ATEs tell
    bare.mkdir()
    shutil.copy(out / "flash0.bin", bare)
    shutil.copy(out / "qspi0.bin", bare)
    doc = json.loads(run("nvs", "list", "--image", bare, "--json").stdout)
    assert doc["items"]["0x0001"] == b"hello".hex()
    assert doc["parameters"]["data_crc"] == {"value": True, "source": "bytes (ATEs)"}
    r = run("nvs", "list", "--image", bare, "--no-data-crc")
    assert r.exit_code == 1 and "--no-data-crc" in r.stderr and "bytes (ATEs)" in r.stderr
    r = run("nvs", "dump", "--image", out, "--sector-size", "0x2000")
    assert r.exit_code == 1 and "0x2000" in r.stderr and "0x1000" in r.stderr


def test_every_store_report_says_where_the_board_came_from(tmp_path):
    """The board is the first parameter of kv, nvs, zms and feature reports, with its source:
    the build record beside the image, the --board flag, or the default."""
    out = _build(tmp_path, _CRC)
    for argv in (["kv", "list"], ["nvs", "list"], ["zms", "list", "-p", "lfs_partition"],
                 ["feature", "list"]):
        doc = json.loads(run(*argv, "--image", out, "--json").stdout)
        first = next(iter(doc["parameters"].items()))
        assert first == ("board", {"value": "flashstack-demo",
                                   "source": f"build record {out / 'build.json'}"}), argv
    flag = json.loads(run("nvs", "list", "--image", out, "-b", "flashstack-demo", "--json").stdout)
    assert flag["parameters"]["board"]["source"] == "flag --board"
    bare = tmp_path / "bare"
    run("image", "create", "-o", bare)
    assert json.loads(run("kv", "list", "--image", bare, "--json").stdout)["parameters"]["board"] == {
        "value": "flashstack-demo", "source": "default"}
    text = run("kv", "list", "--image", bare).stdout
    assert "parameters: board = flashstack-demo (default);" in text


def test_kf_region_built_with_n_8_is_listed_with_n_8(tmp_path):
    out = _build(tmp_path, 'board = "flashstack-demo"\n[partitions.kf_partition]\ntype = "llkernel"\n'
                           'max_features = 8\nram_base = 0x20000000\n')
    doc = json.loads(run("feature", "list", "--image", out, "--json").stdout)
    assert doc["config"]["max_features"] == 8
    assert "build record" in doc["parameters"]["max_features"]["source"]
    r = run("feature", "list", "--image", out, "-n", "16")
    assert r.exit_code == 1 and "16" in r.stderr and "max_features = 8" in r.stderr


def test_a_pico_build_opens_its_own_board(tmp_path):
    out = tmp_path / "pico"
    assert run("build", EXAMPLES / "rpi_pico_littlefs" / "manifest.toml", "-o", out, "-f", "bin").exit_code == 0
    r = run("kv", "list", "--image", out, "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {i["key"] for i in doc["items"]} >= {"device.serial", "net.hostname"}
    assert doc["parameters"]["total_size"]["value"] == 0x4000
    r = run("kv", "list", "--image", out, "--board", "flashstack-demo")
    assert r.exit_code == 1 and "flashstack-demo" in r.stderr and "rpi_pico" in r.stderr


def test_intel_hex_is_edited_in_place_other_segments_kept(tmp_path):
    intelhex = pytest.importorskip("intelhex")
    out = tmp_path / "demo"
    assert run("build", "-o", out, "-f", "hex").exit_code == 0
    hexfile = out / "image.hex"
    before = intelhex.IntelHex(str(hexfile)).todict()
    r = run("kv", "set", "--image", hexfile, "wifi.ssid", "hexap")
    assert r.exit_code == 0, r.output
    assert run("kv", "get", "--image", hexfile, "wifi.ssid").stdout.strip() == "hexap"
    after = intelhex.IntelHex(str(hexfile)).todict()
    changed = {a for a in set(before) | set(after) if before.get(a) != after.get(a)}
    assert changed and all(0x1E000 <= a < 0x20000 for a in changed if a != "start_addr")
    snapshot = hexfile.read_bytes()       # a reader and a failed writer leave it as it is
    assert run("kv", "list", "--image", hexfile).exit_code == 0
    assert run("kv", "del", "--image", hexfile, "nosuchkey").exit_code == 1
    assert hexfile.read_bytes() == snapshot


def test_partition_image(tmp_path):
    img = tmp_path / "img"
    assert run("image", "create", "-o", img).exit_code == 0
    assert run("nvs", "write", "--image", img, "1", "--data", "hi").exit_code == 0
    part = tmp_path / "after.bin"
    part.write_bytes((img / "flash0.bin").read_bytes()[0x1E000:0x20000])
    r = run("nvs", "read", "--image", part, "--partition-image", "-p", "storage_partition", "1", "--json")
    assert r.exit_code == 0, r.output and json.loads(r.stdout)["hex"] == b"hi".hex()
    assert run("nvs", "write", "--image", part, "--partition-image", "-p", "storage_partition", "2",
               "--data", "yo").exit_code == 0
    assert len(part.read_bytes()) == 0x2000
    r = run("nvs", "read", "--image", part, "--partition-image", "-p", "storage_partition", "2", "--json")
    assert json.loads(r.stdout)["hex"] == b"yo".hex()
    r = run("nvs", "read", "--image", part, "--partition-image", "-p", "slot0_partition", "1")
    assert r.exit_code == 1 and "partition-sized" in r.stderr


def test_build_refuses_a_folder_of_another_build_unless_clean(tmp_path):
    out = tmp_path / "out"
    assert run("build", "-o", out).exit_code == 0
    before = digest(out)
    nrf = EXAMPLES / "nrf52840dk_nrf52840" / "manifest.toml"
    r = run("build", nrf, "-o", out)
    assert r.exit_code == 1 and "flashstack-demo" in r.stderr and "qspi0.bin" in r.stderr
    assert digest(out) == before
    r = run("build", nrf, "-o", out, "--clean")
    assert r.exit_code == 0 and "removed" in r.stdout and "qspi0.bin" in r.stdout
    assert not (out / "qspi0.bin").exists()
    assert json.loads(run("inspect", out, "--json").stdout)["board"] == "nrf52840dk_nrf52840"


def test_boardless_inspect_finds_the_nvs_of_the_nrf52840_example(tmp_path):
    out = tmp_path / "nrf"
    assert run("build", EXAMPLES / "nrf52840dk_nrf52840" / "manifest.toml", "-o", out, "-f", "bin").exit_code == 0
    dump = tmp_path / "dump.bin"
    shutil.copy(out / "flash0.bin", dump)      # no build.json beside it: boardless
    doc = json.loads(run("inspect", dump, "--json").stdout)
    assert doc["board"] is None and doc["mcuboot"]
    nvs = doc["nvs_stores"]
    assert [(n["offset"], n["sector_size"]) for n in nvs] == [(0xF8000, 4096)]
    assert "Settings: 4 names" in nvs[0]["summary"] and nvs[0]["health"] == "ok"
    assert "Zephyr NVS at 0xf8000" in doc["summary"]


# --- every writer, every error path: the images stay byte-identical ---------------------------
def _demo_with_torn_kv(tmp_path) -> Path:
    img = tmp_path / "img"
    assert run("image", "create", "-o", img).exit_code == 0
    assert run("kv", "set", "--image", img, "k1", "v1").exit_code == 0
    with open(img / "flash0.bin", "r+b") as f:      # a torn record after it: kv needs recovery
        f.seek(0x1E000 + 0x18)
        f.write(bytes.fromhex("49EE42050500040006B65"[:20]))
    assert run("nvs", "write", "--image", img, "-p", "lfs_partition", "--sector-size", "0x1000",
               "--sector-count", "4", "1", "--data", "x").exit_code == 0
    assert run("flash", "write", "--image", img, "-p", "slot1_partition", "0", "--hex", "12345678").exit_code == 0
    return img


WRITER_ERRORS = [
    ("kv-other-kind", ["kv", "set", "-p", "lfs_partition", "k", "v"]),
    ("kv-repair", ["kv", "set", "k2", "v2"]),
    ("kv-einval", ["kv", "set", "x" * 200, "v", "--repair"]),
    ("kv-enoent", ["kv", "del", "nosuchkey", "--repair"]),
    ("kv-import", ["kv", "import", "{bad_csv}", "--repair"]),
    ("nvs-other-kind", ["nvs", "write", "-p", "storage_partition", "1", "--data", "x"]),
    ("nvs-unknown", ["nvs", "write", "-p", "slot1_partition", "1", "--data", "x"]),
    ("nvs-contradiction", ["nvs", "write", "-p", "lfs_partition", "--sector-size", "0x2000", "1", "--data", "x"]),
    ("nvs-empty", ["nvs", "write", "-p", "lfs_partition", "1", "--data", ""]),
    ("nvs-bad-id", ["nvs", "delete", "-p", "lfs_partition", "0x1ffff"]),
    ("nvs-import", ["nvs", "import", "-p", "lfs_partition", "{bad_json}"]),
    ("zms-other-kind", ["zms", "write", "-p", "lfs_partition", "1", "--data", "x"]),
    ("feature-other-kind", ["feature", "install", "-p", "lfs_partition", "--ram-base", "0x20000000", "{blob}"]),
    ("feature-no-ram-base", ["feature", "install", "{blob}"]),
    ("feature-remove-none", ["feature", "remove", "--index", "3"]),
    ("flash-store", ["flash", "erase", "-p", "storage_partition"]),
    ("flash-unknown", ["flash", "write", "-p", "slot1_partition", "0x10", "--hex", "00"]),
    ("flash-double-write", ["flash", "write", "-p", "slot1_partition", "0", "--hex", "00", "--force"]),
    ("flash-read-only", ["flash", "write", "-p", "boot_partition", "0x8000", "--hex", "00"]),
    ("hal-import", ["hal", "import-linuxhost", "{linuxhost}"]),
]


@pytest.mark.parametrize("case, argv", WRITER_ERRORS, ids=[c for c, _ in WRITER_ERRORS])
def test_a_failed_writer_leaves_every_image_byte_identical(tmp_path, case, argv):
    img = _demo_with_torn_kv(tmp_path)
    (tmp_path / "bad.csv").write_text("key,type,encoding,value\nok,data,string,x\nbig,data,u8,300\n")
    (tmp_path / "bad.json").write_text('{"items": {"1": "00", "2": "zz"}}')
    (tmp_path / "blob.bin").write_bytes(b"\x01" * 64)
    lh = tmp_path / "lh"
    lh.mkdir()
    (lh / "aos_partition_6.bin").write_bytes(b"\x00" * 16)   # PARAMETER_2 = the KV partition
    subst = {"{bad_csv}": tmp_path / "bad.csv", "{bad_json}": tmp_path / "bad.json",
             "{blob}": tmp_path / "blob.bin", "{linuxhost}": lh}
    argv = [subst.get(a, a) for a in argv]
    before = digest(img)
    r = run(*argv[:2], "--image", img, *argv[2:])
    assert r.exit_code in (1, 2), (r.output, r.exception)
    assert "Traceback" not in r.output and "b'" not in r.output
    assert digest(img) == before
