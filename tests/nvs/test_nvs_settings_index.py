"""The Settings name index answers like the reference's scan of every name id, over many
garbage-collection cycles, power cuts, remounts and writes made behind the Settings' back."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from flashstack.device import SimulatedFlash
from flashstack.errors import NotFound, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSSettings, NVSStore
from flashstack.nvs._settings_index import NameIndex

NAMES = [f"n/{i}" for i in range(12)] + ["a" * 73]


def test_name_index_states_replace_each_other():
    idx = NameIndex()
    idx.free(5)
    idx.free(3)
    idx.put(4, b"x")
    idx.put(7, b"x")
    idx.put(6, None)
    assert idx.find(b"x") == 7 and idx.lowest_free() == 3
    idx.put(3, b"y")
    assert idx.lowest_free() == 5 and idx.find(b"y") == 3
    idx.free(7)
    assert idx.find(b"x") == 4 and idx.lowest_free() == 5
    idx.bad(4)
    assert idx.find(b"x") is None and idx.has_bad and idx.bad_at_or_above(4)
    assert not idx.bad_at_or_above(5)
    idx.forget(4)
    assert not idx.has_bad
    assert idx.state() == {3: b"y", 5: "free", 6: None, 7: "free"}
    assert len(idx) == 4


def _check(s: NVSSettings) -> None:
    """Every name's lookup through the index equals the reference's scan."""
    for name in NAMES:
        raw = name.encode()
        found, free_id = s._lookup(raw)
        ref_found, ref_free = s.scan_name(raw)
        assert found == ref_found
        if found is None:
            assert free_id == ref_free
        try:
            got = s.get(name)
        except NotFound:
            got = None
        ref = s._get_scan(raw)
        assert got == (None if ref is None else s.store.read(ref + 0x4000))


class IndexModel(RuleBasedStateMachine):
    @initialize(sectors=st.sampled_from([3, 4]), crc=st.booleans())
    def setup(self, sectors, crc):
        self.dev = SimulatedFlash(1024 * sectors, erase_page_size=1024, write_block_size=4)
        self.area = FlashArea(0, 0, 1024 * sectors, self.dev, label="storage")
        self.crc = crc
        self.reboot()

    def reboot(self):
        self.s = NVSSettings(NVSStore(self.area, 1024, None, self.crc))
        self.s.init()

    @rule(name=st.sampled_from(NAMES), value=st.binary(min_size=0, max_size=40))
    def save(self, name, value):
        self.s.save(name, value)

    @rule(name=st.sampled_from(NAMES), value=st.binary(min_size=1, max_size=8),
          after=st.integers(1, 6))
    def cut(self, name, value, after):
        self.dev.arm_power_cut(after=after, mode="clean")
        try:
            self.s.save(name, value)
        except PowerLoss:
            self.dev.power_restore()
            self.reboot()
        self.dev.disarm()

    @rule(name_id=st.integers(0x8001, 0x800E), value=st.binary(min_size=0, max_size=4))
    def behind_its_back(self, name_id, value):
        self.s.store.write(name_id, value)       # a name id changed by another writer

    @rule()
    def gc(self):
        self.s.store.use_next_sector()

    @rule()
    def load(self):
        list(self.s.load())

    @rule()
    def remount(self):
        self.reboot()

    @invariant()
    def index_equals_scan(self):
        _check(self.s)


IndexModel.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
test_name_index_equals_scan = IndexModel.TestCase


def test_index_equals_scan_over_many_gc_cycles():
    dev = SimulatedFlash(4 * 1024, erase_page_size=1024, write_block_size=4)
    s = NVSSettings(NVSStore(FlashArea(0, 0, 4096, dev, label="storage"), 1024, 4))
    s.init()
    gen0 = s.store.generation
    for i in range(600):
        name = NAMES[(i * 7) % len(NAMES)]
        s.save(name, b"" if i % 11 == 0 else bytes([i % 256]) * (1 + i % 20))
        if i % 50 == 0:
            _check(s)
    _check(s)
    assert s.store.area.device.stats.snapshot()["erase_cycles"].count(0) == 0  # every sector GC'd
    assert s.store.generation > gen0
