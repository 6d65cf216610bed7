"""Figures the bench scripts print, recorded for ``bench/table.py`` (one table in bench/README.md).

Each script builds a list of :class:`Figure` rows, prints them with :func:`print_figures`
and, with ``--record``, writes them to ``bench/results/<script>.json``; ``table.py`` renders
every recorded file into the table between the markers of bench/README.md and README.md.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


@dataclass
class Figure:
    """One measured figure: ``value`` against ``anchor`` (``ratio`` = value / anchor, or the
    inverse when ``lower_is_better``), and the goal on that ratio (None: no goal)."""

    bench: str
    figure: str
    value: float
    unit: str
    anchor_name: str
    anchor: float | None = None
    goal: str = ""
    goal_ratio: float | None = None   # ratio must be >= this (after the inversion below)
    lower_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.anchor is None or not self.anchor or not self.value:
            return None
        return self.anchor / self.value if self.lower_is_better else self.value / self.anchor

    @property
    def met(self) -> bool | None:
        r = self.ratio
        if self.goal_ratio is None or r is None:
            return None
        return r >= self.goal_ratio


def fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "—"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return f"{s} {unit}".strip()


def print_figures(rows: list[Figure]) -> None:
    """One line per figure: value, anchor, ratio, goal, met."""
    print(f"{'figure':54} {'value':>16} {'anchor':>16} {'ratio':>8}  goal")
    for r in rows:
        met = {True: "met", False: "MISSED", None: ""}[r.met]
        print(f"{r.figure:54} {fmt(r.value, r.unit):>16} {fmt(r.anchor, r.unit):>16} "
              f"{fmt(r.ratio):>8}  {r.goal} {met}".rstrip())
    anchors = sorted({r.anchor_name for r in rows})
    print("anchors: " + "; ".join(anchors))


def record(script: str, rows: list[Figure], argv: list[str], part: str = "") -> str:
    """Write ``rows`` to bench/results/<script>.json (``<script>.<part>.json`` for a mode of the
    script recorded apart from its other figures); returns the path."""
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{script}{'.' + part if part else ''}.json")
    doc = {"script": script, "argv": argv, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "python": platform.python_version(), "cpus": os.cpu_count(),
           "rows": [dict(asdict(r), ratio=r.ratio, met=r.met) for r in rows]}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    return path
