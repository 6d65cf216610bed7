"""``zephyr-zms``: Zephyr ZMS (:mod:`flashstack.zms`) in the registry.

Detection reads the sector headers (empty ATEs with magic 0x42): the sector size is the
greatest common divisor of their end offsets, data CRC and 64-bit ids from the entries
(:func:`flashstack.zms.scan.detect_zms`). The report is :func:`flashstack.inspect.zms.probe_zms`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from .base import Detection, PartitionView, PlanAdapter, StoreKind, memory_copy

__all__ = ["ZMSKind"]


class _ZMSPlan(PlanAdapter):
    unit_name = "ZMS sector"

    def min_unit(self, erase_page: int) -> int:
        return erase_page   # a sector is a whole number of erase pages

    def open(self, area, unit: int) -> Callable[[Any, bytes], Any]:
        from ..zms import ZMSStore
        store = ZMSStore(area, sector_size=unit, sector_count=area.size // unit)
        store.mount()
        return store.write

    def key(self, workload, i: int) -> Any:
        return i + 1   # ZMS ids; all ones is reserved

    def user_bytes(self, workload) -> int:
        return workload.value_size   # ZMS addresses by id: the payload is the value


class ZMSKind(StoreKind):
    name = "zephyr-zms"
    title = "Zephyr ZMS"
    aliases = ("zms",)
    order = 15   # its sector headers are checksummed: before the KV and NVS heuristics
    provider = "flashstack.build.providers.zms:ZMSProvider"
    default_partition = "storage_partition"
    targets: ClassVar[dict[str, str]] = {"zms": "flashstack.torture.targets.zms:ZMSTarget",
                                         "settings-zms": "flashstack.torture.targets.zms:ZMSSettingsTarget"}
    plan = _ZMSPlan()

    def detect(self, view: PartitionView, sector_size: int | None = None) -> Detection | None:
        """The store found from its sector headers; with ``sector_size``, only when the headers
        sit at that sector size."""
        from ..zms.scan import detect_zms
        det = detect_zms(view.area)
        if det is None or (sector_size is not None and det.sector_size != sector_size):
            return None
        where = f"{det.headers} sector header(s)"
        params = {"sector_size": det.sector_size, "sector_count": det.sector_count, "id_64bit": det.id_64bit}
        sources = {"sector_size": where, "sector_count": "partition size / sector size",
                   "id_64bit": "sector headers"}
        if det.data_crc:   # no CRC found is no evidence: small values carry none
            params["data_crc"], sources["data_crc"] = True, "external entries"
        return Detection(self.name, 0.9, params, sources)

    def open(self, area, params: dict, writable: bool) -> Any:
        from ..zms import ZMSStore
        return ZMSStore(area if writable else memory_copy(area), params.get("sector_size"),
                        params.get("sector_count"), bool(params.get("data_crc", False)),
                        bool(params.get("id_64bit", False)))

    def describe(self, view: PartitionView, hint: dict | None, details: bool) -> dict | None:
        from ..inspect.zms import probe_zms
        return probe_zms(view, hint, details)
