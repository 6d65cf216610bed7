"""``flashstack feature list|install|remove|dump|size`` on the built-in demo board (kf_partition:
qspi0 0x0+4 MiB at 0x90000000), through click's runner, text and --json."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli

KF = 0x90000000


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Render tables at a fixed wide width, whatever the terminal or COLUMNS of the test run."""
    from flashstack.cli import common
    monkeypatch.setattr(common.console, "_width", 260)  # restored to its own value after


@pytest.fixture
def img(tmp_path):
    r = CliRunner().invoke(cli, ["image", "create", "-o", str(tmp_path / "img")])
    assert r.exit_code == 0, r.output
    return str(tmp_path / "img")


def run(*args, ok=True):
    r = CliRunner().invoke(cli, ["feature", *map(str, args)])
    if ok:
        assert r.exit_code == 0, r.output
    return r


def test_llkernel_cli_install_list_remove(img, tmp_path):
    blob = tmp_path / "app.bin"
    blob.write_bytes(bytes(range(256)) * 20)
    out = json.loads(run("install", "--image", img, "--ram-base", "0x20000000", blob, "--ram", "1000",
                         "--json").output)
    f = out["feature"]
    assert (f["handle"], f["rom_address"], f["rom_size"], f["ram_address"]) == (KF, KF + 32, 5120, 0x20000000)
    run("install", "--image", img, "--ram-base", "0x20000000", blob, "--ram", "16")
    listed = json.loads(run("list", "--image", img, "--json").output)
    assert listed["count"] == 2 and [x["slot"] for x in listed["features"]] == [0, 1]
    assert listed["features"][1]["ram_address"] == 0x20000400
    text = run("list", "--image", img).output
    assert "0x90040000" in text and "2 of 16 slots" in text
    assert "removed" in run("remove", "--image", img, "--index", "0").output
    listed = json.loads(run("list", "--image", img, "--json").output)
    assert [x["slot"] for x in listed["features"]] == [1]
    r = run("remove", "--image", img, "--handle", hex(KF), ok=False)
    assert r.exit_code == 1 and "not the handle of an installed Feature" in r.output
    out = json.loads(run("remove", "--image", img, "--slot", "1", "--json").output)
    assert out == {**out, "removed": KF + 0x40000, "count": 0}


def test_llkernel_cli_dump(img, tmp_path):
    blob = tmp_path / "app.bin"
    blob.write_bytes(b"\x01" * 100)
    for _ in range(3):
        run("install", "--image", img, "--ram-base", "0x20000000", blob)
    run("remove", "--image", img, "--slot", "0")
    d = json.loads(run("dump", "--image", img, "--json").output)
    assert d["count"] == 2 and len(d["slots"]) == 16
    assert [s["state"] for s in d["slots"][:4]] == ["removed", "used", "used", "erased"]
    assert d["slots"][0]["header_hex"] == "a7dc3a00" + "ff" * 28
    assert d["slots"][1]["fields"]["rom_size"] == 100
    assert {a["code"] for a in d["slots"][1]["anomalies"]} == {"stale_feature_index"}
    text = run("dump", "--image", img).output
    assert "removed" in text and "stale_feature_index" in text
    # With N = 4 the same image has headers only at slot starts 0..3 of 1 MiB: slots 1, 2 vanish
    d4 = json.loads(run("dump", "--image", img, "-n", "4", "--json").output)
    assert d4["config"]["slot_size"] == 0x100000 and d4["count"] == 0


def test_llkernel_cli_install_fo(img, tmp_path, make_fo):
    fo = make_fo(tmp_path / "small.fo", [(".rodata", 1, 0x6, 3000, 16),
                                         (".rodata.microej.resources", 1, 0x2, 500, 64),
                                         (".bss.soar.feature", 8, 0x3, 300, 8),
                                         (".soar.rel", 0x70000000, 0, 100, 4)])
    out = json.loads(run("install", "--image", img, "--ram-base", "0x20000000", fo, "--json").output)
    assert 3500 <= out["feature"]["rom_size"] <= out["fo"]["rom_upper"]
    assert out["feature"]["ram_size"] == 307


def test_llkernel_cli_size(tmp_path, make_fo):
    big = make_fo(tmp_path / "app.fo")
    small = make_fo(tmp_path / "small.fo", [(".rodata", 1, 0x6, 3000, 16),
                                            (".bss.soar.feature", 8, 0x3, 300, 8)])
    d = json.loads(run("size", big, small, "--json").output)     # demo kf_partition: 4 MiB
    assert d["files"][0]["rom"] == 0x7A9F4 and d["files"][0]["rom_upper"] == 0x7AA42
    p = d["plan"]
    assert (p["kf_size"], p["slot_size"], p["largest_n"]) == (0x400000, 0x40000, 8)
    assert [r["fits_slot"] for r in p["features"]] == [False, True] and not p["fits_all"]
    d8 = json.loads(run("size", big, small, "-n", "8", "--json").output)
    assert d8["plan"]["fits_all"] and d8["plan"]["slots_used"] == 2
    text = run("size", big, "-n", "8").output
    assert "largest N = 8" in text and "fits" in text
    d2 = json.loads(run("size", small, "--kf-size", "0x10000", "--subsector", "4096", "--json").output)
    assert d2["plan"]["largest_n"] == 16


def test_llkernel_cli_errors(img, tmp_path):
    blob = tmp_path / "app.bin"
    blob.write_bytes(b"\x00" * 10)
    r = run("install", "--image", img, blob, ok=False)
    assert r.exit_code == 1 and "--ram-base" in r.output
    r = run("install", "--image", img, "--ram-base", "0x20000000", "-p", "storage_partition", blob, ok=False)
    assert r.exit_code == 1 and "error:" in r.output and "Traceback" not in r.output
    r = run("list", "--image", img, "-n", "2000", ok=False)
    assert r.exit_code == 1 and "slots do not fit" in r.output
    r = run("remove", "--image", img, ok=False)
    assert r.exit_code == 1 and "exactly one" in r.output
    notelf = tmp_path / "x.fo"
    notelf.write_bytes(b"\x7fELF garbage")
    r = run("size", notelf, ok=False)
    assert r.exit_code == 1 and "not a readable ELF" in r.output


def test_llkernel_cli_size_transfer_buffer(tmp_path, make_fo):
    big = make_fo(tmp_path / "app.fo")
    d = json.loads(run("size", big, "--json").output)
    assert d["files"][0]["transfer_buffer"] == 512 and d["kf_source"] == "partition kf_partition"
    d = json.loads(run("size", big, "--transfer-buffer-size", "2048", "--json").output)
    assert d["files"][0]["transfer_buffer"] == 2048
    text = run("size", big, "--transfer-buffer-size", "2048").output
    assert "transfer buffer" in text and "2048" in text
    r = run("size", big, "--transfer-buffer-size", "0", ok=False)
    assert r.exit_code == 1 and "transfer buffer size 0" in r.output
    r = run("size", big, "--subsector", "0", ok=False)
    assert r.exit_code == 1 and "--subsector 0" in r.output


NONUNIFORM_BOARD = """
name = "mixed_sectors"
[[devices]]
name = "flash0"
layout = [[4, 0x4000], [1, 0x10000], [7, 0x20000]]
base_address = 0x08000000
[[partitions]]
name = "small_kf"
offset = 0
size = 0x8000
[[partitions]]
name = "big_kf"
offset = 0x20000
size = 0x40000
[[partitions]]
name = "mixed_kf"
offset = 0x8000
size = 0x18000
"""


def test_llkernel_cli_size_subsector_from_partition_pages(tmp_path, make_fo):
    """The erase unit is the KF partition's own page size, not 4096 whenever the device is
    non-uniform; a partition over pages of different sizes is an error naming it."""
    board = tmp_path / "mixed.toml"
    board.write_text(NONUNIFORM_BOARD)
    small = make_fo(tmp_path / "small.fo", [(".rodata", 1, 0x6, 3000, 16)])
    for part, sub, slot in (("small_kf", 0x4000, 0x8000), ("big_kf", 0x20000, 0x40000)):
        p = json.loads(run("size", small, "-b", board, "-p", part, "-n", "1", "--json").output)["plan"]
        assert (p["subsector"], p["slot_size"]) == (sub, slot), part
    p = json.loads(run("size", small, "-b", board, "-p", "small_kf", "--json").output)["plan"]
    assert p["largest_n"] == 2 and p["slot_size"] == 0      # 2 subsectors of 16 KiB, N = 16
    r = run("size", small, "-b", board, "-p", "mixed_kf", ok=False)
    assert r.exit_code == 1 and "mixed_kf" in r.output and "not uniform" in r.output
    assert "16384, 65536" in r.output
    p = json.loads(run("size", small, "-b", board, "-p", "mixed_kf", "--subsector", "0x4000",
                       "--json").output)["plan"]
    assert p["subsector"] == 0x4000            # an explicit --subsector is taken as given


MARKUP_BOARD = """
name = "markup"

[[devices]]
name = "nor0"
size = 0x10000
erase_page_size = 0x1000
base_address = 0x60000000

[[partitions]]
name = "[bold]kf[/x]"
offset = 0x0
size = 0x10000
"""


def test_llkernel_cli_markup_in_names_is_printed_literally(tmp_path):
    """Partition labels and file names are data: a stray closing tag must not crash rich."""
    board = tmp_path / "markup.toml"
    board.write_text(MARKUP_BOARD)
    img = tmp_path / "markup.bin"
    r = CliRunner().invoke(cli, ["image", "create", "--board", str(board), "-o", str(img)])
    assert r.exit_code == 0, r.output
    (tmp_path / "[bold]app[").mkdir()
    blob = tmp_path / "[bold]app[" / "x].bin"  # its path holds "[bold]app[/x].bin"
    blob.write_bytes(b"\x02" * 64)
    common = ("--board", board, "--image", img, "-n", "4", "-p", "[bold]kf[/x]")
    out = run("install", *common, "--ram-base", "0x20000000", blob).output
    assert "[bold]app[/x].bin" in out
    d = json.loads(run("dump", *common, "--json").output)
    assert d["count"] == 1 and d["partition"] == "[bold]kf[/x]"
    text = run("dump", *common).output
    assert text.startswith("[bold]kf[/x]: KF 0x60000000+0x10000") and "used" in text
    assert "[bold]kf[/x]: 1 of 4 slots" in run("list", *common).output


def test_install_over_a_torn_slot_needs_repair_and_changes_nothing_without(img, tmp_path):
    """Issue 10: an install that would erase a slot holding an interrupted allocation (a
    status word neither USED, REMOVED nor erased) is refused unless --repair, image unchanged;
    with --repair it takes that slot."""
    import hashlib
    from pathlib import Path
    blob = tmp_path / "app.bin"
    blob.write_bytes(b"\x5a" * 300)
    run("install", "--image", img, "--ram-base", "0x20000000", blob)
    slot = json.loads(run("list", "--image", img, "--json").stdout)["config"]["slot_size"]
    torn = CliRunner().invoke(cli, ["flash", "write", "--image", img, "-p", "kf_partition",
                                    hex(slot), "--hex", "78 56 34 12", "--force"])
    assert torn.exit_code == 0, torn.output

    def digest():
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(img).iterdir()}
    before = digest()
    r = run("install", "--image", img, "--ram-base", "0x20000000", blob, ok=False)
    assert r.exit_code == 1 and "--repair" in r.stderr and "slot 1" in r.stderr
    assert "0x12345678" in r.stderr and "Traceback" not in r.output
    assert digest() == before
    out = json.loads(run("install", "--image", img, "--ram-base", "0x20000000", blob, "--repair",
                         "--json").stdout)
    assert out["feature"]["slot"] == 1
