"""Model-based test with power cuts: after every reboot each acknowledged write is durable and
the interrupted write or delete reads as its old or its new value (NVS-27, NVS-28)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from flashstack.device import SimulatedFlash
from flashstack.errors import NotFound, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSStore

IDS = st.integers(0, 11)
VALUES = st.binary(min_size=0, max_size=60)
CUT_AT = st.one_of(st.integers(1, 3), st.integers(4, 60))   # 1-based write/erase index
TORN = st.one_of(st.none(), st.integers(0, 31))               # None = clean cut


class NVSModel(RuleBasedStateMachine):
    @initialize(wbs=st.sampled_from([1, 4, 8]), sectors=st.sampled_from([2, 3, 4]),
                crc=st.booleans())
    def setup(self, wbs, sectors, crc):
        self.dev = SimulatedFlash(1024 * sectors, erase_page_size=1024, write_block_size=wbs,
                                  allow_double_writes=False)
        self.area = FlashArea(0, 0, 1024 * sectors, self.dev, label="storage")
        self.crc = crc
        self.model: dict[int, bytes] = {}
        self.reboot()

    def reboot(self):
        self.store = NVSStore(self.area, data_crc=self.crc)
        self.store.mount()

    def apply(self, id_, value):
        if value:
            self.model[id_] = value
        else:
            self.model.pop(id_, None)

    @rule(id_=IDS, value=VALUES)
    def write(self, id_, value):
        rc = self.store.write(id_, value)
        assert rc in (0, len(value))
        self.apply(id_, value)

    @rule(id_=IDS)
    def delete(self, id_):
        assert self.store.delete(id_) == 0
        self.apply(id_, b"")

    @rule()
    def remount(self):
        self.reboot()

    @rule()
    def use_next_sector(self):
        self.store.use_next_sector()

    @rule(id_=IDS, value=VALUES, after=CUT_AT, torn=TORN)
    def cut_during_write(self, id_, value, after, torn):
        old = self.model.get(id_)
        self.dev.arm_power_cut(after=after, mode="clean" if torn is None else "torn", keep=torn)
        try:
            self.store.write(id_, value)
        except PowerLoss:
            self.dev.power_restore()
            self.reboot()
            try:
                now = self.store.read(id_)
            except NotFound:
                now = None
            assert now in (old, value or None), f"id {id_}: {now!r} is neither old nor new"
            self.apply(id_, now or b"")
        else:
            self.dev.disarm()
            self.apply(id_, value)

    @rule(after=CUT_AT, torn=TORN)
    def cut_during_sector_switch(self, after, torn):
        self.dev.arm_power_cut(after=after, mode="clean" if torn is None else "torn", keep=torn)
        try:
            self.store.use_next_sector()
        except PowerLoss:
            self.dev.power_restore()
            self.reboot()
        else:
            self.dev.disarm()

    @invariant()
    def content_matches(self):
        assert dict(self.store.items()) == self.model

    @invariant()
    def index_matches_a_fresh_walk(self):
        kept = {i: list(self.store.index.history(i)) for i in self.store.index.ids()}
        self.store.rebuild_index()
        fresh = {i: list(self.store.index.history(i)) for i in self.store.index.ids()}
        assert kept == fresh


NVSModel.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])
test_nvs_model_power_cuts = pytest.mark.filterwarnings("ignore")(NVSModel.TestCase)
