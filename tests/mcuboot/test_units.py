"""Per-unit builds: CSV rows fill manifest placeholders; a failing row names its line and
writes nothing for that unit."""

from __future__ import annotations

import json

from click.testing import CliRunner

from flashstack.build import build
from flashstack.build.units import build_units
from flashstack.cli.app import cli
from flashstack.inspect import inspect_images


def _setup(tmp_path, rows: str):
    (tmp_path / "app.bin").write_bytes(b"app " * 1000)
    (tmp_path / "cert-A1.der").write_bytes(b"certificate of A1")
    (tmp_path / "cert-A2.der").write_bytes(b"certificate of A2")
    (tmp_path / "manifest.toml").write_text(
        'board = "flashstack-demo"\n[output]\nformats = ["bin"]\n'
        '[partitions.slot0_partition]\ntype = "mcuboot"\nfile = "app.bin"\nsign = true\nversion = "1.0.0"\n'
        'state = "confirmed"\n'
        '[partitions.storage_partition]\ntype = "alios-kv"\nblock_size = 4096\n'
        '[partitions.storage_partition.items]\n"device.serial" = "{serial}"\n"cal.offset" = { u32 = 7 }\n'
        '"device.cert" = { file = "cert-{serial}.der" }\n"wifi.key" = { hex = "{wifi_key}" }\n')
    (tmp_path / "units.csv").write_text(rows)
    return tmp_path / "manifest.toml", tmp_path / "units.csv"


def test_units_fill_placeholders_and_share_static_partitions(tmp_path):
    manifest, units = _setup(tmp_path, "serial,wifi_key\nA1,00112233\nA2,44556677\n")
    out = tmp_path / "out"
    result = build_units(manifest, units, out)
    assert result.built == ["A1", "A2"] and result.failed == []
    for serial, key in (("A1", "00112233"), ("A2", "44556677")):
        report = inspect_images([out / serial])
        (kv,) = [p for p in report["partitions"] if p["partition"] == "storage_partition"]
        assert kv["matches_build"] is True
        rec = json.loads((out / serial / "build.json").read_text())
        assert rec["unit"]["columns"] == {"serial": serial, "wifi_key": key}
    # a plain build of the same manifest with the row filled in gives the same device bytes
    single = tmp_path / "single.toml"
    single.write_text(manifest.read_text().replace("{serial}", "A2").replace("{wifi_key}", "44556677"))
    ref = build(str(single), None)
    assert (out / "A2" / "flash0.bin").read_bytes() == ref.images["flash0"]
    assert (out / "A2" / "qspi0.bin").read_bytes() == ref.images["qspi0"]
    assert (out / "A1" / "qspi0.bin").stat().st_ino == (out / "A2" / "qspi0.bin").stat().st_ino  # shared


def test_failing_rows_name_their_line_and_write_nothing(tmp_path):
    manifest, units = _setup(tmp_path, "serial,wifi_key\nA1,00112233\nB7,00112233\nA2,\nA1,00\n")
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["build", str(manifest), "--units", str(units), "-o", str(out)])
    assert run.exit_code == 1
    assert "units.csv line 3" in run.output and "cert-B7.der" in run.output        # file not found
    assert "units.csv line 4" in run.output and "{wifi_key}" in run.output         # empty column
    assert "units.csv line 5" in run.output and "twice" in run.output
    assert sorted(p.name for p in out.iterdir()) == ["A1"]
    assert "built 1 of 4 units" in run.output
