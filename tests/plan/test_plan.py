"""Sizing and lifetime planning: measured on the real stores, checked against first principles."""

import json

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.errors import InvalidArgument
from flashstack.plan import Workload, measure, plan


def test_more_blocks_wear_less_and_the_smallest_sufficient_size_is_recommended():
    w = Workload(keys=50, writes_per_day=2000)
    report = plan("alios-kv", workload=w, target_years=10, sample_writes=3000)
    cands = report.candidates
    assert len(cands) >= 2
    # every candidate before the recommended one fails the target, the recommended meets it
    assert all(not c.meets_target for c in cands[:-1])
    assert report.recommended is cands[-1] and report.recommended.meets_target
    # a bigger store erases less often per update (less GC copying)
    assert cands[0].erases_per_1000_writes > cands[-1].erases_per_1000_writes
    assert cands[0].lifetime_years < cands[-1].lifetime_years


def test_lifetime_follows_from_the_measured_wear_of_the_worst_page():
    w = Workload(keys=10, writes_per_day=100)
    c = measure("zephyr-nvs", 3, 4096, w, rated_cycles=10_000, sample_writes=2000)
    assert c.fits
    per_write = max(c.page_cycles) / 2000
    assert c.max_page_cycles_per_write == pytest.approx(per_write)
    assert c.lifetime_years == pytest.approx(10_000 / (per_write * 100) / 365.25)
    # NVS programs one 8-byte ATE and the 32-byte value per update (write block 1): 40/32
    # before GC copies, so amplification is at least that
    assert c.write_amplification >= 40 / 32


def test_a_live_set_larger_than_the_store_does_not_fit():
    w = Workload(keys=200, key_size=32, value_size=200)
    c = measure("alios-kv", 2, 4096, w, sample_writes=10)
    assert not c.fits and "does not fit" in c.reason
    assert c.lifetime_years is None


def test_bad_workload_and_store_are_refused():
    with pytest.raises(InvalidArgument):
        plan(workload=Workload(keys=0))
    with pytest.raises(InvalidArgument):
        measure("fat32", 2, 4096, Workload())


def test_plan_and_wear_commands():
    run = CliRunner()
    r = run.invoke(cli, ["plan", "--keys", "20", "--writes-per-day", "500", "--samples", "1000", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["recommended"]["meets_target"] and data["chip"] == "w25q128jv"
    r = run.invoke(cli, ["wear", "--store", "zephyr-nvs", "--size", "0x3000", "--unit-size", "0x1000",
                         "--keys", "20", "--samples", "500"])
    assert r.exit_code == 0, r.output
    assert r.output.count("page ") == 3 and "erases per 1000 writes" in r.output
    r = run.invoke(cli, ["plan", "--chip", "nope"])
    assert r.exit_code == 1 and "nope" in r.output


@pytest.mark.parametrize("keys, key_size", [(100, 2), (256, 1), (2000, 3), (50, 16)])
def test_workload_keys_are_distinct_and_of_the_given_size(keys, key_size):
    w = Workload(keys=keys, key_size=key_size)
    w.check()
    made = [w.key(i) for i in range(keys)]
    assert len(set(made)) == keys and {len(k) for k in made} == {key_size}


def test_more_keys_than_the_key_size_tells_apart_are_refused():
    with pytest.raises(InvalidArgument, match="300 distinct keys"):
        Workload(keys=300, key_size=1).check()


def test_wear_refuses_a_size_that_is_not_whole_units():
    r = CliRunner().invoke(cli, ["wear", "--size", "0x2800", "--unit-size", "0x1000", "--samples", "10"])
    assert r.exit_code == 1
    assert "--size 0x2800 is not a whole number of --unit-size 0x1000 units" in r.output


def test_json_of_an_unworn_store_is_strict_json():
    """No page erased during the sample: lifetime is unbounded (inf in Python, "forever" in the
    table) and null in JSON, which has no Infinity."""
    args = ["wear", "--size", "0x40000", "--unit-size", "0x1000", "--keys", "5", "--samples", "10"]
    r = CliRunner().invoke(cli, args + ["--json"])
    assert r.exit_code == 0, r.output

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")
    data = json.loads(r.stdout, parse_constant=refuse)
    assert data["fits"] and data["max_page_cycles_per_write"] == 0 and data["lifetime_years"] is None
    out = " ".join(CliRunner().invoke(cli, args).stdout.split())   # as one line at any width
    assert "lifetime unbounded (no erase in the sample)" in out
