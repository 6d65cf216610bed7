"""Target: Zephyr Settings on NVS (:class:`flashstack.nvs.settings.NVSSettings`, spec §17).

A reboot is Zephyr's boot sequence: mount, ``settings_nvs_backend_init`` (``last_name_id``)
and ``settings_load``, whose clean-up of half-written name/value pairs is part of recovery.
The state checked is what ``settings_load`` reports, i.e. what the application sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..target import PartitionGeometry, TargetOption
from ..workloads import DictSpace, dict_workload
from .nvs import NVSTarget

__all__ = ["SettingsTarget"]


def _default_geometry() -> PartitionGeometry:
    return PartitionGeometry.uniform(4 * 1024, 1024, write_block_size=4)


def _name(i: int) -> str:
    return f"{'ab'[i % 2]}/k{i:02d}"


@dataclass(frozen=True)
class SettingsTarget(NVSTarget):
    """Settings on an NVS store on ``geometry`` (default 4 x 1 KiB sectors, write block 4)."""

    kind = "settings"
    title = "Zephyr Settings on NVS or, with --backend zms, on ZMS."
    cli_options: ClassVar[tuple[TargetOption, ...]] = (
        *NVSTarget.cli_options,
        TargetOption("", "--backend", "Settings backend store.", "choice", ("nvs", "zms"),
                     {"zms": "settings-zms"}, default="nvs"),
        TargetOption("erase_less", "--erase-less", "An erase-less (RRAM/MRAM-like) device: no "
                     "erase, writes overwrite (--backend zms).", "flag"),
    )
    default_ops = 300
    what = "setting"
    geometry: PartitionGeometry = field(default_factory=_default_geometry)
    churn_key = "torture/gc"
    churn_size = 160

    def mount(self, area):
        from ...nvs.settings import NVSSettings
        s = NVSSettings(self.open(area))
        s.init()
        list(s.load())  # boot: clean-up of interrupted saves and deletes
        return s

    def observe(self, store) -> dict:
        # read-only: load() deletes half-written pairs (flash writes), and mount() already ran it
        return dict(store.items())

    def kv_set(self, store, key, value) -> None:
        store.save(key, value)

    def workload(self, name: str, ops: int, seed: int) -> list:
        return dict_workload(name, ops, seed, DictSpace(_name, min(self.max_value(), 256)))
