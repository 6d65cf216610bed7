"""Checking a build record (``build.json``, written by :mod:`flashstack.build.output`) before
anything trusts it: ``inspect`` takes the board, device base addresses and per-partition content
hints (store kind and configuration) from it.

Only the shape is checked here (types of the keys readers use); a hint that is well-formed but
wrong for the bytes is the probes' business. Errors: InvalidArgument (EINVAL) naming the file
and the key path (``partitions[2].content.config.block_size``).
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgument
from ..inputs import type_name

__all__ = ["check_record"]

_NUMERIC_SUFFIXES = ("_size", "_count", "_len", "_align", "_start", "_base", "_address",
                     "_cycles", "_max", "_features")


def _numeric_key(key: str) -> bool:
    """Config keys that hold sizes, counts or addresses (bytes or units)."""
    return key == "align" or key.startswith("max_") or key.endswith(_NUMERIC_SUFFIXES)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, what: str, value: Any) -> None:
        raise InvalidArgument(f"build record {self.source}: {where} must be {what} (got "
                              f"{type_name(value)} {str(value)[:40]})")

    def opt(self, table: dict, key: str, where: str, ok, what: str) -> None:
        if key in table and table[key] is not None and not ok(table[key]):
            self.fail(f"{where}{key}", what, table[key])

    def list_of_tables(self, record: dict, key: str) -> list[dict]:
        entries = record.get(key, [])
        if not isinstance(entries, list):
            self.fail(key, "an array of objects", entries)
        for i, e in enumerate(entries):
            if not isinstance(e, dict):
                self.fail(f"{key}[{i}]", "an object", e)
        return entries

    def content(self, c: Any, where: str) -> None:
        if c is None:
            return
        if not isinstance(c, dict):
            self.fail(where, "an object or null", c)
        self.opt(c, "type", f"{where}.", lambda v: isinstance(v, str), "a string")
        cfg = c.get("config")
        if cfg is None:
            return
        if not isinstance(cfg, dict):
            self.fail(f"{where}.config", "an object", cfg)
        for k, v in cfg.items():
            if _numeric_key(k) and v is not None and not (_is_int(v) and v >= 0):
                self.fail(f"{where}.config.{k}", "an integer >= 0", v)
            if not isinstance(v, (int, str, type(None))):
                self.fail(f"{where}.config.{k}", "a number, string, boolean or null", v)


def check_record(record: Any, source: str) -> dict:
    """``record`` itself when its shape is usable (see the module docstring); InvalidArgument
    (EINVAL) naming ``source`` and the first bad key otherwise."""
    ck = _Checker(source)
    if not isinstance(record, dict):
        raise InvalidArgument(f"build record {source}: not a JSON object")
    for key in ("board", "board_spec"):
        ck.opt(record, key, "", lambda v: isinstance(v, str), "a string")
    ck.opt(record, "include_dirs", "", lambda v: isinstance(v, list) and all(
        isinstance(d, str) for d in v), "an array of strings")
    for i, d in enumerate(ck.list_of_tables(record, "devices")):
        if not isinstance(d.get("name"), str):
            ck.fail(f"devices[{i}].name", "a string", d.get("name"))
        ck.opt(d, "base_address", f"devices[{i}].", lambda v: _is_int(v) and v >= 0,
               "an integer >= 0")
    for i, p in enumerate(ck.list_of_tables(record, "partitions")):
        if not isinstance(p.get("label"), str):
            ck.fail(f"partitions[{i}].label", "a string", p.get("label"))
        ck.opt(p, "sha256", f"partitions[{i}].", lambda v: isinstance(v, str), "a string")
        ck.content(p.get("content"), f"partitions[{i}].content")
    return record
