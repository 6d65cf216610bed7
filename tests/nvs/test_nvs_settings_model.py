"""Model-based test of Settings on NVS with power cuts: after a reboot and ``load()`` every
acknowledged save or delete holds, and the interrupted one left its setting old or new."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSSettings

NAMES = st.sampled_from(["bt/name", "bt/addr", "app/mode", "app/level", "net/ssid", "x"])
VALUES = st.binary(min_size=1, max_size=40)


class SettingsModel(RuleBasedStateMachine):
    @initialize(sectors=st.sampled_from([2, 3]))
    def setup(self, sectors):
        self.dev = SimulatedFlash(1024 * sectors, erase_page_size=1024, write_block_size=4)
        self.area = FlashArea(0, 0, 1024 * sectors, self.dev, label="storage")
        self.model: dict[str, bytes] = {}
        self.reboot()

    def reboot(self):
        self.s = NVSSettings.on_area(self.area)
        self.loaded = dict(self.s.load())

    @rule(name=NAMES, value=VALUES)
    def save(self, name, value):
        self.s.save(name, value)
        self.model[name] = value

    @rule(name=NAMES)
    def delete(self, name):
        self.s.delete(name)
        self.model.pop(name, None)

    @rule()
    def remount(self):
        self.reboot()
        assert self.loaded == self.model

    @rule(name=NAMES, value=st.one_of(st.none(), VALUES), after=st.integers(1, 8),
          torn=st.one_of(st.none(), st.integers(0, 7)))
    def cut(self, name, value, after, torn):
        old = self.model.get(name)
        self.dev.arm_power_cut(after=after, mode="clean" if torn is None else "torn", keep=torn)
        try:
            self.s.save(name, value)
        except PowerLoss:
            self.dev.power_restore()
            self.reboot()
            now = self.loaded.get(name)
            assert now in (old, value), f"{name}: {now!r} is neither {old!r} nor {value!r}"
            others = {k: v for k, v in self.loaded.items() if k != name}
            assert others == {k: v for k, v in self.model.items() if k != name}
            if now is None:
                self.model.pop(name, None)
            else:
                self.model[name] = now
        else:
            self.dev.disarm()
            if value:
                self.model[name] = value
            else:
                self.model.pop(name, None)

    @invariant()
    def reads_match(self):
        assert self.s.items() == self.model


SettingsModel.TestCase.settings = settings(max_examples=30, stateful_step_count=25,
                                           deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
test_settings_model_power_cuts = SettingsModel.TestCase
