"""``flashstack build --units``: the per-unit build's progress and report (:mod:`flashstack.build.units`)."""

from __future__ import annotations

from rich.text import Text

from .common import CliError, console, emit
from .progress import progress

__all__ = ["run_units"]


def run_units(manifest, units_csv, out_dir, formats, as_json: bool, uf2_family=None, base_hex=None) -> None:
    """Build every unit with progress (:mod:`.progress`: a status line on stderr when piped);
    exit 1 when a row failed."""
    from ..build.units import build_units

    if manifest is None:
        raise CliError("--units needs a MANIFEST with {column} placeholders")
    with progress("build", "units") as update:
        result = build_units(manifest, units_csv, out_dir, formats, progress=update,
                             uf2_family=uf2_family, base_hex=base_hex)
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
