"""The campaign engine on a store written for the tests: a crash-safe append log (must pass
every cut) and the same log with a planted defect (must fail, with a working reproducer)."""

import shlex
from collections import Counter

import pytest

from flashstack.errors import InvalidArgument, NotFound
from flashstack.torture import Campaign, PartitionGeometry, plan, replay, run_campaign
from flashstack.torture.checkpoint import freeze, thaw
from flashstack.torture.engine import select_points


def test_safe_log_store_survives_every_cut_in_every_mode(logkv):
    c = Campaign(logkv.SAFE, workload="mixed", ops=200, seed=3)
    r = run_campaign(c, jobs=1)
    assert r.ok, r.failures[:3]
    assert r.points == r.flash_ops > 200
    assert r.tried == {"clean": r.flash_ops, "prefix": r.flash_ops, "bits": r.flash_ops}
    assert r.gc_checked == r.cuts  # gc_check=1.0: the GC exercise ran after every cut
    assert r.reused < r.cuts


def test_hotkey_storm_compacts_and_survives(logkv):
    c = Campaign(logkv.SAFE, workload="hotkey", ops=150, seed=1)
    p = plan(c)
    assert max(p.counts) > 3  # some steps compact: several flash operations in one step
    r = run_campaign(c, jobs=1)
    assert r.ok, r.failures[:3]


def test_planted_defect_is_caught_with_a_reproducer_that_replays_it(logkv):
    c = Campaign(logkv.DEFECTIVE, workload="mixed", ops=120, seed=5)
    r = run_campaign(c, jobs=1)
    assert not r.ok
    assert set(r.failed) == {"clean", "prefix", "bits"}
    first = r.failures[0]
    assert "holds neither its old nor its new value" in first.violations[0]
    assert "found absent" in first.violations[0]
    assert first.op.startswith("set ")
    # the failing cut is the record write that follows the early tombstone (op 2 of the step)
    assert first.k == 2
    args = shlex.split(first.reproducer)
    assert args[:4] == ["flashstack", "torture", "replay", "custom"]
    assert args[args.index("--cut") + 1] == str(first.index)
    assert args[args.index("--target") + 1] == "torture_logkv:DEFECTIVE"
    again = replay(c, first.index, first.tear)
    assert again.violations == first.violations
    assert (again.step, again.k) == (first.step, first.k)
    for f in r.failures[1:12]:  # every reproducer replays its own verdict
        assert replay(c, f.index, f.tear).violations == f.violations
    # the safe store at the same cut is fine: the finding is the defect, not the harness
    safe = replay(Campaign(logkv.SAFE, workload="mixed", ops=120, seed=5), first.index, first.tear)
    assert safe.ok


def test_replay_saves_images_around_the_cut(logkv, tmp_path):
    c = Campaign(logkv.DEFECTIVE, workload="mixed", ops=120, seed=5)
    f = run_campaign(c, jobs=1, ).failures[0]
    res = replay(c, f.index, "clean", save=tmp_path)
    before, after = (tmp_path / "before.bin").read_bytes(), (tmp_path / "after.bin").read_bytes()
    assert before == after  # a clean cut applies nothing
    assert (tmp_path / "remounted.bin").read_bytes() == res.image_mounted
    torn = replay(c, f.index, "prefix", save=tmp_path / "torn")
    diff = [i for i, (a, b) in enumerate(zip(torn.image_before, torn.image_cut)) if a != b]
    assert torn.image_before == before
    kind, lo, n = torn.cut_at
    assert kind == "write" and n > 0
    assert all(lo <= i < lo + n for i in diff)  # the torn prefix lands inside the interrupted write
    assert "sector headers" in res.dump


def test_cost_per_cut_does_not_grow_with_its_position(logkv):
    calls = Counter()

    class Counting(type(logkv.SAFE)):
        def apply(self, store, area, op):
            calls[op[0] in ("mount", "reboot")] += 1
            return super().apply(store, area, op)

    c = Campaign(Counting(), workload="mixed", ops=80, seed=2, tears=("clean",), gc_check=0.0)
    r = run_campaign(c, jobs=1)
    # one counting run + one uncut run through the steps + exactly one step replay per cut
    assert sum(calls.values()) == 2 * r.steps + r.cuts


def test_results_do_not_depend_on_jobs(logkv):
    c = Campaign(logkv.DEFECTIVE, workload="mixed", ops=60, seed=9, gc_check=0.5)
    one = run_campaign(c, jobs=1)
    two = run_campaign(c, jobs=2)
    assert two.executor == "processes"
    assert (one.tried, one.failed, one.notes, one.gc_checked) == (two.tried, two.failed, two.notes,
                                                                  two.gc_checked)
    assert [(f.index, f.tear, f.violations) for f in one.failures] == \
           [(f.index, f.tear, f.violations) for f in two.failures]


def test_stores_that_only_deep_copy_run_in_parallel_too(logkv):
    c = Campaign(logkv.UNPICKLABLE, workload="mixed", ops=40, seed=9, tears=("clean", "prefix"))
    one, two = run_campaign(c, jobs=1), run_campaign(c, jobs=2)
    assert one.failures and two.executor == "processes"
    assert [(f.index, f.tear, f.violations) for f in one.failures] == \
           [(f.index, f.tear, f.violations) for f in two.failures]


def test_dask_local_cluster_gives_the_same_results(logkv):
    import distributed  # the dask extra (CI installs it: fail, never skip)
    c = Campaign(logkv.DEFECTIVE, workload="mixed", ops=40, seed=4, tears=("clean", "bits"))
    local = run_campaign(c, jobs=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        remote = run_campaign(c, jobs=2, scheduler=cluster.scheduler_address)
    assert remote.executor.startswith("dask:")
    assert [(f.index, f.tear, f.violations) for f in local.failures] == \
           [(f.index, f.tear, f.violations) for f in remote.failures]
    assert local.tried == remote.tried


def test_sampled_cuts_are_seeded_and_cover_every_tear(logkv):
    c = Campaign(logkv.SAFE, workload="mixed", ops=100, seed=1, cuts=25, tears=("prefix", "bits"))
    p = plan(c)
    pts = select_points(p, c)
    assert len(pts) == 25 and pts == sorted(set(pts)) and pts == select_points(plan(c), c)
    assert all(1 <= i <= p.total for i in pts)
    r = run_campaign(c, jobs=1)
    assert r.tried == {"prefix": 25, "bits": 25}
    assert r.ok


def test_plan_locates_cut_points(logkv):
    p = plan(Campaign(logkv.SAFE, workload="mixed", ops=30, seed=1))
    assert p.locate(1) == (0, 1)  # mount of the erased partition is step 0
    step, k = p.locate(p.total)
    assert step == len(p.counts) - 1 - next(i for i, n in enumerate(reversed(p.counts)) if n)
    assert k == p.counts[step]
    with pytest.raises(InvalidArgument, match="outside 1.."):
        p.locate(p.total + 1)


def test_campaign_validation(logkv):
    with pytest.raises(InvalidArgument, match="tear modes"):
        Campaign(logkv.SAFE, tears=("partial",))
    with pytest.raises(InvalidArgument, match="gc_check"):
        Campaign(logkv.SAFE, gc_check=2.0)
    with pytest.raises(InvalidArgument, match="unknown workload"):
        Campaign(logkv.SAFE, workload="nope").steps()
    with pytest.raises(InvalidArgument, match="unknown parameter"):
        Campaign(logkv.SAFE, workload="mixed:colour=3").steps()
    steps = Campaign(logkv.SAFE, workload="mixed:keys=2,delete=0,prefix=0,reboot=0", ops=50).steps()
    assert {s[1] for s in steps[1:]} <= {"a/k00", "b/k01"} and {s[0] for s in steps[1:]} == {"set"}


def test_checkpoint_is_independent_and_shares_the_flash(logkv):
    dev, area = logkv.SAFE.build()
    store = logkv.SAFE.mount(area)
    store.set(b"k", b"v1")
    frozen = freeze(store, [dev, area])
    copy = thaw(frozen, [dev, area])
    assert copy is not store and copy.area is area and copy.live == {b"k": b"v1"}
    copy.live[b"k"] = b"changed"
    assert store.live[b"k"] == b"v1"
    store.unpicklable = lambda: None  # falls back to a deep copy, still sharing the flash
    again = thaw(freeze(store, [dev, area]), [dev, area])
    assert again.area is area and again.live == {b"k": b"v1"} and again is not store


def test_geometry_from_board_and_slicing():
    g = PartitionGeometry.from_board("flashstack-demo", "storage_partition")
    assert (g.size, g.layout, g.label) == (8192, ((2, 4096),), "storage_partition")
    dev, area = PartitionGeometry.from_board("flashstack-demo", "kf_partition").build()
    assert area.address == 0x90000000 and area.size == 0x400000
    with pytest.raises(NotFound):
        PartitionGeometry.from_board("flashstack-demo", "no_such_partition")
    hal = PartitionGeometry.from_board("flashstack-demo", "PARAMETER_2")  # the AliOS HAL name of the KV area
    assert (hal.size, hal.layout, hal.address) == (g.size, g.layout, g.address)
    with pytest.raises(InvalidArgument, match="multiple of erase page"):
        PartitionGeometry.uniform(3000, 1024)


def test_a_store_that_fails_uncut_is_reported_and_the_steps_before_are_cut(logkv):
    class Crashing(type(logkv.SAFE)):
        def kv_set(self, store, key, value):
            if key == "b/k03":
                raise RuntimeError("store bug")
            super().kv_set(store, key, value)

    c = Campaign(Crashing(), workload="mixed:keys=6", ops=60, seed=1, tears=("clean",), gc_check=0.0)
    r = run_campaign(c, jobs=1)
    assert not r.ok and len(r.run_violations) == 1
    assert "raised RuntimeError: store bug" in r.run_violations[0]
    crashed = int(r.run_violations[0].split()[1])
    assert r.steps == crashed and r.cuts == r.flash_ops > 0 and not r.failures


def test_layout_slicing_of_non_uniform_flash():
    from flashstack.torture.target import _slice_layout
    runs = ((4, 16384), (1, 65536), (7, 131072))
    assert _slice_layout(runs, 0, 0x20000) == ((4, 16384), (1, 65536))
    assert _slice_layout(runs, 0x8000, 0x38000) == ((2, 16384), (1, 65536), (1, 131072))
    with pytest.raises(InvalidArgument, match="whole erase pages"):
        _slice_layout(runs, 0x1000, 0x4000)
    g = PartitionGeometry.from_board("nucleo_f429zi", "scratch_partition")
    assert g.layout == ((1, 131072),) and g.size == 0x20000


def test_load_target_accepts_instances_and_factories_only(logkv):
    from flashstack.torture.targets import load_target, target_class
    assert load_target("torture_logkv:DEFECTIVE") is logkv.DEFECTIVE
    assert load_target("torture_logkv:LogKVTarget") == logkv.SAFE  # a class is instantiated
    with pytest.raises(InvalidArgument, match="not a flashstack.torture.Target"):
        load_target("torture_logkv:HDR")
    with pytest.raises(InvalidArgument, match="MODULE:ATTRIBUTE"):
        load_target("torture_logkv")
    with pytest.raises(InvalidArgument, match="no attribute"):
        load_target("torture_logkv:Nope")
    with pytest.raises(InvalidArgument, match="unknown torture target"):
        target_class("littlefs")


def test_uncut_run_checks_every_step_and_progress_is_reported(logkv):
    class Forgetful(type(logkv.SAFE)):
        def kv_set(self, store, key, value):
            super().kv_set(store, key, value)
            if key == "a/k04":
                store.live.pop(key.encode())  # acknowledged, then not readable

    r = run_campaign(Campaign(Forgetful(), workload="mixed:keys=6", ops=40, seed=1, cuts=3), jobs=1)
    assert any("'a/k04' changed" in v for v in r.run_violations)
    seen = []
    run_campaign(Campaign(logkv.SAFE, workload="mixed", ops=40, seed=1), jobs=1,
                 progress=lambda done, total, failed: seen.append((done, total)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 0
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_tear_samples_try_several_tears_per_cut_and_replay_each(logkv):
    c = Campaign(logkv.DEFECTIVE, workload="mixed", ops=60, seed=5, tear_samples=3)
    r = run_campaign(c, jobs=1)
    assert r.tried == {"clean": r.points, "prefix": 3 * r.points, "bits": 3 * r.points}
    variants = [f for f in r.failures if ":" in f.tear]
    assert variants and {f.tear.split(":")[1] for f in variants} <= {"1", "2"}
    f = variants[0]
    assert f"--tear {f.tear}" in f.reproducer
    assert replay(c, f.index, f.tear).violations == f.violations
    # variants are different tears: the prefix kept differs between some of them
    kept = {replay(c, f.index, t).power_loss.split("(")[1] for t in ("prefix", "prefix:1", "prefix:2")}
    assert len(kept) > 1
    with pytest.raises(InvalidArgument, match="variant"):
        replay(c, f.index, "clean:1")
    with pytest.raises(InvalidArgument, match="tear_samples"):
        Campaign(logkv.SAFE, tear_samples=0)
