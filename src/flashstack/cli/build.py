"""``flashstack build``: a manifest turns into flash images (see :mod:`flashstack.build`)."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from .common import add_plain_row, console, emit, human_size, json_option

__all__ = ["build"]


@click.command("build")
@click.argument("manifest", required=False, type=click.Path(dir_okay=False))
@click.option("--out", "-o", "out_dir", default="build", show_default=True, metavar="DIR",
              help="Output folder (<device>.bin, image.hex, build.json).")
@click.option("--format", "-f", "formats", multiple=True, type=click.Choice(["bin", "hex", "uf2"]),
              help="Output format (repeatable); default: the manifest's [output] formats.")
@click.option("--uf2-family", default=None, metavar="F",
              help="UF2 family: rp2040, rp2350-arm-s, rp2350-riscv, ... or a number. Default: from the board name.")
@click.option("--base", "base_hex", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Firmware Intel HEX (e.g. zephyr.hex) to merge the build into; differing overlaps are refused.")
@click.option("--units", "units_csv", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV of units: one image set per row into OUT/<first column>/, columns fill {placeholders}.")
@click.option("--clean", is_flag=True,
              help="Remove image files of another build from the output folder (otherwise refused).")
@click.option("--check", "check_only", is_flag=True,
              help="Validate and render in memory only; write nothing.")
@json_option
def build(manifest, out_dir, formats, uf2_family, base_hex, units_csv, clean, check_only, as_json):
    """Build the flash images a MANIFEST (TOML) describes.

    Without MANIFEST, builds the built-in example for the flashstack-demo board
    (bootloader placeholder, signed app, factory KV settings, empty 16-slot KF
    region, small littlefs) into ./build/. Everything is validated before any
    file is written; on error nothing is written. An output folder that holds another
    build (another board or manifest, or image files this build does not write) is refused
    unless --clean, so that inspect never mixes two builds.

    \b
    Examples:
      flashstack build                                # the demo, into ./build/
      flashstack build examples/nrf52840dk_nrf52840/manifest.toml -o out/
      flashstack build my.toml --format hex --check   # validate only
      flashstack build pico.toml -f uf2 -f hex --base zephyr/zephyr.hex -o out/
      flashstack build factory.toml --units units.csv -o out/   # out/<serial>/...
    """
    from ..build import build as run_build

    if units_csv is not None:
        if check_only:
            raise click.UsageError("--units builds and writes every unit; --check does not apply to it")
        from .build_units import run_units
        run_units(manifest, units_csv, out_dir, tuple(formats) or None, as_json, uf2_family, base_hex)
        return

    result = run_build(manifest, None if check_only else out_dir, formats=tuple(formats) or None,
                       uf2_family=uf2_family, base_hex=base_hex, clean=clean)
    emit(result.record, as_json, lambda rec: _render(rec, result.files, check_only, result.removed))


def _content(part: dict) -> str:
    c = part["content"]
    kind = c.get("type", "erased")
    if kind == "file":
        return f"file {c['file'].rsplit('/', 1)[-1]} ({c['length']} B)"
    if kind == "alios-kv":
        return f"alios-kv: {len(c.get('keys', []))} keys"
    if kind == "mcuboot":
        return f"mcuboot {c.get('version')} ({c.get('state')})"
    if kind == "llkernel":
        return f"llkernel: {len(c.get('features', []))} features / {c['config'].get('max_features')} slots"
    if kind == "littlefs":
        return f"littlefs: {len(c.get('files', []))} files"
    if kind == "zephyr-nvs":
        what = "settings" if c.get("config", {}).get("settings") else "ids"
        return f"zephyr-nvs: {len(c.get('items', []))} {what}"
    return kind


def _render(record: dict, files, check_only: bool, removed=()) -> None:
    table = Table(title=Text(f"flashstack build: board {record['board']}"), title_justify="left")
    for col in ("partition", "device", "offset", "size", "content", "sha256"):
        table.add_column(col, justify="right" if col in ("offset", "size") else "left")
    for p in record["partitions"]:
        ro = " (ro)" if p["read_only"] else ""
        add_plain_row(table, p["label"] + ro, p["device"], f"{p['offset']:#x}", human_size(p["size"]),
                      _content(p), p["sha256"][:12])
    console.print(table)
    if check_only:
        console.print("check only: nothing written")
        return
    for f in files:
        console.print(f"wrote {f}", markup=False, soft_wrap=True)
    for f in removed:
        console.print(f"removed {f} (another build's image)", markup=False, soft_wrap=True)
