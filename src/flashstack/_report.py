"""The one report protocol of flashstack.

Every result object a command can print (scans, board and store descriptions, campaign and
plan reports, geometries) has ``to_json()``, returning a dict of JSON-ready values (str,
int, float, bool, None, lists and dicts of them; bytes already as hex strings) that
``json.dumps`` takes as is. ``--json`` output is exactly that dict.
"""

from __future__ import annotations

import json
from typing import Any, Protocol, runtime_checkable

__all__ = ["JSONReport", "dumps"]


@runtime_checkable
class JSONReport(Protocol):
    """A result with a JSON form (see the module docstring)."""

    def to_json(self) -> dict[str, Any]: ...


def dumps(report: JSONReport) -> str:
    """``report.to_json()`` as indented JSON text (values JSON does not know as ``str()``)."""
    return json.dumps(report.to_json(), indent=2, default=str)
