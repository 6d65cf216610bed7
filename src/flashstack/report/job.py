"""The report job: images (+ board or build record, wear files, torture results, plots) →
one self-contained HTML page.

The page is rendered with Jinja2 (extra ``report``) with autoescaping on: every string that
comes from an image, a board or a file name (keys, values, partition names) is hostile input
and reaches the page only escaped. Nothing on the page is fetched: styles and scripts are
inline, plots are ``data:`` URIs inside ``<img>`` (so an SVG given by the user cannot run
script), the flash maps and heatmaps are plain HTML boxes sized in percent.
"""

from __future__ import annotations

import base64
import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import InvalidArgument, NotFound, NotSupported
from .model import DeviceMap, TortureSummary, WearMap, device_maps, load_torture, load_wear

__all__ = ["ReportData", "collect", "render_html", "write_report"]

_PLOT_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
#: A plot file larger than this is refused: the page must stay small enough to mail.
MAX_PLOT_BYTES = 4 << 20


@dataclass
class ReportData:
    """Everything the page shows. ``inspection`` is :func:`flashstack.inspect.inspect_images`'s
    result; ``board`` is ``Board.to_json()`` (None for a boardless scan); ``record`` the build
    record (``build.json``) dict when there is one."""

    images: list[str]
    inspection: dict
    board: dict | None
    record: dict | None
    record_path: str | None
    maps: list[DeviceMap] = field(default_factory=list)
    wear: list[WearMap] = field(default_factory=list)
    torture: list[TortureSummary] = field(default_factory=list)
    plots: list[tuple[str, str]] = field(default_factory=list)  # (file name, data: URI)
    generated: str = ""


def _plot_uri(path: str | os.PathLike) -> tuple[str, str]:
    p = Path(path)
    kind = _PLOT_TYPES.get(p.suffix.lower())
    if kind is None:
        raise InvalidArgument(f"plot {p}: give an .svg or .png file")
    if not p.is_file():
        raise NotFound(f"plot {os.fspath(path)!r} not found")
    if p.stat().st_size > MAX_PLOT_BYTES:
        raise InvalidArgument(f"plot {p}: {p.stat().st_size} bytes, over the {MAX_PLOT_BYTES} byte limit")
    return p.name, f"data:{kind};base64,{base64.b64encode(p.read_bytes()).decode('ascii')}"


def _record(paths: list[Path], record: str | os.PathLike | None) -> tuple[dict | None, str | None]:
    from ..inspect import find_record
    from .model import _read_json

    path = Path(record) if record is not None else find_record(paths)
    if path is None:
        return None, None
    doc = _read_json(path, "build record")
    if not isinstance(doc, dict):
        raise InvalidArgument(f"build record {path}: not a JSON object")
    return doc, os.fspath(path)


def _rated_cycles(board_json: dict | None) -> dict[str, int]:
    """Rated erase cycles per device name, where the board names a known chip."""
    from ..device import chips

    out: dict[str, int] = {}
    for dev in (board_json or {}).get("devices", []):
        if dev.get("chip"):
            try:
                rated = chips.lookup(dev["chip"]).rated_cycles
            except Exception:  # noqa: BLE001 - an unknown chip only loses the endurance line
                continue
            if rated:
                out[dev["name"]] = rated
    return out


def collect(images, board=None, include_dirs=(), record=None, wear=(), torture=(),
            plots=()) -> ReportData:
    """Inspect ``images`` (raw/HEX files or build folders) and gather the other inputs.

    ``board``: a board spec (name, TOML, DTS, DTB) or None to take it from the build record
    (``build.json`` beside the images, or ``record``); with neither, one raw image is scanned
    boardless. ``wear``: wear files (device ``save_wear`` JSON or ``flashstack wear --json``);
    ``torture``: ``flashstack torture --json`` results; ``plots``: ``.svg``/``.png`` files
    (e.g. from ``plan --plot``). Reads only: no image or file is written.
    Errors: NotFound (ENOENT) / InvalidArgument (EINVAL) naming the file at fault."""
    from ..inspect import inspect_images

    paths = [Path(p) for p in images]
    if not paths:
        raise InvalidArgument("give at least one image or build folder")
    rec, rec_path = _record(paths, record)
    spec = board if board is not None else (rec or {}).get("board_spec") or (rec or {}).get("board")
    board_obj = None
    if spec is not None:
        from ..board import load_board
        dirs = tuple(include_dirs) or tuple((rec or {}).get("include_dirs", ()))
        board_obj = load_board(spec, include_dirs=dirs)
    inspection = inspect_images(paths, board=board_obj, record=rec, details=True)
    board_json = board_obj.to_json() if board_obj is not None else None
    data = ReportData([os.fspath(p) for p in paths], inspection, board_json, rec, rec_path,
                      generated=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    if board_json is not None:
        data.maps = device_maps(board_json, inspection.get("partitions"))
    rated = _rated_cycles(board_json)
    for w in wear:
        wm = load_wear(w)
        wm.rated_cycles = rated.get(wm.device or "")
        data.wear.append(wm)
    data.torture = [load_torture(t) for t in torture]
    data.plots = [_plot_uri(p) for p in plots]
    return data


def _environment():
    try:
        import jinja2
    except ImportError:
        raise NotSupported("flashstack report needs Jinja2: pip install 'flashstack[report]'") from None
    from ._filters import FILTERS

    env = jinja2.Environment(loader=jinja2.PackageLoader("flashstack.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env


def render_html(data: ReportData) -> str:
    """The page for ``data``: one HTML document, no external references."""
    ctx: dict[str, Any] = {"d": data, "version": __version__}
    return _environment().get_template("report.html.j2").render(**ctx)


def write_report(data: ReportData, out: str | os.PathLike) -> int:
    """Write the page to ``out`` atomically (a temporary file renamed over it, so a failure
    leaves any earlier report intact). Returns the number of bytes written."""
    html = render_html(data).encode("utf-8")
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(html)
    os.replace(tmp, out)
    return len(html)
