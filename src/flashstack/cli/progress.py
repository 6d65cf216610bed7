"""Progress of long runs (torture campaigns, plan, wear, per-unit builds, fuzzing), one way.

On a terminal: a rich progress bar on stderr, erased when the run ends. Otherwise (a pipe, a
CI log, a file): a plain status line on stderr at most every :data:`INTERVAL_S` seconds and
once at the end, e.g. ``torture: 1200/5000 cuts, 3 failures, 14 s``, so a long run piped
into a log is never silent. stdout (tables, JSON) is never touched.

:class:`StatusLine` needs neither click nor rich (``python -m flashstack.fuzz`` uses it);
rich is imported only for the terminal bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

__all__ = ["INTERVAL_S", "StatusLine", "progress"]

#: least seconds between two status lines when stderr is not a terminal
INTERVAL_S = 5.0

#: ``update(done, total=None, failures=None)``: what long jobs call as work completes
Update = Callable[..., None]


class StatusLine:
    """Throttled one-line status for a non-terminal stream.

    ``update(done, total, failures)`` prints ``TITLE: DONE/TOTAL UNIT[, N failures], S s``
    when at least ``interval`` seconds (of ``clock``) passed since the start or the last line;
    :meth:`close` prints the final state if a line was printed before and it was not shown
    (a run shorter than ``interval`` stays silent)."""

    def __init__(self, title: str, unit: str, stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic, interval: float | None = None):
        self.title, self.unit, self.stream = title, unit, stream
        self.clock = clock
        self.interval = INTERVAL_S if interval is None else interval
        self.t0 = clock()
        self.last: float | None = None       # clock of the last printed line
        self.state: tuple | None = None      # (done, total, failures) of the last update
        self.shown: tuple | None = None      # ... and of the last printed line
        self.lines = 0

    def text(self) -> str:
        done, total, failures = self.state or (0, None, None)
        count = f"{done}/{total}" if total is not None else f"{done}"
        fails = "" if failures is None else f", {failures} failure{'' if failures == 1 else 's'}"
        return f"{self.title}: {count} {self.unit}{fails}, {self.clock() - self.t0:.0f} s"

    def update(self, done: int, total: int | None = None, failures: int | None = None) -> None:
        self.state = (done, total, failures)
        now = self.clock()
        if now - (self.t0 if self.last is None else self.last) >= self.interval:
            self._emit(now)

    def close(self) -> None:
        """Print the final state, unless no line was printed yet or the last one showed it."""
        if self.lines and self.state != self.shown:
            self._emit(self.clock())

    def _emit(self, now: float) -> None:
        if self.state == self.shown:
            return
        stream = self.stream or sys.stderr
        stream.write(self.text() + "\n")
        stream.flush()
        self.last, self.shown = now, self.state
        self.lines += 1


@contextmanager
def progress(title: str, unit: str, *, terminal: bool | None = None, stream: IO[str] | None = None,
             clock: Callable[[], float] = time.monotonic,
             interval: float | None = None) -> Iterator[Update]:
    """``with progress("torture kv", "cuts") as update: job(progress=update)``.

    ``terminal`` (default: whether stderr is one) picks the rich bar or the
    :class:`StatusLine`; ``stream`` (default stderr), ``clock`` and ``interval`` are the
    status line's (tests pass a fake clock)."""
    if terminal is None:
        from .common import err_console
        terminal = err_console.is_terminal
    if not terminal:
        line = StatusLine(title, unit, stream, clock, interval)
        try:
            yield line.update
        finally:
            line.close()
        return
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .common import err_console
    with Progress(TextColumn(escape(title)), BarColumn(), MofNCompleteColumn(), TextColumn(escape(unit)),
                  TextColumn("{task.fields[fails]}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(title, total=None, fails="")

        def update(done: int, total: int | None = None, failures: int | None = None) -> None:
            bar.update(task, completed=done, total=total,
                       fails=f"[red]{failures} failures[/]" if failures else "")
        yield update
