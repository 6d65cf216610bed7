"""plan / wear for ZMS on NOR and on erase-less memories, next to NVS for the same pattern."""

from __future__ import annotations

import json

from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.plan import Workload, measure, plan


def test_measure_zms_nor_and_erase_less():
    w = Workload(keys=20, value_size=32, writes_per_day=1000)
    nor = measure("zephyr-zms", 3, 4096, w, write_block=4, sample_writes=1500)
    rram = measure("zephyr-zms", 3, 4096, w, write_block=16, sample_writes=1500, erase_less=True)
    nvs = measure("zephyr-nvs", 3, 4096, w, write_block=4, sample_writes=1500)
    for c in (nor, rram, nvs):
        assert c.fits and c.lifetime_years and c.lifetime_years > 0
    assert nor.wear_unit == "erase cycles" and sum(nor.page_cycles) > 0
    assert rram.wear_unit == "page rewrites" and rram.erases_per_1000_writes == 0
    assert min(rram.page_cycles) > 0          # every sector restarted (cycle counter wear)
    # the same pattern costs ZMS more bytes than NVS (16-byte ATEs against 8-byte ones)
    assert nor.write_amplification > nvs.write_amplification


def test_plan_recommends_a_zms_size():
    rep = plan("zephyr-zms", chip="w25q64jv", workload=Workload(keys=30, value_size=20,
                                                              writes_per_day=100),
               target_years=5, sample_writes=800)
    assert rep.recommended is not None and rep.recommended.meets_target
    assert rep.store == "zephyr-zms"


def test_cli_plan_and_wear_erase_less():
    r = CliRunner().invoke(cli, ["plan", "--store", "zephyr-zms", "--erase-less", "--write-block",
                                 "16", "--keys", "20", "--samples", "500", "--years", "1",
                                 "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["write_block"] == 16 and rep["candidates"][0]["wear_unit"] == "page rewrites"
    r = CliRunner().invoke(cli, ["wear", "--store", "zephyr-zms", "--size", "0x3000",
                                 "--unit-size", "0x1000", "--keys", "10", "--samples", "400",
                                 "--erase-less"])
    assert r.exit_code == 0 and "page rewrites" in r.output
