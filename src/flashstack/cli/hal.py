"""``flashstack hal``: the AliOS-Things flash HAL view of a board — its ``hal_partitions``
table, address lookup, partition reads, and linuxhost partition files (docs/alios-hal.md)."""

from __future__ import annotations

import click

from .common import (INT, add_plain_row, board_options, console, emit, hexdump, json_option, load_board_from,
                     open_board)


def _hal(kw, readonly=True):
    from ..hal import hal_from_board
    ob = open_board(kw, readonly=readonly, allow_double_writes=True)
    try:
        return ob, hal_from_board(ob)
    except BaseException:
        ob.close()
        raise


def _partition(hal, name):
    from ..hal.types import parse_partition
    return parse_partition(name, hal.generation)


def _guard_import(h, directory, pid) -> None:
    """Refuse (before any write) to replace a non-erased HAL partition by different bytes."""
    import os

    from ..hal.linuxhost import linuxhost_plan
    from .context import detections, guard_writer, view_of
    for _p, area, path, data in linuxhost_plan(h, directory, pid):
        if area.read(0, area.size) == data:
            continue   # loading it changes nothing
        view = view_of(area)
        guard_writer(None, view, detections(view), None, False, f"hal import-linuxhost ({os.path.basename(path)})")


@click.group()
def hal():
    """AliOS-Things flash HAL: the board's hal_partitions table and partition access.

    \b
    Examples:
      flashstack hal list
      flashstack hal addr2offset 0x1e010
      flashstack hal read --image img/ PARAMETER_2 0 64
      flashstack hal export-linuxhost --image img/ out/
    """


@hal.command("list", epilog="\b\nExample:\n  flashstack hal list")
@board_options(image=False)
@json_option
def list_cmd(as_json, **kw):
    """The board's hal_partitions table (mapped from devicetree labels or its [hal] section)."""
    from ..hal import hal_partitions_from_board
    board = load_board_from(kw)
    rows, gen = hal_partitions_from_board(board)
    data = {"board": board.name, "generation": gen, "partitions": [r.to_json(gen) for r in rows]}

    def render(d):
        from rich.table import Table
        from rich.text import Text
        t = Table(title=Text(f"HAL partitions of {d['board']} (enum generation {gen})"))
        for col in ("partition", "value", "owner", "device", "description", "start", "length", "options"):
            t.add_column(col)
        for r in d["partitions"]:
            opts = ("R" if r["options"] & 1 else "-") + ("W" if r["options"] & 2 else "-")
            add_plain_row(t, r["partition"], str(r["value"]), r["owner"], r["device"], r["description"],
                      f"{r['start']:#x}", f"{r['length']:#x}", opts)
        console.print(t)
    emit(data, as_json, render)


@hal.command("addr2offset", epilog="\b\nExample:\n  flashstack hal addr2offset 0x1e010")
@board_options(image=False)
@click.argument("address", type=INT)
@json_option
def addr_cmd(address, as_json, **kw):
    """The partition and offset of an absolute ADDRESS (hal_flash_addr2offset)."""
    from ..hal.types import partition_name
    ob, h = _hal(kw)
    try:
        p, off = h.addr2offset(address)
    finally:
        ob.close()
    emit({"address": address, "partition": partition_name(p, h.generation), "value": p, "offset": off},
         as_json, lambda d: click.echo(f"{address:#x} = {d['partition']} + {off:#x}"))


@hal.command("read", epilog="\b\nExample:\n  flashstack hal read --image build/ PARAMETER_2 0 64")
@board_options(image_required=True)
@click.argument("partition")
@click.argument("offset", type=INT)
@click.argument("length", type=INT)
@json_option
def read_cmd(partition, offset, length, as_json, **kw):
    """Read LENGTH bytes at partition-relative OFFSET of a HAL PARTITION (e.g. PARAMETER_2)."""
    ob, h = _hal(kw)
    try:
        data = h.read(_partition(h, partition), offset, length)
    finally:
        ob.close()
    emit({"partition": partition, "offset": offset, "data_hex": data.hex()}, as_json,
         lambda d: click.echo(hexdump(data, offset)))


@hal.command("export-linuxhost", epilog="\b\nExample:\n  flashstack hal export-linuxhost --image build/ parts/")
@board_options(image_required=True)
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--pid", type=int, default=None, help="Name files aos_partition_<pid>_<pno>.bin.")
def export_cmd(directory, pid, **kw):
    """Write every HAL partition to DIRECTORY as AliOS linuxhost files (aos_partition_<pno>.bin)."""
    from ..hal import export_linuxhost
    ob, h = _hal(kw)
    try:
        paths = export_linuxhost(h, directory, pid)
    finally:
        ob.close()
    console.print(f"wrote {len(paths)} partition file(s) to {directory}", markup=False, soft_wrap=True)


@hal.command("import-linuxhost", epilog="\b\nExample:\n  flashstack hal export-linuxhost --image build/ parts/\n  flashstack hal import-linuxhost --image img/ parts/")
@board_options(image_required=True)
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--pid", type=int, default=None, help="Read files aos_partition_<pid>_<pno>.bin.")
@click.option("--force", is_flag=True,
              help="Overwrite partitions that hold a store, an image or other data.")
def import_cmd(directory, pid, force, **kw):
    """Load AliOS linuxhost partition files from DIRECTORY into the image (short files padded
    with 0xFF). A partition that is not erased (a store, an image, unknown data) and would
    change is refused unless --force; then nothing is written."""
    from ..hal import import_linuxhost
    ob, h = _hal(kw, readonly=False)
    try:
        if not force:
            _guard_import(h, directory, pid)
        loaded = import_linuxhost(h, directory, pid)
    finally:
        ob.close()
    console.print(f"loaded {len(loaded)} partition(s) from {directory}", markup=False, soft_wrap=True)
