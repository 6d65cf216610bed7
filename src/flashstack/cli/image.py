"""``flashstack image``: create erased images of a board, report what an image holds."""

from __future__ import annotations

import click
from rich import box
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from ..board.images import create_images, map_info, unpartitioned_info
from .tables import fit, short_path
from .common import (DEFAULT_BOARD, add_plain_row, board_options, console, emit, human_size,
                     json_option, load_board_from, open_board)


@click.group()
def image():
    """Flash images: one raw file per flash device of a board.

    A one-device board's image can be a single file; otherwise IMAGE is a
    directory holding <device>.bin (e.g. flash0.bin, qspi0.bin).

    \b
    Examples:
      flashstack image create -o img/
      flashstack image create --board rpi_pico -o pico.bin
      flashstack image info img/
    """


def _render_created(result) -> None:
    t = Table(title=Text(f"board {result['board']}: erased images"), title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("device", "left"), ("image", "left"), ("size", "right"), ("erase value", "right"),
        ("partitions", "left"))
    for col, just in columns:
        t.add_column(col, justify=just, no_wrap=col != "partitions")
    for d in result["devices"]:
        add_plain_row(t, d["device"], short_path(d["image"], 30), f"{d['size']:#x} ({human_size(d['size'])})",
                  f"{d['erase_value']:#04x}", ", ".join(d["partitions"]) or "-")
    console.print(fit(t, console, names=("device", "image"), prose={"partitions": 20},
                      drop=("erase value", "partitions")))
    board = "" if result["board"] == DEFAULT_BOARD else f" --board {result['board']}"
    console.print(f"next: flashstack flash read{board} --image {result['target']} <partition> 0 64",
                  soft_wrap=True, markup=False)


@image.command("create")
@board_options(image=False)
@click.option("-o", "--output", "output", required=True, metavar="DIR|FILE",
              help="Directory for <device>.bin files, or one file for a one-device board.")
@click.option("--force", is_flag=True, help="Replace existing image files with erased ones.")
@json_option
def create(board, include_dir, output, force, as_json):
    """Create erased images, one per flash device of the board.

    Each file has the device's size and holds its erase value everywhere. An
    existing image is never overwritten without --force.

    \b
    Examples:
      flashstack image create -o img/                    # flashstack-demo: flash0.bin, qspi0.bin
      flashstack image create --board native_sim -o sim.bin
    """
    b = load_board_from({"board": board, "include_dir": include_dir})
    paths = create_images(b, output, overwrite=force)
    result = {"board": b.name, "target": output, "devices": [
        {"device": d.name, "image": paths[d.name], "size": d.size, "erase_value": d.erase_value,
         "partitions": [p.name for p in b.partitions if p.device == d.name]}
        for d in b.devices]}
    emit(result, as_json, _render_created)


def _render_info(result) -> None:
    t = Table(title=Text(f"board {result['board']}: image usage"), title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("id", "right"), ("partition", "left"), ("device", "left"), ("size", "right"),
        ("state", "left"), ("first used", "right"), ("used end", "right"), ("used bytes", "right"),
        ("erased pages", "right"), ("sha256", "left"))
    for col, just in columns:   # only the partition names may wrap (fit keeps them whole)
        t.add_column(col, justify=just, no_wrap=col != "partition")
    for a in result["partitions"] + result["unpartitioned"]:
        state = Text("erased", style="green") if a["erased"] else Text("used", style="yellow")
        pct = 100.0 * a["used_bytes"] / a["size"] if a["size"] else 0.0
        add_plain_row(t, "-" if a["id"] is None else str(a["id"]), a["name"], a["device"],
                  human_size(a["size"]), state,
                  "-" if a["first_used"] is None else f"{a['first_used']:#x}",
                  "-" if a["erased"] else f"{a['used_end']:#x}",
                  f"{a['used_bytes']} ({pct:.1f}%)", f"{a['erased_pages']}/{a['pages']}",
                  a["sha256"][:16] + "...", style="dim" if a["id"] is None and a["erased"] else None)
    console.print(fit(t, console, names=("partition", "device"),
                      drop=("sha256", "first used", "erased pages", "used end", "id")))
    stray = [a for a in result["unpartitioned"] if not a["erased"]]
    if stray:
        n = sum(a["used_bytes"] for a in stray)
        console.print(Text(f"warning: data outside every partition: {n} programmed byte(s) in "
                           + ", ".join(f"{a['device']} {a['name']}" for a in stray), style="yellow"))


@image.command("info")
@click.argument("image_path", metavar="IMAGE")
@board_options(image=False)
@json_option
def info(image_path, board, include_dir, as_json):
    """Report what an image holds, per partition.

    For each partition: erased or used, first programmed byte and end of the
    last one (partition-relative), programmed bytes (bytes that differ from the
    erase value), fully erased erase pages, and the SHA-256 of the partition
    (shortened in the table; complete with --json). Ranges outside every
    partition are listed as (free), so stray data shows. The image is opened
    read-only.

    \b
    Examples:
      flashstack image info img/
      flashstack image info --board rpi_pico pico.bin --json
    """
    params = {"board": board, "include_dir": include_dir, "image": image_path}
    b = load_board_from(params)
    with open_board(params, readonly=True, board=b) as ob:
        infos = map_info(ob.flash_map)
        free = unpartitioned_info(ob.flash_map, ob.devices)
        images = {name: getattr(dev, "path", None) for name, dev in ob.devices.items()}
    result = {"board": b.name, "images": images, "partitions": [i.to_json() for i in infos],
              "unpartitioned": [i.to_json() for i in free]}
    emit(result, as_json, _render_info)
