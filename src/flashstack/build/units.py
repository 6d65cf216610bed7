"""Per-unit builds: one image set per CSV row, the row's columns filling ``{column}``
placeholders of the manifest (docs/build-outputs.md UNIT-1).

The partitions whose manifest entries hold no placeholder are built once (the *template*);
per unit only the others are rendered, on in-memory copies of their partitions, and spliced
into a copy of the template's device bytes. Devices a unit does not change are hard-linked
to the first unit's file instead of being written again.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import re
import shutil
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FlashError, InvalidArgument, NotFound, PowerLoss
from .job import _hex_segments, build, plan_build
from .manifest import ManifestError, parse_manifest
from .output import (
    HEX_NAME,
    RECORD_NAME,
    extra_outputs,
    hex_text,
    write_outputs,
)
from .providers import make_provider
from .providers.base import scratch_area

__all__ = ["UnitsResult", "build_units", "fill_placeholders"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_UNIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class UnitsResult:
    """``built``: unit names written; ``failed``: ``(csv line, message)`` of rows that wrote
    nothing; ``seconds``: wall time of the whole run."""

    built: list[str] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_PLACEHOLDER.search(value))
    if isinstance(value, dict):
        return any(_has_placeholder(k) or _has_placeholder(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    return False


def fill_placeholders(value: Any, row: dict[str, str], where: str) -> Any:
    """``value`` (TOML data) with every ``{column}`` in its strings (keys too) replaced by the
    row's text. InvalidArgument (EINVAL) naming ``where`` for a column the row lacks or leaves empty."""
    if isinstance(value, str):
        def sub(m: re.Match) -> str:
            text = row.get(m.group(1))
            if text is None or text == "":
                raise InvalidArgument(f"{where}: no value for placeholder {{{m.group(1)}}} "
                                      f"(columns: {', '.join(row)})")
            return text
        return _PLACEHOLDER.sub(sub, value)
    if isinstance(value, dict):
        return {fill_placeholders(k, row, where): fill_placeholders(v, row, where) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, row, where) for v in value]
    return value


def _read_rows(csv_path: Path) -> list[tuple[int, dict[str, str]]]:
    if not csv_path.is_file():
        raise NotFound(f"units file {str(csv_path)!r} not found")
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            raise InvalidArgument(f"{csv_path}: no header line")
        rows = []
        for row in reader:
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}))
    return rows


class _Template:
    """The build of every partition without placeholders, and what units need from it."""

    def __init__(self, raw: dict, source: str, base_dir: Path, formats, board=None):
        self.raw, self.source, self.base_dir = raw, source, base_dir
        parts = raw.get("partitions", {})
        self.dynamic = {k for k, v in parts.items() if _has_placeholder(v)}
        static = copy.deepcopy(raw)
        static["partitions"] = {k: v for k, v in parts.items() if k not in self.dynamic}
        manifest = parse_manifest(static, source, base_dir)
        self.formats = tuple(formats or manifest.formats)
        self.result = build(manifest, None, formats=("bin",), board=board)
        self.plan = self.result.plan
        board_: Any = self.plan.board
        self.board = board_
        full = parse_manifest(_blank(raw, self.dynamic), source, base_dir)
        self.full_plan = plan_build(full, self.board) if self.dynamic else self.plan
        with board_.open(images=None, allow_double_writes=True) as ob:
            self.areas = {p.label: scratch_area(ob.flash_map.by_id(_spec(p).id) if _spec(p).id is not None
                                                else ob.area(p.label))
                          for p in self.full_plan.partitions if p.label in self._dynamic_labels()}
        self.shared: dict[str, Path] = {}

    def _dynamic_labels(self) -> set[str]:
        return {p.label for p in self.full_plan.partitions if _names(p) & self.dynamic}

    @property
    def devices(self) -> set[str]:
        """Devices holding a partition with placeholders."""
        return {_spec(p).device for p in self.full_plan.partitions if p.label in self.areas}


def _spec(part) -> Any:
    """The board PartitionSpec of a planned partition (typed loosely by the plan)."""
    return part.spec


def _names(part) -> set:
    """Every name a manifest may use for a planned partition."""
    spec = _spec(part)
    return {part.label, *(spec.node_labels or ()), getattr(spec, "label", None), str(spec.id)}


def _blank(raw: dict, dynamic: set[str]) -> dict:
    """The manifest with its placeholder partitions as erased entries (to resolve their labels)."""
    out = copy.deepcopy(raw)
    out["partitions"] = {k: ({"type": "erased"} if k in dynamic else v) for k, v in raw.get("partitions", {}).items()}
    return out


def _unit(t: _Template, line: int, row: dict[str, str], csv_name: str, out_dir: Path) -> str:
    """Build and write one unit; returns its name. Errors name the CSV line."""
    where = f"{csv_name} line {line}"
    name = next(iter(row.values()), "")
    if not _UNIT_NAME.match(name):
        raise InvalidArgument(f"{where}: unit name {name!r} (first column) is not usable as a folder name")
    raw_parts = {k: v for k, v in t.raw["partitions"].items() if k in t.dynamic}
    filled = fill_placeholders({"board": t.raw.get("board", ""), "partitions": raw_parts}, row, where)
    manifest = parse_manifest(filled, f"{t.source} ({where})", t.base_dir)
    images = {n: bytearray(t.result.images[n]) for n in t.devices}    # only devices a unit changes
    # copy only what a unit changes: the template record is large (layouts, file lists)
    base = t.result.record
    record = {**base, "partitions": [dict(p) for p in base["partitions"]],
              "devices": [dict(d) for d in base["devices"]], "outputs": dict(base["outputs"])}
    parts = {p["label"]: p for p in record["partitions"]}
    changed: set[str] = set()
    for entry in manifest.partitions:
        plan_part = next(p for p in t.full_plan.partitions if p.label in t.areas and entry.label in _names(p))
        area = scratch_area(t.areas[plan_part.label])
        provider = make_provider(entry)
        try:
            provider.check(area)
            provider.render(area)
        except PowerLoss:
            raise
        except ManifestError:
            raise
        except FlashError as exc:
            raise ManifestError(f"{provider.where()}: {exc.strerror}") from exc
        data = area.read(0, area.size)
        s = _spec(plan_part)
        images[s.device][s.offset:s.offset + s.size] = data
        changed.add(s.device)
        parts[plan_part.label].update(content=provider.describe(), sha256=hashlib.sha256(data).hexdigest())
    for d in record["devices"]:
        if d["name"] in changed:
            d["sha256"] = hashlib.sha256(images[d["name"]]).hexdigest()
    record["unit"] = {"name": name, "csv_line": line, "columns": row}
    files: dict[str, bytes | str] = {}
    final = {**t.result.images, **{n: bytes(b) for n, b in images.items()}}
    if "bin" in t.formats:
        files.update({f"{n}.bin": final[n] for n in changed})
        record["outputs"]["bin"] = [f"{n}.bin" for n in final]
    hex_segments = _hex_segments(t.plan, final) if "hex" in t.formats else None
    built = {p.label for p in t.plan.partitions if p.provider is not None} | set(t.areas)
    more, hex_segments = extra_outputs(t.plan, final, t.formats, hex_segments, record["outputs"], built=built)
    if hex_segments is not None:
        files[HEX_NAME] = hex_text(hex_segments)
        record["outputs"]["hex"] = HEX_NAME
    files.update(more)
    files[RECORD_NAME] = json.dumps(record) + "\n"    # compact: the indented encoder is 10x slower
    _write_unit(t, out_dir / name, files, final if "bin" in t.formats else {}, changed)
    return name


def _write_unit(t: _Template, unit_dir: Path, files: dict[str, bytes | str], images: dict[str, bytes],
                changed: set[str]) -> None:
    """All files of a unit into a hidden folder, then renamed into place (OUT-2): a unit is
    either complete or absent. An existing unit folder gets its files replaced one by one."""
    if unit_dir.exists():
        write_outputs(unit_dir, files)
        _link_shared(t, unit_dir, images, changed)
        return
    unit_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = unit_dir.parent / f".{unit_dir.name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for fname, content in files.items():
            (tmp / fname).write_bytes(content.encode() if isinstance(content, str) else content)
        _link_shared(t, tmp, images, changed)
        os.rename(tmp, unit_dir)
        for n in images:
            if n not in changed and n not in t.shared:
                t.shared[n] = unit_dir / f"{n}.bin"
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _link_shared(t: _Template, unit_dir: Path, images: dict[str, bytes], changed: set[str]) -> None:
    """Unchanged device images: a hard link to one shared copy (a copy where links fail)."""
    for name, data in images.items():
        if name in changed:
            continue
        target = unit_dir / f"{name}.bin"
        first = t.shared.get(name)
        if first is None or not first.exists():
            target.write_bytes(data)
            continue
        try:
            os.link(first, target)
        except OSError:
            target.write_bytes(data)


def build_units(manifest_path: str | os.PathLike, units_csv: str | os.PathLike, out_dir: str | os.PathLike,
                formats: tuple[str, ...] | None = None, *, board=None,
                progress: Callable[[int, int], None] | None = None) -> UnitsResult:
    """One image set per row of ``units_csv`` into ``out_dir/<first column>/`` (UNIT-1).
    A row that fails (placeholder without value, bad content, duplicate unit name) writes
    nothing and is listed in ``failed`` with its CSV line; the other rows are built. Errors of
    the manifest itself (before any unit) raise ManifestError (EINVAL). ``progress(done, total)``
    is called after every unit."""
    start = time.perf_counter()
    path = Path(manifest_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"manifest {str(path)!r} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})") from None
    rows = _read_rows(Path(units_csv))
    t = _Template(raw, str(path), path.parent, formats, board)
    result = UnitsResult()
    seen: set[str] = set()
    out = Path(out_dir)
    for i, (line, row) in enumerate(rows):
        name = next(iter(row.values()), "")
        try:
            if name in seen:
                raise InvalidArgument(f"{Path(units_csv).name} line {line}: unit {name!r} appears twice")
            result.built.append(_unit(t, line, row, Path(units_csv).name, out))
            seen.add(name)
        except PowerLoss:
            raise
        except FlashError as exc:
            msg = exc.strerror or str(exc)
            if f"line {line}" not in msg:
                msg = f"{Path(units_csv).name} line {line}: {msg}"
            result.failed.append((line, msg))
        if progress:
            progress(i + 1, len(rows))
    result.seconds = time.perf_counter() - start
    return result
