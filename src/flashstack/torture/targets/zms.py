"""Targets: Zephyr ZMS (:class:`flashstack.zms.ZMSStore`) and Settings on ZMS
(:class:`flashstack.zms.settings.ZMSSettings`), on NOR flash or on an erase-less device.

Ids (or setting names) are the keys of the model. On NOR the device refuses double writes,
so "no write lands on a programmed write block" is checked by the device on every cut. On
an erase-less device (``erase_less``) ZMS never erases: a full GC cycle is every sector
restarted with a new cycle counter instead of every page erased.

A Settings reboot is Zephyr's boot: mount, ``settings_backend_init`` (the list walk, which may
repair the list) and ``settings_load`` (which cleans half-deleted settings up).

Known format limit (docs/zephyr-zms.md, defect 14): an ATE is protected by a CRC-8 alone, so
about one torn ATE write in 256 can pass the check; such a cut is a failure the format allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ...device import SimulatedFlash
from ...flash_map import FlashArea
from ..target import Geometry, target_args
from ..workloads import DictSpace, dict_workload
from .nvs import NVSTarget
from .settings import _name
from ..._report import dumps

__all__ = ["ZMSSettingsTarget", "ZMSTarget"]


@dataclass(frozen=True)
class ZMSTarget(NVSTarget):
    """ZMS on ``geometry`` (default 3 x 1 KiB sectors, write block 4: the geometry of Zephyr's
    own ZMS tests); ``sector_size`` / ``sector_count`` (default: erase page / whole
    partition), ``data_crc`` and ``id_64bit`` as :class:`ZMSStore`; ``erase_less`` builds a
    RAM-like device (no erase, writes overwrite). Mount, reads and writes as the NVS target."""

    kind = "zms"
    id_64bit: bool = False
    erase_less: bool = False
    churn_key: ClassVar[object] = 0x7FFFFFFE  # an id; ZMSSettingsTarget uses a name

    def build(self) -> tuple[SimulatedFlash, FlashArea]:
        if not self.erase_less:
            return self.geometry.build()
        g = self.geometry
        dev = SimulatedFlash(layout=g.layout, write_block_size=g.write_block_size,
                             erase_value=g.erase_value, explicit_erase=False,
                             program_page_size=g.program_page_size, name="torture0")
        return dev, FlashArea(g.area_id, 0, g.size, dev, label=g.label, node_labels=(g.label,),
                              address=g.address)

    def open(self, area):
        from ...zms import ZMSStore
        return ZMSStore(area, self.sector_size, self.sector_count, self.data_crc, self.id_64bit)

    def structure(self, store) -> list:
        return [] if store.index_matches_walk() else ["RAM index differs from the ATE walk"]

    def max_value(self) -> int:
        s = self.sector_size or self.geometry.layout[0][1]
        return min(s - 5 * max(16, self.geometry.write_block_size), 0xFFFF)

    # --- GC exercise on erase-less devices: sector restarts instead of erases ----------------
    def exercise(self, store, area, observed: dict) -> list:
        if not self.erase_less:
            return super().exercise(store, area, observed)
        zms = getattr(store, "store", store)
        first = [zms.sector_cycle_of(s) for s in range(zms.geo.N)]
        object.__setattr__(self, "_restarted", lambda: all(
            zms.sector_cycle_of(s) != c for s, c in enumerate(first)))
        try:
            return super().exercise(store, area, observed)
        finally:
            object.__delattr__(self, "_restarted")

    def gc_cycle_done(self, erased: list) -> bool:
        probe = getattr(self, "_restarted", None)
        return probe() if probe is not None else all(erased)

    def dump(self, area) -> str:
        from ...zms.scan import scan
        report = scan(area, self.sector_size, self.sector_count, self.data_crc, self.id_64bit)
        return dumps(report)

    def cli_args(self) -> list:
        return target_args(self, {"sector_size": "--sector-size", "sector_count": "--sector-count",
                                  "data_crc": "--data-crc", "id_64bit": "--id-64bit",
                                  "erase_less": "--erase-less"})


def _settings_geometry() -> Geometry:
    return Geometry.uniform(4 * 1024, 1024, write_block_size=4)


@dataclass(frozen=True)
class ZMSSettingsTarget(ZMSTarget):
    """Settings on a ZMS store on ``geometry`` (default 4 x 1 KiB sectors, write block 4)."""

    kind = "settings"
    what = "setting"
    geometry: Geometry = field(default_factory=_settings_geometry)
    churn_key = "torture/gc"  # names, not ids
    churn_size = 160

    def mount(self, area):
        from ...zms.settings import ZMSSettings
        s = ZMSSettings(self.open(area))
        s.init()
        list(s.load())  # boot: clean-up of interrupted deletes
        return s

    def observe(self, store) -> dict:
        from ...zms.settings import decode_settings
        # read-only view of the list (load() may write)
        return decode_settings(dict(store.store.items())) or {}

    def kv_set(self, store, key, value) -> None:
        store.save(key, value)

    def kv_delete(self, store, key) -> None:
        store.delete(key)

    def structure(self, store) -> list:
        return super().structure(store.store)

    def workload(self, name: str, ops: int, seed: int) -> list:
        return dict_workload(name, ops, seed, DictSpace(_name, min(self.max_value(), 256)))

    def cli_args(self) -> list:
        args = super().cli_args()
        return [args[0], "--backend", "zms", *args[1:]]
