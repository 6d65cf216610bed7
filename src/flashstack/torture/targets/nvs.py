"""Target: Zephyr NVS (:class:`flashstack.nvs.NVSStore`, docs/zephyr-nvs.md).

Ids are the keys of the model; a delete of a missing id is a no-op (``nvs_delete`` returns
0). The device refuses double writes, so "no write lands on a write block that is not
erased" (NVS-28) is checked by the device itself on every cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ..kvlike import DictTarget
from ..target import Geometry, target_args
from ..workloads import DictSpace, dict_workload
from ..._report import dumps

__all__ = ["NVSTarget"]


def _default_geometry() -> Geometry:
    # 3 sectors of 1 KiB, 4-byte write blocks (a typical Zephyr SoC flash).
    return Geometry.uniform(3 * 1024, 1024, write_block_size=4)


def _id(i: int) -> int:
    return i + 1


@dataclass(frozen=True)
class NVSTarget(DictTarget):
    """NVS on ``geometry`` (default 3 x 1 KiB sectors, write block 4); ``sector_size`` /
    ``sector_count`` (default: erase page / whole partition) and ``data_crc`` as NVSStore."""

    kind = "nvs"
    what = "id"
    geometry: Geometry = field(default_factory=_default_geometry)
    sector_size: int | None = None
    sector_count: int | None = None
    data_crc: bool = False
    board: str | None = None
    partition: str | None = None
    churn_key: ClassVar[object] = 0x7FFE  # an id; Settings targets use a name
    churn_size = 200

    def open(self, area):
        from ...nvs import NVSStore
        return NVSStore(area, self.sector_size, self.sector_count, self.data_crc)

    def mount(self, area):
        store = self.open(area)
        store.mount()
        return store

    def observe(self, store) -> dict:
        return dict(store.items())

    def kv_set(self, store, key, value) -> None:
        store.write(key, value)

    def kv_delete(self, store, key) -> None:
        store.delete(key)

    def max_value(self) -> int:
        s = self.sector_size or self.geometry.layout[0][1]
        a = max(8, self.geometry.write_block_size)
        return s - 4 * a - (4 if self.data_crc else 0)

    def workload(self, name: str, ops: int, seed: int) -> list:
        return dict_workload(name, ops, seed, DictSpace(_id, self.max_value()))

    def torn_crc_match(self, before: bytes, cut: bytes, cut_at: tuple) -> bool:
        from ..limits import torn_nvs_ate_matches
        return torn_nvs_ate_matches(before, cut, cut_at, self.sector_size or
                                    self.geometry.layout[0][1], self.geometry.write_block_size)

    def dump(self, area) -> str:
        from ...nvs import scan
        report = scan(area, self.sector_size, self.sector_count, self.data_crc)
        return dumps(report)

    def cli_args(self) -> list:
        return target_args(self, {"sector_size": "--sector-size", "sector_count": "--sector-count",
                                  "data_crc": "--data-crc"})
