"""The project's own C NVS (tests/native/c/nvs_own.c) against flashstack's Python NVSStore:
``torture c --api zephyr-nvs --compare-model`` agrees step by step and cut by cut, a planted byte
difference is reported where it is, and the C store passes its campaign."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.flash_map import FlashArea
from flashstack.native import protocol as P
from flashstack.native.build import BuildSpec, compiler_problem
from flashstack.native.compare import compare_model
from flashstack.native.targets import CNVSTarget
from flashstack.nvs import NVSStore
from flashstack.torture import Campaign, run_campaign
from flashstack.torture.target import Geometry
from flashstack.torture.targets.nvs import NVSTarget

C = Path(__file__).parent / "c"
_PROBLEM = compiler_problem(32)
pytestmark = pytest.mark.skipif(_PROBLEM is not None, reason=f"C tests need gcc -m32: {_PROBLEM}")
SOURCE = ["--source", C / "nvs_own.c", "-I", C / "include"]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("FLASHSTACK_CACHE", str(tmp_path_factory.getbasetemp().parent / "native-cache"))


def own_nvs(defines=(), geometry=None) -> CNVSTarget:
    spec = BuildSpec("zephyr-nvs", sources=(str(C / "nvs_own.c"),), includes=(str(C / "include"),),
                     defines=tuple(defines))
    return CNVSTarget(build_spec=spec, **({"geometry": geometry} if geometry else {}))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_compare_model_cli_agrees_step_by_step_and_cut_by_cut():
    r = run("torture", "c", "--api", "zephyr-nvs", *SOURCE, "--workload", "hotkey", "--ops", "60",
            "--compare-model", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["ok"] and doc["model"] == "nvs" and doc["difference"] is None
    assert doc["steps_compared"] == 61
    # hotkey x60 on 3 x 1 KiB closes sectors and collects garbage: those cuts are compared too
    assert doc["cuts_compared"] > 3 * 60 * 2


@pytest.mark.parametrize("geometry,defines,twin", [
    (Geometry.uniform(8192, 4096, write_block_size=4), (), {}),
    (Geometry.uniform(3 * 1024, 1024, write_block_size=1), (), {}),
    (Geometry.uniform(3 * 1024, 1024, write_block_size=8), (), {}),
    (Geometry.uniform(3 * 1024, 1024, write_block_size=4), ("CONFIG_NVS_DATA_CRC=1",), {"data_crc": True}),
], ids=["8k-wb4", "wb1", "wb8", "data-crc"])
def test_compare_model_agrees_on_other_geometries_and_with_data_crc(geometry, defines, twin):
    target = own_nvs(defines, geometry)
    assert target.data_crc == bool(twin)  # the Kconfig option sets the format of the target
    res = compare_model(Campaign(target, workload="mixed", ops=30, seed=3),
                        NVSTarget(geometry=geometry, **twin))
    assert res.ok, res.to_json()["difference"]
    assert res.steps == 31 and res.cuts > 100


def test_a_planted_byte_difference_is_the_first_difference_with_both_images(tmp_path):
    r = run("torture", "c", "--api", "zephyr-nvs", *SOURCE, "-D", "NVS_OWN_PLANT_CLOSE_PART",
            "--workload", "hotkey", "--ops", "60", "--compare-model", "--save", tmp_path, "--json")
    assert r.exit_code == 3, r.output
    d = json.loads(r.output)["difference"]
    # the close ATE of sector 0 (slot L = 1024 - 8) has part 0x00 instead of 0xFF (byte 6); the
    # first cut that differs may tear that write (some of its bits applied)
    assert d["offset"] == 1024 - 8 + 6 and d["model_byte"] == 0xFF and d["c_byte"] != 0xFF
    assert d["where"].startswith("cut ") and d["op"].startswith("set ")
    c_img, m_img = (tmp_path / "c.bin").read_bytes(), (tmp_path / "model.bin").read_bytes()
    assert c_img[d["offset"]] == d["c_byte"] and m_img[d["offset"]] == 0xFF
    assert c_img[:d["offset"]] == m_img[:d["offset"]]  # nothing differs before it
    assert set(d["saved"]) >= {"c.bin", "model.bin"}
    # the variant is a working store: only its bytes differ
    report = run_campaign(Campaign(own_nvs(("NVS_OWN_PLANT_CLOSE_PART",)), workload="hotkey",
                                   ops=30, gc_check=0.0), jobs=1)
    assert report.ok, report.failures[:3]


def test_own_nvs_passes_its_campaign_with_the_gc_exercise():
    report = run_campaign(Campaign(own_nvs(), workload="mixed", ops=40, gc_check=0.25), jobs=1)
    assert report.ok, (report.failures[:3], report.run_violations[:3])
    assert report.gc_checked > 0 and report.cuts > 300


def test_free_space_and_values_agree_with_nvsstore():
    target = own_nvs()
    dev, area = target.build()
    store = target.mount(area)
    for op in target.workload("mixed", 80, 5):
        if op[0] != "reboot":
            target.apply_op(store, op)
    rc, out = store.call(P.OP_SPACE, what="nvs_calc_free_space")
    assert rc == 0
    twin = NVSStore(FlashArea(0, 0, area.size, dev), 1024, 3)
    twin.mount()  # the image is mounted: nothing written, the pointers recovered
    assert int.from_bytes(out, "little", signed=True) == twin.free_space()
    dev.probe_keys = set(range(300))  # nvs_read every id the workload can use, and more
    assert target.observe(store) == dict(twin.items()) != {}
