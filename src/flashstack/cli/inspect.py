"""``flashstack inspect``: flash images turn into a report per partition (:mod:`flashstack.inspect`)."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from .common import (add_plain_row, board_source, board_source_options, console, emit, fail,
                     human_size, json_option)
from .context import EXIT_DAMAGE

__all__ = ["inspect"]

#: health -> colour; "unknown" is a partition of a device that got no image (kind absent)
_HEALTH = {"ok": "green", "warning": "yellow", "error": "red", "unknown": "dim"}


@click.command("inspect")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--board", "-b", default=None, metavar="B",
              help="Board (name, TOML, DTS or DTB). Default: from build.json next to the images; "
                   "without either, one raw image is scanned boardless.")
@click.option("--include-dir", "-I", "include_dir", multiple=True, metavar="DIR",
              help="Include directory for a raw DTS (repeatable).")
@click.option("--record", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Build record (build.json) giving board and partition configurations.")
@click.option("--partition", "-p", default=None, metavar="P", help="Only this partition.")
@click.option("--details", is_flag=True, help="Full dump of the partition (with --partition).")
@click.option("--mcuboot", "mcuboot_pairs", multiple=True, metavar="P,S[,SC]",
              help="MCUboot image pair: primary,secondary[,scratch] partitions (repeatable). "
                   "Default: slot0_partition/slot1_partition, ... and scratch_partition.")
@click.option("--mcuboot-mode", type=click.Choice(["swap-move", "swap-scratch", "swap-offset"]), default=None,
              help="Bootloader upgrade mode. Default: guessed from the flash map (reported as guessed).")
@click.option("--mcuboot-max-sectors", type=int, default=None, metavar="N",
              help="MCUBOOT_MAX_IMG_SECTORS. Default: Zephyr's auto rule (slot size / sector size).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Public key (PEM) to verify MCUboot image signatures with (needs imgtool).")
@board_source_options
@json_option
def inspect(images, board, include_dir, record, partition, details, mcuboot_pairs, mcuboot_mode,
            mcuboot_max_sectors, key, as_json):
    """Identify and summarise what every partition of IMAGES holds.

    IMAGES are raw images (one per device, or <device>.bin in a folder) or Intel
    HEX files. Kinds: erased, MCUboot image, AliOS KV, Zephyr NVS (+ Settings),
    LLKERNEL KF region, littlefs, unknown data; "absent" for the partitions of a
    device no image was given for (not read, not compared with build.json).

    Exit status: 0 when every partition is healthy (and as built), 1 on error, 2 on usage
    errors, 3 when a partition is damaged or differs from the build record.

    \b
    Examples:
      flashstack inspect build/                       # what `flashstack build` made
      flashstack inspect dump.bin --board nrf52840dk_nrf52840
      flashstack inspect build/ -p storage_partition --details
      flashstack inspect dump.bin                     # no board: scan for headers
      flashstack inspect dump.bin --build-dir build/  # board and MCUboot mode from a Zephyr build
      flashstack inspect dump.bin -b nrf52840dk_nrf52840 --mcuboot-mode swap-move --key root.pub
    """
    from ..inspect import inspect_images
    from ..inspect.mcuboot import PairOptions

    if details and partition is None:
        fail("--details needs --partition P")
    src = board_source()
    if src["build_dir"] or (board and src["layouts"]):  # a Zephyr build folder, --layout
        from ..board.resolve import resolve_board
        board = resolve_board(board, include_dir, **src)
        build = board.extra.get("zephyr_build")
        config_mode = build.config.mcuboot_mode if build is not None and build.config else None
        if mcuboot_mode is None and config_mode in ("swap-move", "swap-scratch", "swap-offset"):
            mcuboot_mode = config_mode  # from the build's .config (ZB-2)
    pairs = tuple(tuple(x.strip() for x in p.split(",")) for p in mcuboot_pairs)
    opts = PairOptions(pairs=pairs, mode=mcuboot_mode, max_img_sectors=mcuboot_max_sectors, key=key)
    report = inspect_images(images, board=board, include_dirs=include_dir, record=record,
                            details=details, partition=partition, mcuboot=opts)
    if report.get("board") is None:
        emit(report, as_json, _render_scan)
        return
    emit(report, as_json, lambda r: _render(r, details))
    if any(p["health"] == "error" or p.get("matches_build") is False for p in report["partitions"]):
        click.get_current_context().exit(EXIT_DAMAGE)


def _render(report: dict, details: bool) -> None:
    for note in report.get("notes", []):
        console.print(Text(f"note: {note}", style="dim"))
    table = Table(title=Text(f"flashstack inspect: board {report['board']}"), title_justify="left")
    built = any("matches_build" in p for p in report["partitions"])
    cols = ("partition", "device", "offset", "size", "kind", "summary") + (("as built",) if built else ())
    for col in cols:
        table.add_column(col, justify="right" if col in ("offset", "size") else "left",
                         overflow="fold")
    for p in report["partitions"]:
        # names, summaries, keys and paths come from the image: literal text, never markup
        row = [p["partition"], p["device"], f"{p['offset']:#x}", human_size(p["size"]),
               Text(p["kind"], style=_HEALTH[p["health"]]), p["summary"]]
        if built:
            row.append({True: Text("yes", style="green"),
                        False: Text("CHANGED", style="red")}.get(p.get("matches_build"), "-"))
        add_plain_row(table, *row)
    from .tables import fit
    console.print(fit(table, console, names=("partition", "device", "kind"), drop=("offset", "device"),
                      prose={"summary": 24}))
    for p in report["partitions"]:
        for problem in p["problems"]:
            console.print(Text(f"{p['partition']}: {problem}", style=_HEALTH[p["health"]]))
        if details:
            _details(p)
    for pair in report.get("mcuboot", []):
        _render_mcuboot_pair(pair)


def _render_mcuboot_pair(pair: dict) -> None:
    """One line per slot (version, hash, mcumgr flags) and the next-boot line."""
    cfg = pair["config"]
    guessed = ", ".join(f"{k} {v}" for k, v in cfg["source"].items())
    console.print(Text(f"MCUboot image {pair['image_index']}: {cfg['mode']}, BOOT_MAX_ALIGN {cfg['max_align']}, "
                       f"{cfg['max_img_sectors']} sectors ({guessed})"))
    for name, slot in pair["slots"].items():
        img, t = slot.get("image"), slot["trailer"]
        flags = " ".join(k for k, v in slot.get("flags", {}).items() if v) or "-"
        what = (f"{img['version']} hash {(img['hash'] or '')[:16]} signature {img['signature']}" if img
                else "no image")
        console.print(Text(f"  {name} {slot['partition']}: {what}; flags {flags}; trailer magic {t['magic']}, "
                           f"image_ok {t['image_ok']}, copy_done {t['copy_done']}"))
    console.print(Text(f"  {pair['summary']}", style="red" if pair["problems"] else "green"))
    for problem in pair["problems"]:
        console.print(Text(f"  problem: {problem}", style="yellow"))


def _details(p: dict) -> None:
    kind = p["kind"]
    if kind == "alios-kv":
        kv = p["kv"]
        _print_table("KV items (search order)", ("key", "value"),
                     [(key, _text_or_hex(value)) for key, value in kv["items"].items()])
        _layer_dump("kv", p, kv.get("scan"))
    elif kind == "llkernel":
        _print_table("features", ("index", "slot", "handle", "rom", "rom size", "ram", "ram size"),
                     [(str(f["index"]), str(f["slot"]), f"{f['handle']:#x}", f"{f['rom_address']:#x}",
                       str(f["rom_size"]), f"{f['ram_address']:#x}", str(f["ram_size"]))
                      for f in p["llkernel"]["features"]])
        _layer_dump("feature", p, p["llkernel"].get("scan"))
    elif kind == "zephyr-nvs":
        nvs = p["nvs"]
        _print_table("NVS ids", ("id", ("value (hex)", {"overflow": "fold"})),
                     [(f"{int(i):#x}", v) for i, v in nvs["items"].items()])
        if nvs.get("settings"):
            _print_table("Settings", ("name", ("value (hex)", {"overflow": "fold"})),
                         list(nvs["settings"].items()))
        _layer_dump("nvs", p, nvs.get("scan"))
    elif kind == "zephyr-zms":
        zms = p["zms"]
        _print_table("ZMS ids", ("id", ("value (hex)", {"overflow": "fold"})),
                     [(f"{int(i):#x}", v) for i, v in zms["items"].items()])
        if zms.get("settings"):
            _print_table("Settings", ("name", ("value (hex)", {"overflow": "fold"})),
                         list(zms["settings"].items()))
        _layer_dump("zms", p, zms.get("scan"))
    elif kind == "littlefs":
        _print_table("files", ("path", ("size", {"justify": "right"})),
                     [(f["path"], str(f["size"])) for f in p["littlefs"].get("file_list", [])])
    elif kind == "mcuboot":
        _print_table("TLVs", ("type", "offset", "length", "protected"),
                     [(t["name"], f"{t['offset']:#x}", str(t["length"]), str(t["protected"]))
                      for t in p["mcuboot"]["tlvs"]])
    elif kind == "unknown":
        for k, v in p["bytes"].items():
            console.print(f"{k}: {v}", markup=False)


def _text_or_hex(value_hex: str) -> str:
    """A KV value as ASCII text when it is printable, else its hex."""
    raw = bytes.fromhex(value_hex)
    return raw.decode("ascii") if raw.isascii() and raw.decode("ascii").isprintable() else value_hex


def _print_table(title: str, columns, rows) -> None:
    """One detail table; ``columns`` are names or ``(name, add_column options)``; cells literal."""
    t = Table(title=title, title_justify="left")
    for col in columns:
        name, opts = (col, {}) if isinstance(col, str) else col
        t.add_column(name, **opts)
    for row in rows:
        add_plain_row(t, *row)
    console.print(t)


def _layer_dump(command: str, p: dict, scan: dict | None) -> None:
    """The store layer's own dump view (``flashstack kv|feature|nvs dump``) of the scan that
    inspect ran, so both commands show a store the same way (one renderer per store).

    Each store CLI module exports ``render_dump``; a module without it is an error, never a
    silently missing view."""
    if scan is None:
        return
    import importlib
    module = importlib.import_module(f"flashstack.cli.{command}")
    # cli/nvs.py still names it _render_dump until its owner renames it; only nvs may do so.
    render = module._render_dump if command == "nvs" and not hasattr(module, "render_dump") else module.render_dump
    render({"partition": p["partition"], **scan})


def _render_scan(report: dict) -> None:
    console.print(f"{report['image']}: {human_size(report['size'])}, no board: {report['summary']}",
                  markup=False, soft_wrap=True)
    if report["kv_stores"]:
        t = Table(title="AliOS KV stores", title_justify="left")
        for col in ("offset", "block size", "blocks", "summary"):
            t.add_column(col)
        for g in report["kv_stores"]:
            add_plain_row(t, f"{g['offset']:#x}", str(g["block_size"]), str(g["blocks"]),
                      g.get("summary", g.get("error", "")))
        console.print(t)
    if report["llkernel_slots"]:
        t = Table(title="LLKERNEL slot headers", title_justify="left")
        for col in ("offset", "status", "slot address", "rom size", "ram", "ram size"):
            t.add_column(col)
        for s in report["llkernel_slots"]:
            used = s["status"] == "used"
            add_plain_row(t, f"{s['offset']:#x}", s["status"], f"{s['slot_address']:#x}" if used else "",
                      str(s["rom_size"]) if used else "", f"{s['ram_address']:#x}" if used else "",
                      str(s["ram_size"]) if used else "")
        console.print(t)
    for key, title in (("littlefs", "littlefs superblocks"), ("mcuboot", "MCUboot images"),
                       ("zms_stores", "Zephyr ZMS")):
        for item in report.get(key, ()):
            console.print(f"{title}: " + ", ".join(f"{k}={v:#x}" if k == "offset" else f"{k}={v}"
                                                   for k, v in item.items()), markup=False)
