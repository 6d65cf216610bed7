"""Tables readable at 80 columns: names never split, low-value columns dropped first.

:func:`fit` prepares a rich ``Table`` for the console width before printing: the columns
named in ``names`` (partition, key, device names) are never wrapped or folded (their width is
their longest cell); other text wraps at word boundaries (rich's own wrapping; a word longer
than its column is folded only as a last resort); while the table still cannot fit, the
columns of ``drop`` go, in that order, and the table caption says which. :func:`short_path`
shortens a path for a cell.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

__all__ = ["fit", "short_path"]


def _header(col) -> str:
    return str(col.header).replace("\n", " ")


def _min_width(console: Console, table: Table) -> int:
    # measured without the console's limit (rich clamps a measurement to the width)
    return Measurement.get(console, console.options.update_width(1 << 16), table).minimum


def fit(table: Table, console: Console, names: Sequence[str] = (), drop: Sequence[str] = (),
        prose: Mapping[str, int] | None = None) -> Table:
    """``table`` made to fit ``console.width`` (in place; returned): ``names`` columns keep
    whole cells; ``prose`` columns (header -> characters) get at least that width (or their
    longest cell) so sentences stay readable; ``drop`` columns (by header, lowest value first)
    are removed while the narrowest rendering is still wider than the console. Headers match
    with line breaks read as spaces."""
    for col in table.columns:
        if prose and _header(col) in prose:
            widest = max((console.measure(cell).maximum for cell in col.cells), default=0)
            col.min_width = min(prose[_header(col)], widest)
        if _header(col) in names or col.no_wrap:   # names and numbers keep their width
            col.no_wrap = True
            widest = max((console.measure(cell).maximum for cell in col.cells), default=0)
            col.min_width = max(col.min_width or 0, widest,
                                max(len(w) for w in str(col.header).split("\n")))
    dropped = []
    for name in drop:
        if _min_width(console, table) < console.width:   # rich keeps the last column free
            break
        for i, col in enumerate(table.columns):
            if _header(col) == name:
                del table.columns[i]
                dropped.append(name)
                break
    if dropped:
        note = f"narrow terminal: not shown: {', '.join(dropped)} (wider COLUMNS or --json)"
        table.caption = note if not table.caption else f"{table.caption}; {note}"
        table.caption_justify = "left"
    return table


def short_path(path: str | os.PathLike, width: int = 40) -> str:
    """``path`` relative to the current folder when inside it, and at most ``width``
    characters: ``…/`` plus its last components when longer."""
    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
        if not rel.startswith(".."):
            text = rel
    except ValueError:  # another drive (Windows)
        pass
    if len(text) <= width:
        return text
    parts = text.split(os.sep)
    tail = parts[-1]
    for part in reversed(parts[:-1]):
        if len(part) + len(tail) + 3 > width:
            break
        tail = f"{part}{os.sep}{tail}"
    return f"…{os.sep}{tail}"[-width:] if len(tail) + 2 > width else f"…{os.sep}{tail}"
