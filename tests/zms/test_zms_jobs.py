"""ZMS in the jobs: build (by id, Settings by name), inspect (detection from the bytes,
details, verdicts), boardless scan, and the build -> inspect -> CLI edit -> inspect round trip."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from flashstack.build import build
from flashstack.build.manifest import ManifestError
from flashstack.cli.app import cli
from flashstack.inspect import inspect_images
from flashstack.inspect._identify import PartitionView, identify
from flashstack.inspect.scan import scan_image
from flashstack.zms import ZMSStore
from flashstack.zms.settings import name_id_of

from .conftest import make_area

STORAGE = 0x1E000


@pytest.fixture
def manifest(tmp_path):
    def make(text: str):
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        (src / "manifest.toml").write_text(text)
        return src / "manifest.toml"
    return make


def _parts(out):
    return {p["partition"]: p for p in inspect_images([out], details=True)["partitions"]}


def test_build_by_id_and_inspect(manifest, tmp_path):
    m = manifest('[partitions.storage_partition]\ntype = "zephyr-zms"\ndata_crc = true\n'
                 '[partitions.storage_partition.items]\n"1" = "one"\n'
                 '"0x12345678" = { hex = "' + "ab" * 40 + '" }\n')
    build(m, tmp_path / "out")
    part = _parts(tmp_path / "out")["storage_partition"]
    assert part["kind"] == "zephyr-zms" and part["health"] == "ok"
    z = part["zms"]
    assert z["items"] == {"1": b"one".hex(), str(0x12345678): "ab" * 40}
    assert (z["config"]["sector_size"], z["config"]["sector_count"]) == (4096, 2)
    assert z["config"]["data_crc"] is True      # from the build record
    assert z["verdict"] == "healthy" and z["sector_cycles"][0] == 1
    assert part["matches_build"] is True
    assert "scan" in z and z["scan"]["ates"]


def test_inspect_finds_geometry_without_a_record(tmp_path):
    _, area = make_area(2048, 4, 4, page=1024)
    st = ZMSStore(area, 2048, 4, data_crc=True)
    st.mount()
    st.write(5, b"a value with a data CRC")
    st.use_next_sector()
    rep = identify(PartitionView("storage", area.read(0, area.size), area, erase_page=1024,
                                 write_block=4))
    assert rep["kind"] == "zephyr-zms"
    cfg = rep["zms"]["config"]
    assert (cfg["sector_size"], cfg["sector_count"], cfg["data_crc"]) == (2048, 4, True)
    assert "greatest common divisor" in cfg["sources"]["sector_size"]
    assert rep["zms"]["items"] == {"5": b"a value with a data CRC".hex()}


def test_inspect_erase_less_and_damaged(tmp_path):
    dev, area = make_area(1024, 3, 16, explicit_erase=False)
    st = ZMSStore(area)
    st.mount()
    for i in range(6):
        st.write(1, bytes([i]) * 20)
        st.use_next_sector()
    rep = identify(PartitionView("rram", area.read(0, area.size), area, erase_page=None,
                                 write_block=16))
    assert rep["kind"] == "zephyr-zms" and "erase-less" in rep["summary"]
    assert rep["zms"]["config"]["explicit_erase"] is False
    assert max(c for c in rep["zms"]["sector_cycles"] if c) > 1
    # damage the newest ATE's CRC: the partition is reported damaged, nothing is written
    img = bytearray(dev.snapshot())
    pos = st.ate_wra + 16
    img[pos] ^= 0xFF
    dev.restore(bytes(img))
    before = dev.snapshot()
    rep = identify(PartitionView("rram", area.read(0, area.size), area, erase_page=None,
                                 write_block=16))
    assert dev.snapshot() == before
    assert rep["zms"]["verdict"] in ("damaged", "healthy")


def test_build_errors(manifest, tmp_path):
    m = manifest('[partitions.storage_partition]\ntype = "zephyr-zms"\n'
                 '[partitions.storage_partition.items]\n"0xffffffff" = "x"\n')
    with pytest.raises(ManifestError, match="header id"):
        build(m, tmp_path / "out")
    m = manifest('[partitions.storage_partition]\ntype = "zephyr-zms"\n'
                 '[partitions.storage_partition.items]\n"1" = { hex = "' + "00" * 5000 + '" }\n')
    with pytest.raises(ManifestError, match="cannot build the store"):
        build(m, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def run(*args, code=0):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code == code, (r.output, r.exception)
    return r


def test_settings_round_trip_build_inspect_cli_inspect(manifest, tmp_path):
    m = manifest('[partitions.storage_partition]\ntype = "zephyr-zms"\nsettings = true\n'
                 '[partitions.storage_partition.items]\n"bt/name" = "dev1"\n'
                 '"app/mode" = { u8 = 3 }\n')
    out = tmp_path / "out"
    build(m, out)
    part = _parts(out)["storage_partition"]
    assert part["zms"]["settings"] == {"bt/name": b"dev1".hex(), "app/mode": "03"}
    assert str(name_id_of("bt/name")) in part["zms"]["items"]
    run("zms", "write", "--image", out, "-p", "storage_partition", "--settings", "bt/name",
        "--data", "dev2")
    run("zms", "delete", "--image", out, "-p", "storage_partition", "--settings", "app/mode")
    part = _parts(out)["storage_partition"]
    assert part["zms"]["settings"] == {"bt/name": b"dev2".hex()}
    assert part["matches_build"] is False and part["health"] == "ok"
    # changed since the build: inspect exits 3 (a difference from the build record)
    shown = run("inspect", out, "--details", "--partition", "storage_partition", code=3).stdout
    assert "Zephyr ZMS" in shown and "bt/name" in shown


def test_boardless_scan_finds_zms(manifest, tmp_path):
    m = manifest('[partitions.storage_partition]\ntype = "zephyr-zms"\nsettings = true\n'
                 '[partitions.storage_partition.items]\n"x/y" = "z"\n')
    out = tmp_path / "out"
    build(m, out)
    data = (out / "flash0.bin").read_bytes()
    rep = scan_image(data)
    assert "Zephyr ZMS" in rep["summary"]
    [z] = rep["zms_stores"]
    # one header (sector 0) only: the sector size is not guessed
    assert z["offset"] == STORAGE + 4096 - 16 and z["sector_size"] is None
    for name, size in (("big", 900), ("big2", 900), ("big3", 900), ("big", 900), ("big2", 900)):
        # the last rewrite does not fit sector 0: the store enters sector 1
        run("zms", "write", "--image", out, "-p", "storage_partition", "--settings", name,
            "--hex", "5a" * size)
    [z] = scan_image((out / "flash0.bin").read_bytes())["zms_stores"]
    assert (z["offset"], z["sector_size"], z["verdict"]) == (STORAGE, 4096, "healthy")
    assert name_id_of("x/y") in z["ids"] and z["settings"] == ["big", "big2", "big3", "x/y"]
