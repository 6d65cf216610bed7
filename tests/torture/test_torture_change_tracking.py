"""Cuts restore and compare only the byte ranges a step changed (device change tracking,
docs/device.md DEV-49): the campaign's results must be exactly those of the path that copies
and hashes the whole image per cut (verdicts, violations, reproducers, notes, reused images)."""

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss
from flashstack.torture import Campaign, PartitionGeometry, run_campaign
from flashstack.torture import engine
from flashstack.torture.targets.kv import KVTarget


def _report(campaign, monkeypatch, tracked: bool):
    with monkeypatch.context() as m:
        if not tracked:
            m.setattr(engine, "_track", lambda dev: False)
        r = run_campaign(campaign, jobs=1)
    return (r.flash_ops, r.points, r.tried, r.failed, r.notes, r.gc_checked, r.reused, r.run_violations,
            [(f.index, f.tear, f.step, f.k, f.op, f.violations, f.reproducer) for f in r.failures])


def _campaigns(logkv):
    kv3 = KVTarget(geometry=PartitionGeometry.uniform(12288, 4096, allow_double_writes=True))
    return [Campaign(logkv.DEFECTIVE, workload="mixed", ops=120, seed=5),
            Campaign(logkv.SAFE, workload="hotkey", ops=100, seed=1, tears=("clean", "prefix", "bits", "unstable")),
            Campaign(KVTarget(), workload="mixed", ops=150, seed=1, gc_check=0.3),
            Campaign(kv3, workload="fill", ops=120, seed=2, gc_check=0.3, tear_samples=2)]


@pytest.mark.parametrize("which", range(4))
def test_tracked_cuts_give_the_full_copy_results(which, logkv, monkeypatch):
    c = _campaigns(logkv)[which]
    fast = _report(c, monkeypatch, True)
    full = _report(c, monkeypatch, False)
    assert fast == full
    assert fast[6] > 0, "some cuts must reuse the verdict of an identical image"
    if which == 0:
        assert fast[8], "the defective store must have findings"


def test_restore_changed_puts_back_exactly_the_image():
    dev = SimulatedFlash(16384, erase_page_size=4096, allow_double_writes=True)
    dev.write(100, b"\x00\x11\x22")
    base = dev.snapshot()
    dev.track_changes()
    assert dev.tracking and dev.changed_ranges() == []
    dev.write(5000, b"abc")
    dev.erase(0, 4096)
    dev.write(4098, b"\x01")
    assert dev.changed_ranges() == [(0, 4096), (4098, 4099), (5000, 5003)]
    assert dev.snapshot() != base
    dev.restore_changed(base)
    assert dev.snapshot() == base and dev.changed_ranges() == []
    dev.arm_power_cut(1, mode="torn", tear="bits", seed=3)
    with pytest.raises(PowerLoss):
        dev.erase(8192, 8192)
    dev.power_restore()
    assert dev.changed_ranges() == [(8192, 16384)]
    dev.restore_changed(base)
    assert dev.snapshot() == base
    dev.untrack_changes()
    assert not dev.tracking
