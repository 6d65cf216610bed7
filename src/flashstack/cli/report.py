"""``flashstack report``: images, wear and campaigns → one self-contained HTML page
(:mod:`flashstack.report`)."""

from __future__ import annotations

import click
from rich.text import Text

from .common import console, emit, json_option

__all__ = ["report"]

#: exit status when the page shows a damaged partition or one changed since the build
EXIT_FINDINGS = 3


@click.command("report")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--board", "-b", default=None, metavar="B",
              help="Board (name, TOML, DTS or DTB). Default: from build.json next to the images.")
@click.option("--include-dir", "-I", "include_dir", multiple=True, metavar="DIR",
              help="Include directory for a raw DTS (repeatable).")
@click.option("--record", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Build record (build.json) to compare the images with.")
@click.option("--wear", "wear", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="FILE", help="Wear file: a device's save_wear JSON or `flashstack wear --json` "
                                   "output (repeatable).")
@click.option("--torture", "torture", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="FILE", help="A `flashstack torture ... --json` result (repeatable).")
@click.option("--plot", "plots", multiple=True, type=click.Path(exists=True, dir_okay=False),
              metavar="FILE", help="An .svg or .png to embed, e.g. from `plan --plot` (repeatable).")
@click.option("--output", "-o", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML file to write.")
@json_option
@click.pass_context
def report(ctx, images, board, include_dir, record, wear, torture, plots, output, as_json):
    """Write one HTML page of IMAGES: the flash map to scale, every partition's contents and
    health, wear heatmaps and power-loss campaign results.

    The page needs no network (styles, scripts and plots are inside it) and reads
    nothing but its inputs; images are never written. Exit status: 0 when every
    partition is healthy and as built, 3 when the page shows damage or a
    partition changed since the build record, 1 on error.

    \b
    Examples:
      flashstack build && flashstack report build/ -o report.html
      flashstack wear --store zephyr-nvs --size 0x3000 --unit-size 0x1000 --keys 20 --json > wear.json
      flashstack torture kv --ops 50 --json > kv.json
      flashstack report build/ --wear wear.json --torture kv.json -o report.html
    """
    from ..report import collect, write_report

    data = collect(images, board=board, include_dirs=include_dir, record=record, wear=wear,
                   torture=torture, plots=plots)
    size = write_report(data, output)
    parts = data.inspection.get("partitions", [])
    damaged = [p["partition"] for p in parts if p.get("health") in ("error", "warning")]
    changed = [p["partition"] for p in parts if p.get("matches_build") is False]
    failed = [t.source for t in data.torture if not t.ok]
    summary = {"output": str(output), "bytes": size, "board": data.inspection.get("board"),
               "partitions": len(parts), "damaged": damaged, "changed": changed,
               "failed_campaigns": failed}
    emit(summary, as_json, _render)
    if damaged or changed or failed:
        ctx.exit(EXIT_FINDINGS)


def _render(s: dict) -> None:
    console.print(Text(f"wrote {s['output']} ({s['bytes']} bytes): {s['partitions']} partitions"),
                  soft_wrap=True)
    for what in ("damaged", "changed", "failed_campaigns"):
        if s[what]:
            console.print(Text(f"{what.replace('_', ' ')}: {', '.join(s[what])}", style="yellow"),
                          soft_wrap=True)
