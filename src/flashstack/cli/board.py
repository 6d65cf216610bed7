"""``flashstack board``: show a board's flash devices and partitions, list built-in boards."""

from __future__ import annotations

import warnings
from typing import Any

import click
from rich import box
from rich.table import Table
from rich.text import Text

from ..board.images import free_ranges
from .tables import fit
from .common import (
    DEFAULT_BOARD,
    add_plain_row,
    board_options,
    console,
    emit,
    human_size,
    json_option,
    load_board_from,
)


@click.group()
def board():
    """Boards: flash devices plus their partitions (flash map).

    A board is a built-in name, a board TOML file, a devicetree (DTS, raw or
    preprocessed; raw ones take -I include dirs) or a DTB.

    \b
    Examples:
      flashstack board list
      flashstack board show
      flashstack board show nrf52840dk_nrf52840 --json
      flashstack board show my_board.dts -I zephyr/include -I zephyr/dts
      flashstack board show build/                 # a Zephyr build folder
      flashstack board show zephyr.dts --layout "4x16K,1x64K,7x128K"
    """


def _erase_pages(dev, offset: int, size: int) -> tuple[str, bool]:
    """Erase page size(s) under ``[offset, offset+size)`` of ``dev`` (a DeviceSpec), and
    whether the partition starts and ends on page boundaries."""
    layout = dev.page_layout
    sizes = sorted({p.size for p in layout.pages(offset, offset + max(size, 1))})
    text = "-" if not sizes else human_size(sizes[0]) if len(sizes) == 1 else \
        f"{human_size(sizes[0])}..{human_size(sizes[-1])}"
    return text, layout.is_boundary(offset) and layout.is_boundary(offset + size)


def _layout_text(dev) -> str:
    if not dev.layout_known:
        return "unknown"
    return " + ".join(f"{count} x {human_size(size)}" for count, size in dev.layout)


def _table(title: str, columns, squeeze=("label", "chip", "erase pages")) -> Table:
    t = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
              collapse_padding=True)
    for name, justify in columns:
        # Names and numbers keep their width; descriptive columns fold when space is short.
        # Two-word headers go on two lines so they never set a column's width.
        t.add_column(name.replace(" ", "\n"), justify=justify, overflow="fold",
                     no_wrap=name not in squeeze)
    return t


def _size(n: int, wide: bool) -> str:
    return f"{n:#x} ({human_size(n)})" if wide else f"{n:#x}"


def _layout_rows(b):
    """Table rows in flash order: per device, partitions by offset with ``("free", (start,
    end, device))`` rows for unpartitioned gaps; then ``("disabled", spec)`` rows (partitions
    of disabled devicetree nodes, numbered by Zephyr but not in the map)."""
    sizes = {d.name: d.size for d in b.devices}
    order = {name: i for i, name in enumerate(sizes)}
    rows = [((order.get(p.device, len(order)), p.offset, -p.size), "partition", p) for p in b.partitions]
    rows += [((order[dev], start, 0), "free", (start, end, dev)) for dev, start, end in
             free_ranges([(p.device, p.offset, p.size) for p in b.partitions], sizes)]
    for _, kind, item in sorted(rows, key=lambda r: r[0]):
        yield kind, item
    for p in b.disabled_partitions:
        yield "disabled", p


def render_board(b) -> None:
    """Print the device table and the partition table of board ``b`` (a Board)."""
    wide = console.width >= 120  # human-readable sizes only when they fit
    devices = {d.name: d for d in b.devices}
    dt = _table(f"board {b.name}: flash devices", (
        ("device", "left"), ("size", "right"), ("erase pages", "left"), ("write block", "right"),
        ("erase value", "right"), ("base address", "right"), ("chip", "left")))
    for d in b.devices:
        add_plain_row(dt, d.name, _size(d.size, wide),
                   _layout_text(d), str(d.write_block_size), f"{d.erase_value:#04x}",
                   "-" if d.base_address is None else f"{d.base_address:#x}", d.chip or "-")
    dt.caption = Text("\n".join(f"{d.name}: erase layout from {d.layout_source}" if d.layout_known else
                           f"{d.name}: erase layout unknown (partitions need none; give --layout "
                           "to plan erases)" for d in b.devices if d.layout_source))
    dt.caption_justify = "left"
    console.print(fit(dt, console, names=("device",), drop=("base address", "erase value", "chip")))

    pt = _table(f"board {b.name}: partitions", (
        ("id", "right"), ("partition", "left"), ("label", "left"), ("device", "left"),
        ("offset", "right"), ("size", "right"), ("end", "right"), ("ro", "center"),
        ("erase page", "right"), ("write block", "right")))
    unaligned = False
    for kind, p in _layout_rows(b):
        if kind == "free":
            start, end, dev = p
            add_plain_row(pt, "", Text("(free)", style="dim"), "", dev, f"{start:#x}",
                       _size(end - start, wide), f"{end:#x}", "", "", "", style="dim")
            continue
        d = devices.get(p.device)
        known = d is not None and d.layout_known
        pages, aligned = _erase_pages(d, p.offset, p.size) if known else ("?" if d else "-", True)
        unaligned |= not aligned
        disabled = kind == "disabled"
        add_plain_row(pt, "-" if p.id is None else str(p.id), p.name, p.label or "",
                   f"{p.device_node} (disabled)" if disabled else p.device,
                   f"{p.offset:#x}", _size(p.size, wide), f"{p.end:#x}", "ro" if p.read_only else "",
                   Text(pages) if aligned else Text(pages + " !", style="yellow"),
                   str(d.write_block_size) if d else "-", style="dim" if disabled else None)
    if unaligned:
        pt.caption, pt.caption_justify = "! not aligned to erase pages", "left"
    console.print(fit(pt, console, names=("partition", "device"),
                      drop=("label", "end", "write block", "erase page")))
    build = b.extra.get("zephyr_build")
    if build is not None:
        _render_build(build.to_json())


def _render_build(data: dict) -> None:
    """The build folder's storage settings, each with its .config line, and sysbuild domains."""
    t = _table(f"build {data['path']}", (("setting", "left"), ("value", "left"), ("from", "left")))
    t.add_row(Text("partition ids"), Text(data["partition_ids"]), Text(""))
    for d in data["id_differences"]:
        add_plain_row(t, f"id of {d['partition']}", str(d["header"]),
                      f"header (the computed rule gave {d['computed']})")
    for key, value in (data["config"] or {}).items():
        if key == "path" or key.endswith("_source") or value is None:
            continue
        add_plain_row(t, key, str(value), data["config"].get(key + "_source") or data["config"]["path"])
    for d in data["domains"]:
        default = " (default)" if d["name"] == data["default_domain"] else ""
        add_plain_row(t, f"domain {d['name']}{default}", d["code_partition"] or "-", d["build_dir"])
    console.print(t)


@board.command("show")
@click.argument("spec", required=False, metavar="[BOARD|DTS|BUILD_DIR]")
@board_options(image=False)
@json_option
def show(spec, board, include_dir, as_json):
    """Show a board's flash devices and partition table.

    Columns: partition id (Zephyr order), node label, label property, device,
    offset/size/end on the device, read-only, erase page and write block size.
    --json prints the board as data (same partition keys as Zephyr-derived
    board tables, plus device geometry).

    \b
    Examples:
      flashstack board show                        # the default board
      flashstack board show rpi_pico
      flashstack board show examples/rpi_pico_littlefs/rpi_pico_littlefs.dts --json
    """
    from ..board.resolve import is_build_dir

    if spec and board not in (DEFAULT_BOARD, spec):
        raise click.UsageError(f"two boards given ({spec} and --board {board}); give one")
    if spec and is_build_dir(spec):  # `board show build/` = `board show --build-dir build/`
        click.get_current_context().meta["flashstack.build_dir"] = spec
        spec = None
    b = load_board_from({"board": board, "include_dir": include_dir}, spec)
    emit(b.to_json() if as_json else b, as_json, render_board)


def _builtin_names() -> list[str]:
    from ..board import BUILTIN_BOARDS

    names = sorted(BUILTIN_BOARDS)  # a mapping or a collection of names
    return sorted(names, key=lambda n: n != DEFAULT_BOARD)  # the default first


def board_summaries() -> list[dict]:
    """One row per built-in board: name, devices, partition count (or the load error)."""
    from ..board import load_board

    rows: list[dict[str, Any]] = []
    for name in _builtin_names():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # alignment notes belong to `board show`
                b = load_board(name)
        except (OSError, ValueError, ImportError) as exc:
            rows.append({"name": name, "error": str(exc)})
            continue
        rows.append({"name": name, "default": name == DEFAULT_BOARD,
                     "devices": [{"name": d.name, "size": d.size} for d in b.devices],
                     "partitions": len(b.partitions)})
    return rows


def _render_list(rows) -> None:
    t = Table(title="built-in boards", title_justify="left")
    for col in ("board", "flash devices", "partitions"):
        t.add_column(col)
    for r in rows:
        if "error" in r:
            add_plain_row(t, r["name"], Text(f"unavailable: {r['error']}", style="red"), "")
            continue
        devs = ", ".join(f"{d['name']} ({human_size(d['size'])})" for d in r["devices"])
        add_plain_row(t, r["name"] + (" (default)" if r["default"] else ""), devs,
                      str(r["partitions"]))
    console.print(t)


@board.command("list")
@json_option
def list_(as_json):
    """List the built-in boards (usable as --board NAME everywhere).

    \b
    Example:
      flashstack board list --json
    """
    emit(board_summaries(), as_json, _render_list)
