"""``flashstack build`` and ``flashstack inspect`` from the command line (in process)."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from flashstack.cli.app import cli


def _run(*args, cwd=None):
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(cli, [str(a) for a in args])
    finally:
        os.chdir(old)


def test_build_without_arguments_builds_the_demo_into_build(tmp_path):
    r = _run("build", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    out = tmp_path / "build"
    assert sorted(p.name for p in out.iterdir()) == ["build.json", "flash0.bin", "image.hex", "qspi0.bin"]
    for fragment in ("flashstack build: board flashstack-demo", "storage_partition", "alios-kv: 6 keys",
                     "llkernel: 0 features / 16 slots", "littlefs: 3 files", "boot_partition (ro)",
                     "wrote build/build.json"):
        assert fragment in r.stdout, fragment
    r = _run("inspect", "build", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "AliOS KV: 6 keys" in r.stdout and "MCUboot image v1.0.0+0" in r.stdout


def test_build_json_and_check_only(tmp_path):
    r = _run("build", "--check", "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    record = json.loads(r.stdout)
    assert record["board"] == "flashstack-demo" and len(record["partitions"]) == 7
    assert not (tmp_path / "build").exists()


def test_build_error_is_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "m.toml").write_text('[partitions.nope]\nfile = "x.bin"\n')
    r = _run("build", "m.toml", "-o", "out", cwd=tmp_path)
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "unknown partition label 'nope'" in lines[0]
    assert "Traceback" not in r.output and not (tmp_path / "out").exists()


def test_inspect_json_partition_details(tmp_path):
    assert _run("build", "-f", "bin", cwd=tmp_path).exit_code == 0
    r = _run("inspect", "build", "-p", "storage_partition", "--details", "--json", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert [p["partition"] for p in rep["partitions"]] == ["storage_partition"]
    part = rep["partitions"][0]
    assert part["kind"] == "alios-kv" and part["matches_build"] is True
    assert bytes.fromhex(part["kv"]["items"]["device.serial"]) == b"FS-000001"
    assert "scan" in part["kv"]
    r = _run("inspect", "build", "-p", "storage_partition", "--details", cwd=tmp_path)
    assert "device.serial" in r.stdout and "FS-000001" in r.stdout
    # the KV layer's own dump view follows: blocks, records, verdict
    assert "KV blocks on storage_partition" in r.stdout and "verdict: ok" in r.stdout
    r = _run("inspect", "build", "-p", "kf_partition", "--details", cwd=tmp_path)
    assert "kf_partition: KF 0x90000000+0x400000, 16 slots of 0x40000, 0 used" in r.stdout


def test_inspect_errors(tmp_path):
    assert _run("build", "-f", "bin", cwd=tmp_path).exit_code == 0
    r = _run("inspect", "build", "--details", cwd=tmp_path)
    assert r.exit_code == 1 and "--details needs --partition" in r.stderr
    r = _run("inspect", "build", "-p", "nope", cwd=tmp_path)
    assert r.exit_code == 1 and "nope" in r.stderr and "Traceback" not in r.output


def test_inspect_boardless_raw_image(tmp_path):
    assert _run("build", "-f", "bin", cwd=tmp_path).exit_code == 0
    dump = tmp_path / "dump.bin"
    dump.write_bytes((tmp_path / "build" / "flash0.bin").read_bytes())
    r = _run("inspect", dump, "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["board"] is None
    assert [(g["offset"], g["block_size"], g["blocks"]) for g in rep["kv_stores"]] == [(0x1e000, 4096, 2)]
    assert [m["offset"] for m in rep["mcuboot"]] == [0x20000]
    r = _run("inspect", dump)
    assert "no board" in r.stdout and "AliOS KV stores" in r.stdout and "0x1e000" in r.stdout


def test_inspect_one_image_of_two_devices(tmp_path):
    """`inspect build/flash0.bin`: the qspi0 partitions are "absent", neither erased nor CHANGED."""
    assert _run("build", "-f", "bin", cwd=tmp_path).exit_code == 0
    r = _run("inspect", "build/flash0.bin", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "note: no image for device qspi0: its partitions are not inspected" in r.stdout
    rows = {line.split("│")[1].strip(): line for line in r.stdout.splitlines() if line.count("│") > 2}
    for name in ("kf_partition", "lfs_partition"):
        cells = [c.strip() for c in rows[name].split("│")[1:-1]]
        assert cells[4:] == ["absent", "no image for device qspi0", "-"], cells
    assert "erased" not in r.stdout.split("kf_partition")[1] and "CHANGED" not in r.stdout
    assert [c.strip() for c in rows["storage_partition"].split("│")[1:-1]][-1] == "yes"


def test_names_from_the_image_are_printed_literally(tmp_path):
    """File names, paths and build folders are data: rich markup in them is printed as written."""
    (tmp_path / "[bold]boot.bin").write_bytes(b"\x00" * 64)
    (tmp_path / "fs").mkdir()
    (tmp_path / "fs" / "[red]a.txt").write_text("x")
    (tmp_path / "m.toml").write_text(
        '[partitions.boot_partition]\nfile = "[bold]boot.bin"\n'
        '[partitions.lfs_partition]\ntype = "littlefs"\ndir = "fs"\n')
    r = _run("build", "m.toml", "-o", "[o]", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "file [bold]boot.bin (64 B)" in r.stdout and "wrote [o]/build.json" in r.stdout
    r = _run("inspect", "[o]", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "(built from [bold]boot.bin)" in r.stdout
    r = _run("inspect", "[o]", "-p", "lfs_partition", "--details", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "/[red]a.txt" in r.stdout


def test_inspect_nvs_details_show_the_nvs_dump_view(tmp_path, examples_dir):
    manifest = examples_dir / "nrf52840dk_nrf52840" / "manifest.toml"
    assert _run("build", manifest, "-o", "out", cwd=tmp_path).exit_code == 0
    r = _run("inspect", "out", "-p", "storage_partition", "--details", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    assert "hw/serial" in r.stdout   # Settings table of inspect
    # the NVS layer's own dump view follows
    assert "partition storage_partition: Zephyr NVS, 8 x 4096 B sectors, write block 4" in r.stdout
