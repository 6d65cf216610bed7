"""``flashstack torture c`` and ``flashstack torture replay c`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.native.build import compiler_problem

C = Path(__file__).parent / "c"
_PROBLEM = compiler_problem(32)
pytestmark = pytest.mark.skipif(_PROBLEM is not None, reason=f"C tests need gcc -m32: {_PROBLEM}")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("FLASHSTACK_CACHE", str(tmp_path_factory.getbasetemp().parent / "native-cache"))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


STORE = ["--api", "custom", "--source", C / "logstore.c", "--source", C / "logstore_custom.c", "-I", C]


def test_a_planted_defect_fails_with_exit_3_and_a_replay_that_reproduces_it(tmp_path):
    r = run("torture", "c", *STORE, "-D", "LS_PLANT_NO_COMMIT", "--ops", "8", "--jobs", "1", "--json")
    assert r.exit_code == 3, r.output
    doc = json.loads(r.stdout)
    assert not doc["ok"] and doc["failures"] and doc["target_args"][:3] == ["c", "--api", "custom"]
    line = doc["failures"][0]["reproducer"].split()
    assert line[:4] == ["flashstack", "torture", "replay", "c"]
    again = run(*line[1:], "--save", tmp_path / "cut", "--json")
    assert again.exit_code == 3, again.output
    res = json.loads(again.stdout)
    assert res["violations"] == doc["failures"][0]["violations"]
    assert (tmp_path / "cut" / "after.bin").exists()


def test_the_correct_store_passes_with_exit_0():
    r = run("torture", "c", *STORE, "--ops", "8", "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert "PASS" in r.output and "torture c --api custom" in r.output


def test_compare_model_cli_reports_a_difference_with_exit_3(tmp_path):
    r = run("torture", "c", "--api", "zephyr-nvs", "--source", C / "logstore.c", "--source",
            C / "logstore_nvs.c", "-I", C / "include", "-I", C, "--ops", "5", "--compare-model",
            "--save", tmp_path, "--json")
    assert r.exit_code == 3, r.output
    doc = json.loads(r.stdout)
    assert doc["model"] == "nvs" and doc["difference"]["saved"]["c.bin"]


def test_errors_are_one_line_with_exit_1(tmp_path):
    r = run("torture", "c", "--api", "custom", "--source", tmp_path / "missing.c")
    assert r.exit_code == 1 and "missing.c does not exist" in r.output
    bad = tmp_path / "bad.c"
    bad.write_text("int fs_boot(void) { return undefined_thing; }\n")
    r = run("torture", "c", "--api", "custom", "--source", bad)
    assert r.exit_code == 1 and "bad.c:1" in r.output
    r = run("torture", "c", *STORE, "--compare-model")
    assert r.exit_code == 1 and "no store of its own for --api custom" in r.output


def test_an_option_of_another_api_is_refused_naming_its_api(tmp_path):
    """The per-API options come from the registered C targets: one given to another API is an
    error naming the API it belongs to (before anything is compiled)."""
    src = tmp_path / "store.c"
    src.write_text("this is not C\n")
    r = run("torture", "c", "--api", "alios-kv", "--source", src, "--max-features", "3")
    assert r.exit_code == 1 and "--max-features is an option of --api llkernel, not alios-kv" in r.output
    r = run("torture", "c", "--api", "custom", "--source", src, "--sector-size", "0x1000")
    assert r.exit_code == 1 and "--sector-size is an option of --api zephyr-nvs, zephyr-zms" in r.output
    assert "not C" not in r.output   # refused before the compiler ran


def test_help_has_an_example():
    r = run("torture", "c", "--help")
    assert r.exit_code == 0 and "flashstack torture c --api zephyr-nvs" in r.output
