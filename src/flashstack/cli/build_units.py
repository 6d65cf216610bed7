"""``flashstack build --units``: the per-unit build's progress and report (:mod:`flashstack.build.units`)."""

from __future__ import annotations

import sys
import time

from rich.text import Text

from .common import CliError, console, emit, err_console

__all__ = ["run_units"]


def run_units(manifest, units_csv, out_dir, formats, as_json: bool) -> None:
    """Build every unit; a status line every 2 s on stderr (also when piped); exit 1 when a row failed."""
    from ..build.units import build_units

    if manifest is None:
        raise CliError("--units needs a MANIFEST with {column} placeholders")
    last = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 2 or done == total:
            last[0] = now
            err_console.print(Text(f"units: {done}/{total}"), soft_wrap=True)
            sys.stderr.flush()

    result = build_units(manifest, units_csv, out_dir, formats, progress=progress)
    report = {"out": str(out_dir), "built": result.built, "seconds": round(result.seconds, 3),
              "failed": [{"line": line, "error": msg} for line, msg in result.failed]}
    emit(report, as_json, _render)
    if result.failed:
        raise CliError(f"{len(result.failed)} unit(s) failed; nothing was written for them")


def _render(report: dict) -> None:
    total = len(report["built"]) + len(report["failed"])
    console.print(Text(f"built {len(report['built'])} of {total} units into {report['out']} "
                       f"in {report['seconds']:.1f} s"), soft_wrap=True)
    for f in report["failed"]:
        console.print(Text(f"failed: {f['error']}", style="red"), soft_wrap=True)
