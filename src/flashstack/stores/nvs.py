"""``zephyr-nvs``: Zephyr NVS, and Zephyr Settings on it (:mod:`flashstack.nvs`), in the registry.

Detection: the sector size is the one under which every sector's close slot and first slot
hold CRC-correct ATEs (:func:`flashstack.nvs.detect_nvs`); data CRC is on when every
CRC-correct data ATE's value ends with the CRC-32 of the rest of it; Settings when the store
holds Settings' name/value ids. The sector count is not written anywhere: it is the build
record's, else the Settings default (at most 8) for a Settings store, else the partition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import FlashError
from .base import Detection, PartitionView, PlanAdapter, StoreKind, memory_copy, report

__all__ = ["NVSKind", "detect_data_crc"]


def detect_data_crc(area, sector_size: int, sector_count: int) -> bool | None:
    """True when every CRC-correct data ATE's value (of 4 bytes or more) ends with the CRC-32
    of the bytes before it, False when one does not, None when no value tells."""
    from ..nvs.format import data_crc
    from ..nvs import scan

    res = scan(area, sector_size, sector_count, data_crc=False)
    told = None
    for a in res.ates:
        if a.kind != "data" or not a.crc_ok or a.len < 4:
            continue
        raw = area.read(a.sector * sector_size + a.offset, a.len)
        if data_crc(raw[:-4]) != raw[-4:]:
            return False
        told = True
    return told


class _NVSPlan(PlanAdapter):
    unit_name = "NVS sector"

    def min_unit(self, erase_page: int) -> int:
        # NVS-3: a sector is a whole number of erase pages and holds at least a few ATEs
        return erase_page

    def refuse(self, unit: int, erase_page: int) -> str | None:
        if unit > 0xFFFF:
            return f"NVS sector {unit:#x} is above 0xffff (ATE offsets are 16-bit)"
        return super().refuse(unit, erase_page)

    def open(self, area, unit: int) -> Callable[[Any, bytes], Any]:
        from ..nvs import NVSStore
        store = NVSStore(area, sector_size=unit, sector_count=area.size // unit)
        store.mount()
        return store.write

    def key(self, workload, i: int) -> Any:
        return i + 1   # NVS ids; 0xFFFF is reserved

    def user_bytes(self, workload) -> int:
        return workload.value_size   # NVS addresses by 16-bit id: the payload is the value


class NVSKind(StoreKind):
    name = "zephyr-nvs"
    title = "Zephyr NVS (+ Settings)"
    aliases = ("nvs", "zephyr-settings")
    order = 30
    provider = "flashstack.build.providers.nvs:NVSProvider"
    targets: ClassVar[dict[str, str]] = {"nvs": "flashstack.torture.targets.nvs:NVSTarget",
               "settings": "flashstack.torture.targets.settings:SettingsTarget"}
    default_partition = "storage_partition"
    plan = _NVSPlan()

    def detect(self, view: PartitionView, sector_size: int | None = None) -> Detection | None:
        from ..nvs import detect_nvs, scan

        try:
            sector = detect_nvs(view.area, [sector_size] if sector_size else None)
        except FlashError:
            return None
        if sector is None:
            return None
        count = view.area.size // sector
        params: dict[str, Any] = {"sector_size": sector}
        sources = {"sector_size": "ATEs"}
        crc = detect_data_crc(view.area, sector, count)
        if crc is not None:
            params["data_crc"], sources["data_crc"] = crc, "ATEs"
        if scan(view.area, sector, count, data_crc=bool(crc)).settings is not None:
            params["settings"], sources["settings"] = True, "Settings ids"
            if count > 8:
                count = 8
                params["sector_count"], sources["sector_count"] = count, "Settings default (at most 8)"
        return Detection(self.name, 0.9, params, sources)

    def open(self, area, params: dict, writable: bool) -> Any:
        from ..nvs import NVSStore
        return NVSStore(area if writable else memory_copy(area), params.get("sector_size"),
                        params.get("sector_count"), bool(params.get("data_crc", False)))

    def describe(self, view: PartitionView, hint: dict | None, details: bool) -> dict | None:
        from ..nvs import scan

        cfg = dict((hint or {}).get("config") or {})
        det = self.detect(view, cfg.get("sector_size"))
        if det is None:
            return None
        source = "build record" if cfg else "inferred from ATEs"
        for k, v in det.params.items():
            cfg.setdefault(k, v)
        sector = cfg["sector_size"]
        count = cfg.get("sector_count") or len(view.data) // sector
        crc = bool(cfg.get("data_crc", False))
        res = scan(view.area, sector, count, data_crc=crc)
        problems, warnings = [], []
        if res.verdict == "unmountable":
            problems.append(f"does not mount: {res.mount_error}")
        elif res.verdict == "damaged":
            problems.append("corrupt ATEs or data-CRC errors: " + ", ".join(
                f"id {i:#x} {e}" for i, e in res.read_errors.items()) if res.read_errors else "corrupt ATEs")
        elif res.verdict == "recoverable":
            warnings.append("mount repairs an interrupted operation: " + "; ".join(res.mount_notes))
        counts: dict = {}
        for a in res.ates:
            counts[a.state] = counts.get(a.state, 0) + 1
        summary = (f"Zephyr NVS: {len(res.items)} ids in {count} sectors of {sector}"
                   f"{', data CRC' if crc else ''}, "
                   f"free {res.free_space if res.free_space is not None else '?'} B, {res.verdict}")
        if res.settings is not None:
            summary += f"; Settings: {len(res.settings)} names"
        out = {"config": {"sector_size": sector, "sector_count": count, "data_crc": crc},
               "config_source": source,
               "verdict": res.verdict, "ids": sorted(res.items),
               "items": {str(i): val.hex() for i, val in sorted(res.items.items())},
               "free_bytes": res.free_space, "ate_counts": counts, "write_sector": res.write_sector,
               "settings": None if res.settings is None else {k: val.hex() for k, val in res.settings.items()}}
        if details:
            out["scan"] = res.to_json()
        return report(self.name, summary, problems, warnings, nvs=out)
