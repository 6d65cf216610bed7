"""``llkernel``: MicroEJ LLKERNEL Feature storage (a KF region of N slots,
:mod:`flashstack.llkernel`) in the registry.

Detection reads the slot headers at erase-page boundaries (USED / REMOVED status words): the
region start from a USED header's ROM address (slot start + 32), N and the slot size from
where the headers sit (:func:`llkernel_geometry`).
"""

from __future__ import annotations

import struct
from typing import Any, ClassVar

from ..errors import FlashError
from ..llkernel.config import DEFAULT_RAM_SIZE
from ..llkernel.header import HEADER_SIZE, REMOVED_MAGIC, USED_MAGIC
from .base import Detection, PartitionView, StoreKind, memory_copy, report

__all__ = ["LLKernelKind", "llkernel_geometry", "llkernel_headers"]


def llkernel_headers(data: bytes, subsector: int) -> list[tuple[int, int, tuple]]:
    """``(offset, status, fields)`` of every subsector start holding a USED/REMOVED status."""
    out = []
    for off in range(0, len(data) - HEADER_SIZE + 1, subsector):
        words = struct.unpack_from("<8I", data, off)
        if words[0] in (USED_MAGIC, REMOVED_MAGIC):
            out.append((off, words[0], words))
    return out


def llkernel_geometry(size: int, subsector: int, headers, base: int | None,
                      max_features: int | None = None) -> tuple[int | None, int]:
    """Infer (kf_start, N). kf_start: ``base`` or from a USED header's ``rom_address`` (slot
    start + 32, the header size). N: the given one, else the smallest N whose slot starts hold every header
    (with one header, 16 — the MicroEJ default — when it fits); among the N that give the same
    slot size, the largest."""
    if base is None:
        for off, status, w in headers:
            if status == USED_MAGIC:
                base = w[2] - HEADER_SIZE - off
                break
    if max_features:
        return base, max_features
    offsets = [off for off, _, _ in headers]

    def fits(n):
        slot = (size // subsector // n) * subsector
        return slot >= subsector and all(o % slot == 0 and o // slot < n for o in offsets)
    if len(offsets) < 2 and fits(16):
        return base, 16
    subs = size // subsector
    for n in range(1, subs + 1):
        if fits(n):
            # every N with the same slot size reads the same: take the one that fills the region
            return base, subs // (subs // n)
    return base, 16


class LLKernelKind(StoreKind):
    name = "llkernel"
    title = "LLKERNEL KF region"
    aliases = ("feature", "kf")
    order = 40
    provider = "flashstack.build.providers.llkernel:LLKernelProvider"
    targets: ClassVar[dict[str, str]] = {"llkernel": "flashstack.torture.targets.llkernel:FeatureTarget"}
    default_partition = "kf_partition"

    def detect(self, view: PartitionView) -> Detection | None:
        first = struct.unpack_from("<I", view.data, 0)[0] if len(view.data) >= 4 else None
        if first not in (USED_MAGIC, REMOVED_MAGIC):
            return None
        sub = view.erase_page or 4096
        headers = llkernel_headers(view.data, sub)
        base, n = llkernel_geometry(len(view.data), sub, headers, None)
        params: dict[str, Any] = {"max_features": n, "slot_size": (len(view.data) // sub // n) * sub}
        sources = {"max_features": "slot headers", "slot_size": "slot headers"}
        if base is not None:
            params["kf_start"], sources["kf_start"] = base, "USED header ROM address"
        return Detection(self.name, 0.8 if len(headers) > 1 else 0.6, params, sources)

    def open(self, area, params: dict, writable: bool) -> Any:
        from ..llkernel.store import FeatureStore
        if not writable:
            area = memory_copy(area)
        return FeatureStore(area, params.get("kf_start"), max_features=params.get("max_features") or 16,
                            kf_size=params.get("kf_size"), ram_base=params.get("ram_buffer_address"),
                            ram_size=params.get("ram_buffer_size") or DEFAULT_RAM_SIZE,
                            ram_align=params.get("ram_align") or 256)

    def describe(self, v: PartitionView, hint: dict | None, details: bool) -> dict | None:
        sub = v.erase_page or 4096
        first = struct.unpack_from("<I", v.data, 0)[0] if len(v.data) >= 4 else None
        if first not in (USED_MAGIC, REMOVED_MAGIC) and not (hint and hint.get("type") == "llkernel"):
            return None
        cfg = (hint or {}).get("config") or {}
        headers = llkernel_headers(v.data, sub)
        base = cfg.get("kf_start") or v.address
        base, n = llkernel_geometry(len(v.data), sub, headers, base, cfg.get("max_features"))
        note = None
        if base is None or base <= 0:
            base = 0x1000 * ((max(sub, 0x1000) + 0xFFF) // 0x1000)   # scan only: any valid start works
            note = "absolute address unknown; addresses shown relative to a nominal start"
        try:
            store = self.open(v.area, {**cfg, "kf_start": base, "max_features": n}, writable=True)
            features = [f.to_json() for f in store.features()]
            scan = store.scan()
        except FlashError as exc:
            return report(self.name, f"LLKERNEL KF region that cannot be read: {exc}", [str(exc)])
        anomalies = [a.to_json() for a in scan.all_anomalies()]
        errors = [a["message"] for a in anomalies if a["severity"] == "error"]
        warnings = [a["message"] for a in anomalies if a["severity"] == "warning"]
        removed = sum(1 for s in scan.slots if s.state == "removed")
        summary = (f"LLKERNEL KF region: {len(features)} features in {n} slots of "
                   f"{store.slot_size // 1024} KiB ({removed} removed, {n - len(features) - removed} free)")
        out = {"config": {**store.config.to_json(), "source": "build record" if cfg else "inferred"},
               "features": features, "removed_slots": [s.slot for s in scan.slots if s.state == "removed"],
               "anomalies": anomalies}
        if note:
            out["note"] = note
        if details:
            out["scan"] = scan.to_json()
        return report(self.name, summary, errors, warnings, llkernel=out)

