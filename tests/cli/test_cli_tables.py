"""Tables readable at 80 columns (issue 10): no line wider than 80, partition and key names
never split, low-value columns dropped first (and said so)."""

import os

import pytest
from rich.console import Console
from rich.table import Table

from flashstack.cli import common
from flashstack.cli.tables import fit, short_path

DEMO_PARTITIONS = ("boot_partition", "storage_partition", "slot0_partition", "slot1_partition",
                   "scratch_partition", "kf_partition", "lfs_partition")


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")          # as a user's 80-column terminal says
    monkeypatch.setattr(common.console, "width", 80)


def _check(out: str, names) -> None:
    for line in out.splitlines():
        assert len(line) <= 80, line
    for name in names:
        assert name in out, name          # whole, on one line


@pytest.fixture
def built(run, tmp_path):
    out = tmp_path / "build"
    run("build", "-o", out, "-f", "bin")
    return out


def test_inspect_at_80_columns(run, built, narrow):
    out = run("inspect", built).stdout
    _check(out, DEMO_PARTITIONS)
    assert "not shown: offset, device" in out


def test_board_show_at_80_columns(run, narrow):
    out = run("board", "show").stdout
    _check(out, DEMO_PARTITIONS)
    assert "not shown: label" in out


def test_kv_and_nvs_lists_at_80_columns(run, demo_img, narrow):
    key = "a.rather.long.configuration.key.name_that_must_stay_whole"
    run("kv", "set", "--image", demo_img, key, "v " * 40)
    _check(run("kv", "list", "--image", demo_img).stdout, [key])
    run("image", "create", "-o", demo_img, "--force")
    run("nvs", "write", "--image", demo_img, "storage_partition", "--settings",
        "bt/a_long_setting_name_that_must_stay_whole", "--data", "x " * 40)
    _check(run("nvs", "list", "--image", demo_img, "storage_partition", "--settings").stdout,
           ["bt/a_long_setting_name_that_must_stay_whole"])


def test_plan_at_80_columns(run, narrow):
    out = run("plan", "--keys", "10", "--samples", "100").stdout
    _check(out, ["0x2000", "2 x 4096"])


def test_wear_summary_at_80_columns(run, narrow):
    out = run("wear", "--store", "zephyr-nvs", "--size", "0x3000", "--unit-size", "0x1000",
              "--keys", "20", "--samples", "500").stdout
    _check(out, ["page   0 @ 0x000000"])
    assert "erases per 1000 writes" in " ".join(out.split())


def test_torture_failures_at_80_columns(run, narrow, monkeypatch):
    """The summary and FAIL lines wrap at word boundaries; each reproducer stays one line
    (a command to copy)."""
    import sys
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "torture"))
    sys.modules.pop("torture_logkv", None)
    res = run("torture", "custom", "--target", "torture_logkv:DEFECTIVE", "--ops", "60",
              "--seed", "5", "-j", "1", ok=False)
    assert res.exit_code == 3, res.output
    lines = res.stdout.splitlines()
    repro = [x for x in lines if x.strip().startswith("flashstack torture replay")]
    assert repro and all(x.endswith(("--tear clean", "--tear prefix", "--tear bits")) for x in repro)
    _check("\n".join(x for x in lines if x not in repro), [])
    assert "holds neither its old nor its new value" in " ".join(res.stdout.split())


def test_fit_drops_in_order_and_keeps_names_whole():
    console = Console(width=40, record=True)
    t = Table()
    for col in ("name", "detail", "extra", "more"):
        t.add_column(col, overflow="fold")
    t.add_row("storage_partition", "words that can wrap", "0x12345678", "0x9abcdef0")
    fit(t, console, names=("name",), drop=("more", "extra", "detail"))
    assert [str(c.header) for c in t.columns] == ["name", "detail"]
    console.print(t)
    text = console.export_text()
    assert "storage_partition" in text and all(len(x) <= 40 for x in text.splitlines())
    assert "not shown: more, extra" in text


def test_short_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert short_path(tmp_path / "build" / "flash0.bin") == os.path.join("build", "flash0.bin")
    long = os.sep + os.sep.join(["very-long-folder-name"] * 6 + ["flash0.bin"])
    s = short_path(long, 40)
    assert len(s) <= 40 and s.endswith("flash0.bin") and s.startswith("…")
