"""The JSON document of ``flashstack nvs import``: parsed and validated completely, applied to
an in-memory copy of the partition, and only then written (all or nothing).

Document: ``{"items": {"<id>": VALUE}, "settings": {"<name>": VALUE}}`` (either part may be
absent; other top-level keys, such as the ``partition``/``format``/``geometry`` that ``nvs
export`` writes, are ignored). VALUE is a hex string, ``{"hex": "<hex>"}`` or
``{"text": "<UTF-8 text>"}``. Every error is InvalidArgument (EINVAL) naming the file and key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..build.manifest import parse_hex
from ..errors import InvalidArgument
from ..nvs.format import ID_MARKER
from .common import parse_int

__all__ = ["NVSImport", "apply_import", "import_all_or_nothing", "parse_import", "rehearse"]


@dataclass
class NVSImport:
    """A validated import: ``items`` id -> value, ``settings`` name -> value (bytes)."""

    source: str
    items: dict[int, bytes] = field(default_factory=dict)
    settings: dict[str, bytes] = field(default_factory=dict)


def _value(v: Any, where: str) -> bytes:
    if isinstance(v, dict) and len(v) == 1:
        (form, inner), = v.items()
        if form in ("hex", "text") and isinstance(inner, str):
            return inner.encode("utf-8") if form == "text" else _hex(inner, where)
    elif isinstance(v, str):
        return _hex(v, where)
    raise InvalidArgument(f"{where}: a value is a hex string, {{\"hex\": \"...\"}} or "
                          f"{{\"text\": \"...\"}} (got {type(v).__name__})")


def _hex(text: str, where: str) -> bytes:
    try:
        return parse_hex(text)
    except ValueError:
        raise InvalidArgument(f"{where}: {text[:40]!r} is not whole bytes of hex digits") from None


def _id(key: str, where: str, id_max: int) -> int:
    try:
        value = parse_int(key)
    except (ValueError, TypeError):
        raise InvalidArgument(f"{where}: id {key[:40]!r} is not a number") from None
    if not 0 <= value <= id_max:
        raise InvalidArgument(f"{where}: id {key[:40]!r} outside 0..{id_max:#x}")
    return value


def _section(doc: dict, name: str, source: str) -> dict:
    part = doc.get(name)
    if part is None:
        return {}
    if not isinstance(part, dict):
        raise InvalidArgument(f"{source}: '{name}' must be an object of key: value "
                              f"(got {type(part).__name__})")
    return part


def parse_import(data: bytes, source: str, id_max: int = ID_MARKER - 1) -> NVSImport:
    """Decode (strict UTF-8) and validate an import document; ids must lie in ``0..id_max``
    (NVS: 0xfffe, below its 0xffff marker; ZMS passes its own). InvalidArgument (EINVAL)
    naming ``source`` and the byte offset, line or key of the first problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{source}: not UTF-8 (byte {exc.start}: "
                              f"{data[exc.start:exc.start + 1].hex()})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{source}: not JSON ({exc.msg} at line {exc.lineno} column "
                              f"{exc.colno})") from None
    except RecursionError:
        raise InvalidArgument(f"{source}: JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{source}: the document must be an object with 'items' and/or "
                              f"'settings' (got {type(doc).__name__})")
    out = NVSImport(source)
    for key, v in _section(doc, "items", source).items():
        where = f"{source}: items.{key[:40]}"
        out.items[_id(key, where, id_max)] = _value(v, where)
    for name, v in _section(doc, "settings", source).items():
        out.settings[name] = _value(v, f"{source}: settings.{name[:40]}")
    if not out.items and not out.settings:
        raise InvalidArgument(f"{source}: no 'items' or 'settings' to import")
    return out


def apply_import(store, doc: NVSImport, settings_of: Callable) -> int:
    """Write ``doc`` into a mounted NVSStore: ids first, then settings (through
    ``settings_of(store)``). Returns the number of entries written."""
    written = sum(1 for k, v in doc.items.items() if store.write(k, v))
    if doc.settings:
        s = settings_of(store)
        for k, v in doc.settings.items():
            s.save(k, v)
    return written + len(doc.settings)


def rehearse(area, open_store: Callable, fn: Callable):
    """``fn(open_store(copy))`` on an in-memory copy of ``area`` first (every error raised
    there, the partition untouched: a writing mount repairs a damaged store), then
    ``fn(open_store(area))``; returns the latter's result."""
    from ..nvs._scan import _memory_copy
    fn(open_store(_memory_copy(area)))
    return fn(open_store(area))


def import_all_or_nothing(area, open_store: Callable, doc: NVSImport, settings_of: Callable) -> int:
    """Apply ``doc`` to a copy of ``area``, then to the partition (see :func:`rehearse`);
    the number of entries written."""
    return rehearse(area, open_store, lambda store: apply_import(store, doc, settings_of))
