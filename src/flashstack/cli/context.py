"""Context of a store command: which store kind a partition holds, what the build record says
about it, and where each store parameter comes from (:func:`flashstack.stores.resolve`:
flags, then the build record, then the bytes, then defaults).

Writers call :func:`guard_writer` before their first flash operation: a partition that holds
another recognised kind (an MCUboot image, a littlefs, another store), or non-erased data no
kind recognises, is refused unless ``--force``; so is one the build record says holds another
kind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from .common import fail

__all__ = ["record_entry", "view_of", "detections", "guard_writer", "resolve_params", "params_line",
           "EXIT_DAMAGE"]

#: exit status of a dump/inspect/verify that found damage or a difference from the build record
EXIT_DAMAGE = 3


def _record_for(image: str | os.PathLike | None) -> tuple[dict | None, str | None]:
    """The build record beside or named for ``image``: ``<dir>/build.json`` for a folder,
    ``<image>.json`` / ``<stem>.build.json`` / ``build.json`` beside a file."""
    if image is None:
        return None, None
    p = Path(image)
    cands = [p / "build.json"] if p.is_dir() else [
        p.with_name(p.name + ".json"), p.with_name(p.stem + ".build.json"), p.parent / "build.json"]
    for c in cands:
        if c.is_file():
            try:
                rec = json.loads(c.read_text())
            except (OSError, ValueError) as exc:
                raise InvalidArgument(f"build record {c}: not valid JSON ({exc})") from None
            if isinstance(rec, dict) and isinstance(rec.get("partitions"), list):
                return rec, str(c)
    return None, None


def record_entry(image, area) -> tuple[dict | None, str | None]:
    """``(content, record path)``: the build record's ``content`` entry of ``area`` (matched
    by label, node label or id), or ``(None, path-or-None)``."""
    rec, path = _record_for(image)
    if rec is None:
        return None, None
    names = {area.name, getattr(area, "label", None), *(getattr(area, "node_labels", None) or ())}
    for part in rec["partitions"]:
        if part.get("label") in names or (part.get("id") is not None and part.get("id") == area.id
                                          and part.get("device") == area.device.name):
            return part.get("content") or {"type": "erased"}, path
    return None, path


def view_of(area, storage=None):
    """A :class:`flashstack.stores.PartitionView` of ``storage`` (default ``area``): its bytes
    and ``area``'s geometry. Reads only."""
    from ..stores import PartitionView
    storage = storage if storage is not None else area
    pages = {p.size for p in area.erase_pages()}
    return PartitionView(getattr(storage, "name", area.name), storage.read(0, storage.size), area,
                         erase_value=area.erased_val, erase_page=pages.pop() if len(pages) == 1 else None,
                         write_block=area.align, address=area.address)


def detections(view) -> list:
    """Every registered kind that recognises the bytes, most confident first."""
    from ..stores import detect_all
    return detect_all(view)


def guard_writer(kind_name: str, view, found: list, content: dict | None, force: bool,
                 command: str) -> None:
    """Refuse (exit 1, naming what is there) to write ``kind_name`` into a partition that holds
    something else, unless ``force``. ``found``: :func:`detections` of ``view``; ``content``:
    the build record's entry."""
    if force:
        return
    from ..stores import find, lookup
    mine = lookup(kind_name)
    hint = f"; pass --force to overwrite it with {command}"
    other = [d for d in found if d.kind not in (mine.name, "erased")]
    if other and not any(d.kind == mine.name for d in found):
        k = lookup(other[0].kind)
        fail(f"partition {view.name} holds {k.title} ({k.name}, detected from its bytes){hint}")
    if not found:
        fail(f"partition {view.name} holds data that is neither erased nor {mine.title}{hint}")
    rec_kind = find((content or {}).get("type") or "")
    if rec_kind is not None and rec_kind.name not in (mine.name, "erased"):
        fail(f"partition {view.name}: the build record says it holds {rec_kind.title} ({rec_kind.name}), "
             f"not {mine.title}{hint}")


def resolve_params(kind_name: str, names: list[str], flags: dict, content: dict | None,
                   record_path: str | None, found: list, defaults: dict, flag_names: dict | None = None):
    """:func:`flashstack.stores.resolve` for ``kind_name``: the record's ``config`` only when it
    describes this kind, the detection of this kind only."""
    from ..stores import find, resolve
    mine = find(kind_name)
    rec_kind = find((content or {}).get("type") or "")
    cfg = (content or {}).get("config") or {} if rec_kind is mine else {}
    det = next((d for d in found if d.kind == kind_name), None)
    return resolve(names, flags=flags, record=cfg, detected=det, defaults=defaults, flag_names=flag_names,
                   record_name=f"build record {record_path}" if record_path else "build record")


def params_line(resolved) -> Any:
    """One dim line ``parameters: name = value (source); ...`` (literal text)."""
    from rich.text import Text
    return Text("parameters: " + "; ".join(resolved.lines()), style="dim")
