"""Read-only analysis of every slot header of a KF region (``feature dump``, ``inspect``).

Reads only (no program, no erase). Reports each of the N slots with its raw header, state,
decoded fields, dense index and anomalies; region-level anomalies (overlapping RAM, headers
in the reference's extra slots beyond N). Formats: docs/llkernel.md §5-§7, §13, §18.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .config import KfConfig
from .header import (HEADER_SIZE, LLKERNEL_RAM_AREA_ALIGNMENT, LLKERNEL_ROM_AREA_ALIGNMENT,
                     FeatureHeader, to_int32)
from ._ram import torn_ram_size

__all__ = ["Anomaly", "SlotReport", "ScanReport", "scan_region"]

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Anomaly:
    """One finding: ``code`` (stable identifier), ``severity`` (error/warning/info), text."""

    code: str
    severity: str
    message: str
    slot: int | None = None

    def to_json(self) -> dict:
        """``code``, ``severity``, ``slot`` (None for region-level findings), ``message``."""
        return {"code": self.code, "severity": self.severity, "slot": self.slot,
                "message": self.message}


@dataclass
class SlotReport:
    """Slot ``slot`` at absolute ``address``: raw 32-byte ``raw`` header and its decoding.
    ``index`` is the dense Feature index for a USED slot (LLK-11), else None."""

    slot: int
    address: int
    raw: bytes
    header: FeatureHeader
    index: int | None = None
    anomalies: list = field(default_factory=list)

    @property
    def state(self) -> str:
        """``"used"``, ``"removed"``, ``"erased"`` or ``"other"`` (from the status word)."""
        return self.header.state

    def to_json(self) -> dict:
        """Slot number, absolute ``address`` and ``handle`` (int32), ``state``, the raw header as
        ``header_hex``, dense ``index``, decoded ``fields`` (USED or unknown status only) and
        ``anomalies``."""
        d = {"slot": self.slot, "address": self.address, "handle": to_int32(self.address),
             "state": self.state, "header_hex": self.raw.hex(), "index": self.index}
        if self.state in ("used", "other"):
            d["fields"] = self.header.fields()
        d["anomalies"] = [a.to_json() for a in self.anomalies]
        return d


@dataclass
class ScanReport:
    """Every slot of the region, plus region-level anomalies (``anomalies``), in slot order."""

    config: KfConfig
    slots: list
    anomalies: list = field(default_factory=list)

    @property
    def used(self) -> list:
        """The USED slot reports, in slot order."""
        return [s for s in self.slots if s.state == "used"]

    @property
    def count(self) -> int:
        """Number of USED slots (what ``getAllocatedFeaturesCount`` reports)."""
        return len(self.used)

    def all_anomalies(self) -> list:
        """Slot anomalies in slot order, then region-level ones."""
        return [a for s in self.slots for a in s.anomalies] + list(self.anomalies)

    def to_json(self) -> dict:
        """``config`` (:meth:`KfConfig.to_json`), ``count``, ``unused_tail`` bytes, every slot
        (:meth:`SlotReport.to_json`) and the region-level ``anomalies``."""
        return {"config": self.config.to_json(), "count": self.count,
                "unused_tail": self.config.unused_tail,
                "slots": [s.to_json() for s in self.slots],
                "anomalies": [a.to_json() for a in self.anomalies]}


def _check_used(r: SlotReport, cfg: KfConfig) -> None:
    h, start, add = r.header, r.address, r.anomalies.append
    slot_end = start + cfg.slot_size
    if h.rom_address != start + HEADER_SIZE:
        sev = ERROR if not start < h.rom_address < slot_end else WARNING
        add(Anomaly("rom_address", sev, f"rom_address {h.rom_address:#x} is not the slot start + 32 "
                    f"({start + HEADER_SIZE:#x})", r.slot))
    if h.rom_address % LLKERNEL_ROM_AREA_ALIGNMENT:
        add(Anomaly("rom_misaligned", ERROR, f"rom_address {h.rom_address:#x} is not 16-byte aligned "
                    "(install error 54)", r.slot))
    if h.rom_address + h.rom_size > slot_end or h.rom_address < start:
        add(Anomaly("rom_outside_slot", ERROR, f"ROM {h.rom_address:#x}+{h.rom_size:#x} runs outside "
                    f"the slot [{start:#x}, {slot_end:#x})", r.slot))
    elif h.nb_subsectors != cfg.subsectors_for(h.rom_size):
        add(Anomaly("nb_subsectors", WARNING, f"nb_subsectors {h.nb_subsectors} != "
                    f"{cfg.subsectors_for(h.rom_size)} for rom_size {h.rom_size}", r.slot))
    if h.ram_address % LLKERNEL_RAM_AREA_ALIGNMENT:
        add(Anomaly("ram_misaligned", ERROR, f"ram_address {h.ram_address:#x} is not 8-byte aligned "
                    "(install error 54)", r.slot))
    if torn_ram_size(h.ram_size, cfg.ram_size):
        add(Anomaly("torn_ram_fields", WARNING, f"ram_size {h.ram_size:#x} exceeds the {cfg.ram_size}-byte "
                    "RAM buffer: torn header (allocation cut after the USED status); its RAM range "
                    "is ignored for placement and the Kernel frees it at boot (code 1)", r.slot))
    elif cfg.ram_base is not None:
        lo, hi = cfg.ram_base, cfg.ram_base + cfg.ram_size
        if not (lo <= h.ram_address and h.ram_address + h.ram_size <= hi):
            add(Anomaly("ram_outside_buffer", WARNING, f"RAM {h.ram_address:#x}+{h.ram_size:#x} is not "
                        f"inside the RAM buffer [{lo:#x}, {hi:#x})", r.slot))
    if h.feature_index != r.index:
        add(Anomaly("stale_feature_index", INFO, f"stored feature_index {h.feature_index} differs from "
                    f"the current index {r.index} (indices are computed at boot)", r.slot))


def _check_other(r: SlotReport) -> None:
    st = r.state
    if st == "other":
        r.anomalies.append(Anomaly("unknown_status", ERROR, f"status {r.header.status:#010x} is neither "
                                   "USED, REMOVED nor erased; the slot is free", r.slot))
    elif st == "removed" and r.raw[4:] != b"\xff" * (HEADER_SIZE - 4):
        r.anomalies.append(Anomaly("removed_header_kept", INFO, "REMOVED header keeps its fields "
                                   "(written by KERNEL-FLASH 1.0.0/1.0.1)", r.slot))
    elif st == "erased" and r.raw != b"\xff" * HEADER_SIZE:
        r.anomalies.append(Anomaly("erased_status_with_fields", WARNING, "status erased but other "
                                   "header words programmed (torn allocation?)", r.slot))


def _ram_overlaps(used: list) -> list:
    out = []
    ranges = [(r.header.ram_address, r.header.ram_address + r.header.ram_size, r) for r in used]
    for i, (s1, e1, a) in enumerate(ranges):
        for s2, e2, b in ranges[i + 1:]:
            if s1 < e2 and s2 < e1:
                msg = (f"RAM of slot {a.slot} [{s1:#x}, {e1:#x}) overlaps RAM of slot {b.slot} "
                       f"[{s2:#x}, {e2:#x}) (boot code 7 / install error 56)")
                a.anomalies.append(Anomaly("ram_overlap", ERROR, msg, a.slot))
                b.anomalies.append(Anomaly("ram_overlap", ERROR, msg, b.slot))
                out.append((a.slot, b.slot))
    return out


def scan_region(read: Callable[[int, int], bytes], cfg: KfConfig) -> ScanReport:
    """Analyse the headers of ``cfg``'s region; ``read(address, n)`` reads ``n`` bytes at an
    absolute address (its errors propagate). Reads the N slot headers and the headers of the
    reference's extra slots; never writes."""
    slots = []
    dense = 0
    reference_stopped = None
    for i in range(cfg.max_features):
        start = cfg.slot_start(i)
        raw = bytes(read(start, HEADER_SIZE))
        r = SlotReport(i, start, raw, FeatureHeader.unpack(raw))
        if r.state == "used":
            r.index = dense
            dense += 1
            _check_used(r, cfg)
            if reference_stopped is not None:
                r.anomalies.append(Anomaly("hidden_from_reference", INFO, "KERNEL-FLASH 1.0.3 stops its "
                                           f"boot scan at slot {reference_stopped} and would not "
                                           "list this Feature", i))
        else:
            _check_other(r)
            if r.state != "removed" and reference_stopped is None:
                reference_stopped = i
        slots.append(r)
    report = ScanReport(cfg, slots)
    _ram_overlaps(report.used)
    # The reference walks on past N while a slot start lies inside the region (§18 row 1).
    i = cfg.max_features
    while cfg.slot_size and cfg.slot_start(i) + HEADER_SIZE <= cfg.kf_end:
        start = cfg.slot_start(i)
        hdr = FeatureHeader.unpack(bytes(read(start, HEADER_SIZE)))
        if hdr.state in ("used", "removed"):
            report.anomalies.append(Anomaly(
                "reference_extra_slot", WARNING, f"{hdr.state.upper()} header at {start:#x}, in the "
                f"reference's extra slot {i} beyond the {cfg.max_features} slots; ignored", None))
        i += 1
    return report
