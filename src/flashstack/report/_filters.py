"""Jinja2 filters for the report page. Each returns plain text (the template escapes it)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FILTERS", "human_size", "hex_or_text", "heat_color"]


def human_size(n: Any) -> str:
    """``4096`` → ``4 KiB``; non-whole multiples keep bytes (``1000 B``)."""
    if not isinstance(n, int):
        return str(n)
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def hexaddr(n: Any) -> str:
    return f"{n:#x}" if isinstance(n, int) else "-"


def hex_or_text(value: Any) -> str:
    """A value given as a hex string (KV/NVS dumps) shown as text when it decodes to
    printable UTF-8, else as spaced hex bytes. Invalid UTF-8 never raises."""
    if not isinstance(value, str):
        return json.dumps(value)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return value
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text and text.isprintable():
        return text
    return raw.hex(" ") if raw else "(empty)"


def heat_color(level: float) -> str:
    """A CSS colour from pale yellow (0) to dark red (1) for a wear level in [0, 1]."""
    level = min(1.0, max(0.0, float(level)))
    hue = 55 - 55 * level
    light = 92 - 55 * level
    return f"hsl({hue:.0f} 90% {light:.0f}%)"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=False, default=str)


def is_mapping(value: Any) -> bool:
    return isinstance(value, dict)


def is_sequence(value: Any) -> bool:
    return isinstance(value, list | tuple)


def pct(value: float) -> str:
    """A CSS percentage with enough digits that tiny partitions keep their true size."""
    return f"{value:.4f}%"


FILTERS = {"human_size": human_size, "hexaddr": hexaddr, "hex_or_text": hex_or_text,
           "heat_color": heat_color, "pretty_json": pretty_json, "is_mapping": is_mapping,
           "is_sequence": is_sequence, "pct": pct}
