"""KV import and export: CSV ``key,type,encoding,value`` and JSON (flashstack additions).

CSV (the shape of ESP-IDF's NVS partition generator, without namespaces)::

    key,type,encoding,value
    wifi.ssid,data,string,flashstack
    boot.count,data,u32,0x10
    cert,file,binary,certs/dev.der      # type "file": value is a path (relative to the CSV)
    blob,data,hex2bin,00ff10

``type`` is ``data`` or ``file``. Encodings: ``string`` (UTF-8), ``hex2bin``, ``base64``,
``binary``/``file`` (raw bytes of a file), ``u8 i8 u16 i16 u32 i32 u64 i64`` (little-endian;
value in decimal or 0x hex). JSON: ``{"items": [{"key", "encoding", "value"}]}`` or a plain
object ``{key: text | {"encoding", "value"}}``.

Import validates every row first — encoding, integer range, key and value length, duplicate
keys, and capacity, by replaying the whole import on an in-memory copy of the store (exact:
same algorithm, same geometry) — and writes nothing if any row is bad; the error names the
rows. Rows are numbered as lines of the file (header = line 1).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import os
from dataclasses import dataclass

from ..errors import FlashError, InvalidArgument, NoSpace
from ..inputs import decode_text, read_bytes, read_referenced

__all__ = ["KVItem", "INT_ENCODINGS", "parse_csv", "parse_json", "load_items", "check_items",
           "import_items", "export_items", "items_to_csv", "items_to_json"]

INT_ENCODINGS = {"u8": (1, False), "i8": (1, True), "u16": (2, False), "i16": (2, True),
                 "u32": (4, False), "i32": (4, True), "u64": (8, False), "i64": (8, True)}
TEXT_ENCODINGS = ("string", "hex2bin", "base64", "binary", "file")


@dataclass
class KVItem:
    """One item to import: ``key`` (str), ``value`` (bytes), how it was given, and where."""

    key: str
    value: bytes
    encoding: str = "string"
    row: str = ""


def _decode(encoding: str, text: str, *, base_dir: str | None, is_file: bool,
            allow_outside: bool = False, where: str = "") -> bytes:
    enc = encoding.strip().lower()
    if is_file or enc == "file":
        # a referenced file: regular, size-limited, inside the importing file's folder
        raw = read_referenced(text, base_dir or os.getcwd(), allow_outside=allow_outside,
                              where=where)
        if enc in ("file", "binary"):
            return raw
        text = decode_text(raw, f"{where}: file {text!r}")
    if enc == "string":
        return text.encode("utf-8")
    if enc == "hex2bin":
        try:
            return bytes.fromhex(text.strip())
        except ValueError:
            raise ValueError(f"{text[:40]!r} is not hexadecimal") from None
    if enc == "base64":
        try:
            return base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{text[:40]!r} is not base64") from None
    if enc == "binary":
        return text.encode("utf-8")
    if enc in INT_ENCODINGS:
        size, signed = INT_ENCODINGS[enc]
        try:
            n = int(text.strip(), 0)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
        if not lo <= n <= hi:
            raise ValueError(f"{n} is outside the {enc} range {lo}..{hi}")
        return n.to_bytes(size, "little", signed=signed)
    raise ValueError(f"unknown encoding {encoding!r} (known: {', '.join(TEXT_ENCODINGS + tuple(INT_ENCODINGS))})")


def _without_comments(text: str):
    """The physical lines of ``text`` with ``#`` comment lines blanked (line numbers kept). A line
    is a comment only outside a quoted field, so a quoted key ``"#name"`` is data."""
    in_quote = False
    for line in io.StringIO(text, newline=""):  # the line breaks csv knows (not U+0085 etc.)
        if not in_quote and line.lstrip().startswith("#"):
            yield "\n"
            continue
        if line.count('"') % 2:
            in_quote = not in_quote
        yield line


def _rows(reader, source: str):
    """The rows of a csv reader; its errors (unterminated quote, a field over the csv
    module's limit) as InvalidArgument naming the line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise InvalidArgument(f"{source}:{reader.line_num}: malformed CSV: {e}") from None
        yield row


def parse_csv(text: str, *, source: str = "<csv>", base_dir: str | None = None,
              allow_outside: bool = False) -> list[KVItem]:
    """Items of a CSV text; InvalidArgument (EINVAL) naming every bad row. ``type=file`` rows
    read regular files inside ``base_dir`` only, unless ``allow_outside`` (see
    :func:`flashstack.inputs.read_referenced`)."""
    items, errors = [], []
    reader = csv.reader(_without_comments(text))
    header = None
    for row in _rows(reader, source):
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            if header[:4] != ["key", "type", "encoding", "value"]:
                raise InvalidArgument(f"{source}:{line}: header must be key,type,encoding,value, got {','.join(row)}")
            continue
        where = f"{source}:{line}"
        if len(row) < 4:
            errors.append(f"{where}: expected 4 columns key,type,encoding,value, got {len(row)}")
            continue
        key, typ, enc, value = row[0], row[1].strip().lower(), row[2], ",".join(row[3:])
        if typ not in ("data", "file"):
            errors.append(f"{where}: key {key!r}: type {row[1]!r} must be 'data' or 'file'")
            continue
        try:
            items.append(KVItem(key, _decode(enc, value, base_dir=base_dir, is_file=typ == "file",
                                             allow_outside=allow_outside, where=where),
                                enc.strip().lower(), where))
        except FlashError as e:
            errors.append(f"key {key!r}: {e.strerror}")
        except ValueError as e:
            errors.append(f"{where}: key {key!r}: {e}")
    if header is None:
        raise InvalidArgument(f"{source}: empty CSV (expected header key,type,encoding,value)")
    if errors:
        raise InvalidArgument(_summary(errors))
    return items


def parse_json(text: str, *, source: str = "<json>", base_dir: str | None = None,
               allow_outside: bool = False) -> list[KVItem]:
    """Items of a JSON document (see the module docstring); InvalidArgument naming every bad
    item. ``"encoding": "file"`` values are read as CSV ``type=file`` rows are."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidArgument(f"{source}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except RecursionError:
        raise InvalidArgument(f"{source}: JSON nested too deeply") from None
    if isinstance(doc, dict) and "items" in doc:
        if not isinstance(doc["items"], list):
            raise InvalidArgument(f"{source}: 'items' must be an array of {{key, encoding, value}} "
                                  f"objects (got {type(doc['items']).__name__})")
        entries = [(f"{source}: items[{i}]", it) for i, it in enumerate(doc["items"])]
    elif isinstance(doc, dict):
        entries = [(f"{source}: {k!r}", {"key": k, **(v if isinstance(v, dict) else {"value": v})})
                   for k, v in doc.items()]
    else:
        raise InvalidArgument(f"{source}: expected an object with 'items' or a key -> value object")
    items, errors = [], []
    for where, it in entries:
        try:
            if not isinstance(it, dict) or "key" not in it or "value" not in it:
                raise ValueError("needs 'key' and 'value'")
            enc = it.get("encoding", "string")
            if not isinstance(enc, str):
                raise ValueError("'encoding' must be a string")
            val = it["value"]
            if isinstance(val, int) and not isinstance(val, bool):
                val = str(val)
            if not isinstance(val, str) or not isinstance(it["key"], str):
                raise ValueError("key and value must be strings (or an integer value)")
            items.append(KVItem(it["key"], _decode(enc, val, base_dir=base_dir, is_file=False,
                                                   allow_outside=allow_outside, where=where),
                                enc.lower(), where))
        except FlashError as e:
            errors.append(e.strerror)
        except ValueError as e:
            errors.append(f"{where}: {e}")
    if errors:
        raise InvalidArgument(_summary(errors))
    return items


def load_items(path: str, fmt: str | None = None, *, allow_outside: bool = False) -> list[KVItem]:
    """Items of a CSV or JSON file (format from ``fmt`` or the extension; CSV otherwise).

    The file is read as strict UTF-8 (InvalidArgument naming the offset of a bad byte), must be
    a regular file of at most 16 MiB; files it references stay inside its folder unless
    ``allow_outside``. NotFound (ENOENT) when missing."""
    text = decode_text(read_bytes(path, what="import file"), path)  # \r kept in quoted fields
    kind = (fmt or os.path.splitext(path)[1].lstrip(".") or "csv").lower()
    base = os.path.dirname(os.path.abspath(path))
    if kind == "json":
        return parse_json(text, source=path, base_dir=base, allow_outside=allow_outside)
    return parse_csv(text, source=path, base_dir=base, allow_outside=allow_outside)


def _summary(errors: list[str], limit: int = 10) -> str:
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    return f"{len(errors)} bad row(s), nothing written: " + "; ".join(errors[:limit]) + more


def check_items(store, items: list[KVItem], *, clear: bool = False) -> dict:
    """Validate ``items`` for ``store`` without writing it: argument rules per row, duplicate keys,
    and capacity by replaying the import on an in-memory copy of the store's image (plus a fresh
    store of the same geometry). Returns a plan summary; raises InvalidArgument naming the rows."""
    cfg = store.config
    errors: list[str] = []
    seen: dict[bytes, str] = {}
    for it in items:
        k = it.key.encode("utf-8")
        if not k:
            errors.append(f"{it.row}: empty key")
        elif len(k) > cfg.max_key_len:
            errors.append(f"{it.row}: key {it.key[:40]!r} is {len(k)} bytes; max_key_len is {cfg.max_key_len}")
        elif 0 in k or 0xFF in k:
            errors.append(f"{it.row}: key {it.key!r} contains a NUL or 0xFF byte")
        if not 1 <= len(it.value) <= cfg.max_val_len:
            errors.append(f"{it.row}: key {it.key!r}: value is {len(it.value)} bytes; 1..{cfg.max_val_len} allowed")
        if k in seen:
            errors.append(f"{it.row}: key {it.key!r} already given at {seen[k]}")
        seen.setdefault(k, it.row)
    if errors:
        raise InvalidArgument(_summary(errors))
    record_bytes = sum(cfg.record_len(len(it.key.encode()), len(it.value)) for it in items)
    fresh_row = _replay(None, cfg, items, clear=True)
    target_row = _replay(store, cfg, items, clear=clear)
    if target_row is not None:
        it = items[target_row]
        extra = "" if fresh_row is not None else " (they would fit a fresh store)"
        raise InvalidArgument(f"{it.row}: key {it.key!r}: no space left in the KV store after "
                              f"{target_row} of {len(items)} items ({record_bytes} bytes of records); "
                              f"nothing written{extra}")
    usable = (cfg.blocks - 1) * (cfg.block_size - 4)
    return {"items": len(items), "record_bytes": record_bytes, "usable_bytes": usable,
            "fits_fresh_store": fresh_row is None}


def _replay(store, cfg, items, *, clear: bool) -> int | None:
    """Index of the first item that finds no space on a copy of ``store`` (None: all fit)."""
    from ..device import SimulatedFlash
    from ..flash_map import FlashArea
    from .store import KVStore, shadow_area
    if store is not None:
        area = shadow_area(store.storage, cfg)
    else:
        dev = SimulatedFlash(cfg.total_size, erase_page_size=cfg.block_size, allow_double_writes=True)
        area = FlashArea(0, 0, cfg.total_size, dev)
    shadow = KVStore(area, cfg)
    shadow.mount()
    if clear:
        shadow.delete_by_prefix("")
    for i, it in enumerate(items):
        try:
            shadow.set(it.key, it.value)
        except NoSpace:
            return i
    return None


def import_items(store, items: list[KVItem], *, clear: bool = False) -> dict:
    """Validate everything (:func:`check_items`), then write: optionally delete every key first,
    then one set per item in order. Returns the plan summary plus ``written``."""
    plan = check_items(store, items, clear=clear)
    if clear:
        store.delete_by_prefix("")
    for it in items:
        store.set(it.key, it.value)
    plan["written"] = len(items)
    return plan


def _export_encoding(value: bytes) -> tuple[str, str]:
    try:
        text = value.decode("utf-8")
        if text.isprintable() and text == text.strip() and "\n" not in text:
            return "string", text
    except UnicodeDecodeError:
        pass
    return "base64", base64.b64encode(value).decode("ascii")


def items_to_csv(pairs) -> str:
    """CSV text for ``(key, value)`` pairs (string when printable, else base64)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # keys that look like comments
    w.writerow(["key", "type", "encoding", "value"])
    for k, v in pairs:
        enc, text = _export_encoding(v)
        key = k.decode("utf-8", "backslashreplace") if isinstance(k, bytes) else k
        (quoted if key.lstrip().startswith("#") else w).writerow([key, "data", enc, text])
    return out.getvalue()


def items_to_json(pairs) -> str:
    items = []
    for k, v in pairs:
        enc, text = _export_encoding(v)
        items.append({"key": k.decode("utf-8", "backslashreplace") if isinstance(k, bytes) else k,
                      "encoding": enc, "value": text})
    return json.dumps({"format": "flashstack-kv", "version": 1, "items": items}, indent=2) + "\n"


def export_items(store, path: str | None = None, fmt: str = "csv") -> str:
    """Every live item of ``store`` as CSV or JSON text; written to ``path`` when given."""
    text = items_to_json(store.items()) if fmt == "json" else items_to_csv(store.items())
    if path is not None:
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return text
