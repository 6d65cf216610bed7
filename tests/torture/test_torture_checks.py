"""The invariant checks themselves can fail: each is shown catching a broken state."""

from dataclasses import dataclass

from flashstack.kv import encode_record
from flashstack.torture import Campaign, Geometry, check_dict, run_campaign
from flashstack.torture.targets.kv import KVTarget
from flashstack.torture.targets.llkernel import FeatureTarget


def test_check_dict_rules():
    before, after = {"a": b"1", "b": b"2"}, {"a": b"9", "b": b"2"}
    assert check_dict({"a": b"1", "b": b"2"}, before, after) == []      # old
    assert check_dict({"a": b"9", "b": b"2"}, before, after) == []      # new
    bad = check_dict({"b": b"2"}, before, after)
    assert len(bad) == 1 and "'a' holds neither" in bad[0] and "found absent" in bad[0]
    bad = check_dict({"a": b"1", "b": b"3", "z": b"x"}, before, after)
    assert ["'b' changed although" in bad[0], "'z' changed although" in bad[1]] == [True, True]
    # prefix delete: each key old or deleted, independently
    before, after = {"p/1": b"1", "p/2": b"2"}, {}
    assert check_dict({"p/2": b"2"}, before, after) == []


def test_kv_duplicate_live_copies_are_reported():
    # docs/alios-kv.md §18 "duplicates": the same live record in blocks 1 and 2 (interrupted GC)
    t = KVTarget(geometry=Geometry.uniform(3 * 4096, 4096, allow_double_writes=True))
    dev, area = t.build()
    rec = encode_record(b"dup", b"value", 0, pos32=False, align=4)
    for b, state in ((0, 0xEE), (1, 0xCC), (2, 0xCC)):
        area.write(b * 4096, bytes((0x4B, state, 0, 0)))
    area.write(4096 + 4, rec)
    area.write(2 * 4096 + 4, rec)
    store = t.mount(area)
    found = t.structure(store)
    assert len(found) == 1 and "'dup' has 2 live copies at 0x1004, 0x2004" in found[0]
    assert t.deep_structure(store) == ["scan(): " + found[0]]


@dataclass(frozen=True)
class _LossyGC(KVTarget):
    """A KV whose writes silently drop the oldest key once the partition has been erased:
    what the GC exercise exists to catch (no power cut involved)."""

    def kv_set(self, store, key, value):
        super().kv_set(store, key, value)
        if key == self.churn_key and any(store.storage.device.stats.erase_cycles):
            victims = [k for k in store.keys() if k != self.churn_key.encode()]
            if victims:
                store.delete(victims[0])


def test_gc_exercise_catches_a_store_that_loses_data_while_collecting():
    c = Campaign(_LossyGC(), workload="mixed", ops=30, seed=1, cuts=5, tears=("clean",))
    r = run_campaign(c, jobs=1)
    assert not r.ok and r.failed["clean"] >= 4  # every cut where the store holds a key
    assert all(f.violations[0].startswith("GC exercise: key ") for f in r.failures)
    assert run_campaign(Campaign(KVTarget(), workload="mixed", ops=30, seed=1, cuts=5,
                                 tears=("clean",)), jobs=1).ok


def test_feature_checks_catch_a_vanished_and_an_overlapping_feature():
    t = FeatureTarget()
    dev, area = t.build()
    s = t.mount(area)
    h1 = s.allocate_feature(100, 256)
    s.copy_to_rom(h1 + 32, bytes(100)), s.flush_copy_to_rom()
    h2 = s.allocate_feature(100, 256)
    model = {h1: (100, 256, 0), h2: (100, 256, 1)}
    out = t.check(t.mount(area), model, model, ("check",))
    assert any(f"feature {h2:#x}: ROM content damaged" in v for v in out.violations)  # never copied
    s.free_feature(h1)
    out = t.check(t.mount(area), model, model, ("check",))
    assert any(f"feature {h1:#x} (installed before the cut) is no longer listed" in v for v in out.violations)
    feats = t.mount(area).features()
    twin = [feats[0], feats[0].__class__(**{**feats[0].__dict__, "handle": 1})]
    assert "overlap" in t._overlaps(twin)[0]


def test_a_refused_write_may_have_landed():
    # Zephyr Settings: a save refused with ENOSPC may have stored value and name (NVS-32)
    from flashstack.torture.kvlike import DictTarget, Either
    model = DictTarget.model_apply(None, {"a": b"1"}, ("set", "a", b"2"), "ENOSPC")
    assert isinstance(model["a"], Either)
    assert check_dict({"a": b"1"}, model, model) == [] and check_dict({"a": b"2"}, model, model) == []
    assert "expected 1 bytes 31 or 1 bytes 32" in check_dict({}, model, model)[0]
    fresh = DictTarget.model_apply(None, {}, ("set", "n", b"x"), "ENOSPC")
    assert check_dict({}, fresh, fresh) == [] and check_dict({"n": b"y"}, fresh, fresh) != []
    assert DictTarget.model_apply(None, fresh, ("set", "n", b"z"), "ok") == {"n": b"z"}


def test_settings_fill_with_refused_saves_survives_cuts():
    from flashstack.torture.targets.settings import SettingsTarget
    c = Campaign(SettingsTarget(), workload="fill", ops=120, seed=5, cuts=60, gc_check=0.5)
    steps = c.steps()
    from flashstack.torture.engine import Runner
    runner = Runner(c)
    assert "ENOSPC" in [runner.advance() for _ in steps]
    r = run_campaign(c, jobs=1)
    assert r.ok, [(f.reproducer, f.violations[:1]) for f in r.failures[:3]] + r.run_violations[:2]
