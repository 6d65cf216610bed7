"""Power-loss campaigns on ZMS and Settings on ZMS (every cut, three tear modes), NOR and
erase-less devices; the reproducer line rebuilds the same target."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.cli.torture import build_target
from flashstack.torture import Campaign, PartitionGeometry, run_campaign
from flashstack.torture.targets.zms import ZMSSettingsTarget, ZMSTarget


@pytest.mark.parametrize("target, workload, ops", [
    (ZMSTarget(), "mixed", 50),
    (ZMSTarget(), "hotkey", 40),
    (ZMSTarget(geometry=PartitionGeometry.uniform(3072, 1024, write_block_size=16), erase_less=True),
     "mixed", 40),
    (ZMSTarget(data_crc=True), "fill", 40),
    (ZMSTarget(id_64bit=True, geometry=PartitionGeometry.uniform(2048, 1024, write_block_size=8)),
     "mixed", 30),
    (ZMSSettingsTarget(), "mixed", 25),
    (ZMSSettingsTarget(geometry=PartitionGeometry.uniform(4096, 1024, write_block_size=16),
                       erase_less=True), "mixed", 20),
])
def test_campaign_every_cut_three_tears(target, workload, ops):
    report = run_campaign(Campaign(target, workload=workload, ops=ops, seed=1,
                                   tears=("clean", "prefix", "bits"), gc_check=0.3), jobs=1)
    assert report.cuts > 3 * 30
    assert report.ok, [f.violations for f in report.failures[:3]]
    assert report.gc_checked > 0


def test_erase_less_exercise_completes_without_erases():
    t = ZMSTarget(geometry=PartitionGeometry.uniform(3072, 1024, write_block_size=16), erase_less=True)
    dev, area = t.build()
    store = t.mount(area)
    store.write(1, b"x" * 40)
    assert t.exercise(store, area, {1: b"x" * 40}) == []
    assert dev.stats.flash_erase_calls == 0


@pytest.mark.parametrize("args", [
    ["zms", "--data-crc", "--erase-less", "--geometry", "0x1800:0x400:16"],
    ["settings", "--backend", "zms", "--geometry", "0x1000:0x400:4"],
])
def test_cli_args_rebuild_the_target(args):
    from flashstack.cli import torture as cli_torture
    kind = args[0]
    cmd = cli_torture.torture.get_command(None, kind)
    ctx = cmd.make_context(kind, args[1:])
    target = build_target(kind, ctx.params)
    again = cmd.make_context(kind, target.cli_args()[1:])
    assert build_target(kind, again.params) == target
    assert target.cli_args()[0] == kind


def test_torture_cli_and_replay():
    r = CliRunner().invoke(cli, ["torture", "zms", "--ops", "12", "--jobs", "1", "--json"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["torture", "replay", "settings", "--backend", "zms", "--ops", "8",
                                 "--cut", "3", "--tear", "prefix"])
    assert r.exit_code == 0, r.output
    assert "PASS" in r.output and "sector" in r.output
    r = CliRunner().invoke(cli, ["torture", "nvs", "--erase-less", "--ops", "5"])
    assert r.exit_code != 0
