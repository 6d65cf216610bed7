"""The report's data, standard library only: flash-map geometry, wear summaries and torture
summaries computed from plain dicts (``Board.to_json()``, inspect reports, wear files,
torture ``--json`` results), so the HTML template only lays them out.

Every position here is a percentage of its device (0-100, float) computed from byte offsets
relative to the device; absolute addresses are the device base address plus the offset.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument, NotFound

__all__ = ["MapBox", "DeviceMap", "WearMap", "TortureSummary", "device_maps", "load_wear",
           "load_torture", "MAX_GRID_LINES"]

#: More erase-page lines than this on one device bar would paint it solid; the grid is drawn
#: only when it helps (fewer pages), and otherwise only run boundaries of a non-uniform layout.
MAX_GRID_LINES = 256


@dataclass
class MapBox:
    """One partition or free gap on a device bar. ``left``/``width`` are percentages of the
    device size; ``offset``/``size`` bytes relative to the device; ``address`` absolute (None
    when the device has no base address)."""

    kind: str  # "partition" | "free"
    name: str
    offset: int
    size: int
    address: int | None
    left: float
    width: float
    read_only: bool = False
    overlaps: list[str] = field(default_factory=list)
    label: str | None = None
    pid: int | None = None
    health: str | None = None
    content: str | None = None


@dataclass
class DeviceMap:
    """A device drawn to scale: its boxes and its erase-page grid lines (percentages)."""

    name: str
    size: int
    base_address: int | None
    layout: list[tuple[int, int]]
    write_block_size: int
    erase_value: int
    chip: str | None
    boxes: list[MapBox]
    grid: list[float]
    grid_note: str


def _pct(n: int, total: int) -> float:
    return 100.0 * n / total if total else 0.0


def _grid(layout: list[tuple[int, int]], size: int) -> tuple[list[float], str]:
    """Erase-page boundary positions: every page when there are few, else run boundaries."""
    pages = sum(c for c, _ in layout)
    lines: list[float] = []
    pos = 0
    every = pages <= MAX_GRID_LINES
    for count, page in layout:
        for _ in range(count if every else 1):
            if pos:
                lines.append(_pct(pos, size))
            pos += page if every else count * page
    if every:
        return lines, f"grid: every erase page ({pages} pages)"
    if len(layout) > 1:
        return lines, f"grid: boundaries between page sizes ({pages} pages, too many to draw)"
    return [], f"no grid: {pages} pages of {layout[0][1]} bytes are too many to draw"


def _overlaps(parts: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i, a in enumerate(parts):
        for b in parts[i + 1:]:
            if a["offset"] < b["offset"] + b["size"] and b["offset"] < a["offset"] + a["size"]:
                out.setdefault(a["name"], []).append(b["name"])
                out.setdefault(b["name"], []).append(a["name"])
    return out


def _partition_name(p: dict) -> str:
    return p.get("node_label") or p.get("label_property") or f"partition {p.get('id')}"


def device_maps(board_json: dict, reports: list[dict] | None = None) -> list[DeviceMap]:
    """One :class:`DeviceMap` per device of ``board_json`` (``Board.to_json()``), its
    partitions (with free gaps between them) drawn to scale. ``reports`` (inspect partition
    reports) add each partition's health and kind. Overlapping partitions are marked with the
    names they overlap."""
    by_name = {r["partition"]: r for r in reports or []}
    maps = []
    for dev in board_json.get("devices", []):
        size = int(dev["size"])
        base = dev.get("base_address")
        parts = sorted(({"name": _partition_name(p), **p} for p in board_json.get("partitions", [])
                        if p.get("device") == dev["name"]), key=lambda p: (p["offset"], p["size"]))
        over = _overlaps(parts)
        boxes = []
        cursor = 0
        for p in parts:
            if p["offset"] > cursor:
                boxes.append(_free(cursor, p["offset"], size, base))
            rep = by_name.get(p["name"], {})
            boxes.append(MapBox("partition", p["name"], p["offset"], p["size"],
                                None if base is None else base + p["offset"],
                                _pct(p["offset"], size), _pct(p["size"], size),
                                read_only=bool(p.get("read_only")), overlaps=over.get(p["name"], []),
                                label=p.get("label_property"), pid=p.get("id"),
                                health=rep.get("health"), content=rep.get("kind")))
            cursor = max(cursor, p["offset"] + p["size"])
        if cursor < size:
            boxes.append(_free(cursor, size, size, base))
        layout = [(int(c), int(s)) for c, s in dev.get("layout") or []]
        grid, note = _grid(layout, size) if layout else ([], "erase layout unknown")
        maps.append(DeviceMap(dev["name"], size, base, layout, dev.get("write_block_size", 1),
                              dev.get("erase_value", 0xFF), dev.get("chip"), boxes, grid, note))
    return maps


def _free(start: int, end: int, size: int, base: int | None) -> MapBox:
    return MapBox("free", "(free)", start, end - start, None if base is None else base + start,
                  _pct(start, size), _pct(end - start, size))


# --- wear -------------------------------------------------------------------------
@dataclass
class WearMap:
    """Erase counts per page from a wear file. ``cycles[i]`` is page i's erase count;
    ``cells`` holds ``(page, cycles, level 0..1)`` for the heatmap; ``lifetime_years`` is the
    file's own estimate when it has one (``flashstack wear --json``)."""

    source: str
    device: str | None
    page_size: int | None
    cycles: list[int]
    max: int
    mean: float
    lifetime_years: float | None
    rated_cycles: int | None
    cells: list[tuple[int, int, float]]


def _read_json(path: str | os.PathLike, what: str) -> Any:
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"{what} {os.fspath(path)!r} not found")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{what} {p}: not UTF-8 text (bad byte at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{what} {p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def _counts(doc: dict, path: str | os.PathLike) -> list[int]:
    cycles = doc.get("erase_cycles", doc.get("page_cycles"))
    if not isinstance(cycles, list) or not cycles or not all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in cycles):
        raise InvalidArgument(f"wear file {path}: needs 'erase_cycles' (device save_wear) or "
                              "'page_cycles' (flashstack wear --json): a non-empty list of counts >= 0")
    return cycles


def load_wear(path: str | os.PathLike, rated_cycles: int | None = None) -> WearMap:
    """A :class:`WearMap` from a device ``save_wear`` file (``{"device", "erase_cycles"}``)
    or ``flashstack wear --json`` output (``{"page_cycles", "unit_size", "lifetime_years"}``).
    NotFound (ENOENT) when missing; InvalidArgument (EINVAL) naming the file when it is not
    one of those shapes."""
    doc = _read_json(path, "wear file")
    if not isinstance(doc, dict):
        raise InvalidArgument(f"wear file {path}: not a JSON object")
    cycles = _counts(doc, path)
    top = max(cycles)
    life = doc.get("lifetime_years")
    life = float(life) if isinstance(life, (int, float)) and math.isfinite(life) else None
    return WearMap(os.fspath(path), doc.get("device") if isinstance(doc.get("device"), str) else None,
                   doc.get("unit_size") if isinstance(doc.get("unit_size"), int) else None,
                   cycles, top, sum(cycles) / len(cycles), life, rated_cycles,
                   [(i, n, n / top if top else 0.0) for i, n in enumerate(cycles)])


# --- torture ----------------------------------------------------------------------
@dataclass
class TortureSummary:
    """One campaign result (``flashstack torture ... --json``): what ran, cuts per tear mode
    (tried, failed), and the failures with their replay commands."""

    source: str
    title: str
    ok: bool
    cuts: int
    rows: list[tuple[str, int, int]]
    failures: list[dict]
    doc: dict


def load_torture(path: str | os.PathLike) -> TortureSummary:
    """A :class:`TortureSummary` from a torture ``--json`` file; NotFound (ENOENT) when
    missing, InvalidArgument (EINVAL) naming the file when it is not a campaign result."""
    doc = _read_json(path, "torture result")
    if not isinstance(doc, dict) or not isinstance(doc.get("tried"), dict):
        raise InvalidArgument(f"torture result {path}: not a `flashstack torture --json` result "
                              "(no 'tried' table)")
    tried, failed = doc["tried"], doc.get("failed") or {}
    rows = [(str(t), int(n), int(failed.get(t, 0))) for t, n in tried.items()]
    failures = [f for f in doc.get("failures") or [] if isinstance(f, dict)]
    args = doc.get("target_args") or [doc.get("target", "?")]
    title = (f"torture {' '.join(map(str, args))} --workload {doc.get('workload', '?')} "
             f"--ops {doc.get('ops', '?')} --seed {doc.get('seed', '?')}")
    return TortureSummary(os.fspath(path), title, bool(doc.get("ok")) and not failures,
                          sum(n for _, n, _ in rows), rows, failures, doc)
