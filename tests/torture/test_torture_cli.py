"""``flashstack torture`` and ``flashstack torture replay`` through click's runner."""

import json
import shlex

from click.testing import CliRunner

from flashstack.cli.app import cli


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_kv_campaign_json():
    res = run("torture", "kv", "--ops", "30", "--cuts", "40", "--tear", "clean", "--jobs", "1", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] and doc["target"] == "kv" and doc["tried"] == {"clean": 40}
    assert doc["points"] == 40 and doc["cuts_selection"] == 40 and doc["failures"] == []


def test_llkernel_campaign_renders_a_summary_table():
    res = run("torture", "llkernel", "--ops", "4", "--cuts", "30", "-j", "1", "--gc-check", "0.5")
    assert res.exit_code == 0, res.output
    for text in ("tear mode", "cuts tried", "failures", "clean", "prefix", "bits", "cuts/s",
                 "seeded 50% sample", "PASS"):
        assert text in res.output


def test_defective_store_fails_and_its_reproducer_replays(tmp_path):
    res = run("torture", "custom", "--target", "torture_logkv:DEFECTIVE", "--ops", "60", "--seed", "5",
              "-j", "1")
    assert res.exit_code == 3   # failures found: the damage status, apart from errors (1)
    assert "FAIL" in res.output and "FAILED" in res.output
    line = next(x.strip() for x in res.output.splitlines() if x.strip().startswith("flashstack torture replay"))
    args = shlex.split(line)[1:] + ["--save", str(tmp_path)]
    rep = run(*args)
    assert rep.exit_code == 3, rep.output
    assert "VIOLATION" in rep.output and "holds neither its old nor its new value" in rep.output
    assert "LogKV sector headers" in rep.output  # the store's dump of the broken state
    assert {p.name for p in tmp_path.iterdir()} == {"before.bin", "after.bin", "remounted.bin", "cut.json"}
    meta = json.loads((tmp_path / "cut.json").read_text())
    assert meta["ok"] is False and meta["reproducer"] == line


def test_replay_json_of_a_passing_cut():
    res = run("torture", "replay", "nvs", "--ops", "20", "--cut", "3", "--tear", "bits", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] and doc["cut"] == 3 and doc["tear"] == "bits" and '"verdict"' in doc["dump"]


def test_bad_arguments_are_one_line_errors():
    res = CliRunner().invoke(cli, ["torture", "kv", "--tear", "clean,torn"])
    assert res.exit_code == 1 and "error: --tear 'clean,torn'" in res.output
    res = CliRunner().invoke(cli, ["torture", "kv", "--cuts", "many"])
    assert res.exit_code == 1 and "error: --cuts 'many'" in res.output
    res = CliRunner().invoke(cli, ["torture", "replay", "kv", "--ops", "5", "--cut", "100000"])
    assert res.exit_code == 1 and "outside 1.." in res.output
    res = CliRunner().invoke(cli, ["torture", "custom", "--target", "no_such_module:X"])
    assert res.exit_code == 1 and "cannot import" in res.output


def test_geometry_option_round_trips_through_the_reproducer():
    res = run("torture", "nvs", "-g", "4096:1024:8", "--data-crc", "--ops", "30", "--cuts", "10", "-j", "1",
              "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["target_args"] == ["nvs", "--geometry", "4096:1024:8", "--data-crc"]
    res = CliRunner().invoke(cli, ["torture", "kv", "-g", "0x3000:0x1000", "--board", "flashstack-demo"])
    assert res.exit_code == 1 and "exclude each other" in res.output
    res = CliRunner().invoke(cli, ["torture", "kv", "-g", "12k"])
    assert res.exit_code == 1 and "SIZE:PAGE" in res.output


def test_workloads_are_listed_with_their_parameters():
    doc = json.loads(run("torture", "workloads", "--json").output)
    assert set(doc) == {"mixed", "hotkey", "fill", "churn"}
    assert doc["mixed"]["parameters"]["delete"] == 0.15 and doc["churn"]["targets"] == "llkernel"
    assert "hot" in run("torture", "workloads").output


def test_scheduler_option_runs_on_a_dask_cluster():
    import distributed  # the dask extra (CI installs it: fail, never skip)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        res = run("torture", "nvs", "--ops", "20", "--cuts", "15", "--scheduler", cluster.scheduler_address,
                  "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output[res.output.index("{"):])
    assert doc["executor"].startswith("dask:") and doc["cuts"] == 45 and doc["ok"]


def test_kv_options_reach_the_store_and_the_reproducer():
    res = run("torture", "kv", "--align", "8", "--hal", "--ops", "30", "--cuts", "10", "-j", "1", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["target_args"] == ["kv", "--hal", "--align", "8"]
