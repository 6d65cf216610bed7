"""``inspect`` of MCUboot image pairs: reference dumps through a board TOML, and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.inspect import inspect_images
from flashstack.inspect.mcuboot import PairOptions

from .conftest import DATA, load_case


def _board(tmp_path, case: dict) -> str:
    c = case["config"]
    parts = [("slot0_partition", 0, c["primary_size"]), ("slot1_partition", c["primary_size"], c["secondary_size"])]
    if c["scratch_size"]:
        parts.append(("scratch_partition", c["primary_size"] + c["secondary_size"], c["scratch_size"]))
    total = sum(p[2] for p in parts)
    text = (f'name = "vec"\n[[devices]]\nname = "flash0"\nsize = {total}\nerase_page_size = {c["sector_size"]}\n'
            f'write_block_size = {c["write_align"]}\nerase_value = {c["erased_val"]}\n')
    for name, off, size in parts:
        text += f'[[partitions]]\nname = "{name}"\noffset = {off}\nsize = {size}\n'
    path = tmp_path / "vec.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name", ["c04_move_test_before_last_status", "c19_scratch_perm_two_thirds",
                                  "c28_offset_revert_two_thirds", "c41_move_fail_invalid_secondary"])
def test_interrupted_dump_report(tmp_path, name):
    case = load_case(DATA / f"{name}.json")
    c = case["config"]
    opts = PairOptions(mode=c["mode"], max_img_sectors=c["max_img_sectors"])
    report = inspect_images([DATA / case["image"]], board=_board(tmp_path, case), mcuboot=opts)
    (pair,) = report["mcuboot"]
    exp = case["expect"]["status"]
    assert {k: pair["status"][k] for k in ("source", "interrupted", "idx", "state", "swap_size")} == \
        {k: exp[k] for k in ("source", "interrupted", "idx", "state", "swap_size")}
    assert pair["next_boot"]["action"] == case["resume"]["result"]["action"]
    assert pair["next_boot"]["version"] == case["resume"]["result"]["booted_version"]
    assert pair["config"]["source"] == {"mode": "given", "max_align": "detected", "max_img_sectors": "given"}
    assert pair["config"]["max_align"] == c["max_align"]
    if c["mode"] == "swap-offset":
        assert pair["slots"]["primary"]["trailer"]["unprotected_tlv_sizes"] is not None
    else:
        assert "unprotected_tlv_sizes" not in pair["slots"]["primary"]["trailer"]
    if exp["interrupted"]:
        assert pair["summary"].startswith(f"interrupted {c['mode']}")


def test_pending_test_flags_like_mcumgr(tmp_path):
    case = load_case(DATA / "b07_test_revert_lifecycle.json")
    from .conftest import Pair
    pair = Pair(case)
    pair.load(case["initial_image"])
    from flashstack.mcuboot import set_pending
    set_pending(pair.secondary, cfg=pair.cfg)
    dump = tmp_path / "dump.bin"
    dump.write_bytes(pair.dev.snapshot())
    board = _board(tmp_path, case)
    result = CliRunner().invoke(cli, ["inspect", str(dump), "--board", board, "--mcuboot-max-sectors", "32",
                                      "--json"])
    assert result.exit_code == 0, result.output
    (rep,) = json.loads(result.stdout)["mcuboot"]
    assert rep["config"]["mode"] == "swap-scratch" and rep["config"]["source"]["mode"] == "guessed"
    assert rep["swap_type"] == "test"
    assert rep["slots"]["primary"]["flags"] == {"active": True, "confirmed": True, "pending": False,
                                                "permanent": False}
    assert rep["slots"]["secondary"]["flags"] == {"active": False, "confirmed": False, "pending": True,
                                                  "permanent": False}
    assert rep["slots"]["primary"]["image"]["version"] == "1.0.0+0"
    assert rep["slots"]["secondary"]["image"]["version"] == "2.0.0+0"
    assert rep["slots"]["secondary"]["image"]["hash_ok"] is True and len(rep["slots"]["secondary"]["image"]["hash"]) == 64
    assert rep["problems"] == [] and rep["status"]["interrupted"] is False
    assert rep["slots"]["secondary"]["trailer"]["swap_info"] == {"raw": "0x02", "swap_type": 2, "image_num": 0}
    assert rep["next_boot"] == {"action": "swap", "swap_type": "test", "runs": "secondary", "version": "2.0.0+0",
                                "notes": ["signature not verified", "reverts at the following boot unless confirmed"]}
    text = CliRunner().invoke(cli, ["inspect", str(dump), "--board", board, "--mcuboot-max-sectors", "32"])
    assert text.exit_code == 0
    flat = " ".join(text.output.split())      # the text view wraps at the terminal width
    assert "next boot: test swap -> runs 2.0.0+0 (now in secondary); reverts unless confirmed" in flat
    assert "flags pending" in flat
