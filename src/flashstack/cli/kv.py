"""``flashstack kv``: the AliOS-Things KV store of an image — get, set, del, list, dump,
import, export.

The store lives on ``--partition`` (a HAL partition name such as PARAMETER_2, or a flash-map
partition name or id; default PARAMETER_2 of the board's HAL table, i.e. storage_partition).
Reading commands (get, list, export, dump) mount an in-memory copy, so they never modify the
image, even when mount would repair it. Writing commands (set, del, import) first run the
whole request on an in-memory copy (a bad key, a missing key, a full store fail there and
the image stays byte-identical), refuse a partition holding another kind or unknown data
unless ``--force``, and refuse to repair a damaged store (torn record, pending GC) unless
``--repair``.

The KV geometry comes from, in order: the flags, the build record beside the image
(``build.json``), the block headers in the bytes, defaults (4 KiB blocks filling the
partition); a flag contradicting the record or the bytes is an error. Reports name each
parameter's source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..errors import InvalidArgument, NotFound, printable, quoted
from . import common
from .common import INT, add_plain_row, board_options, console, emit, fail, json_option, parse_value
from .context import EXIT_DAMAGE, params_line

if TYPE_CHECKING:
    from rich.text import Text


def open_board(kw, readonly: bool):
    """The board over ``--image``, its devices able to re-program a byte (the KV programs each
    state byte up to three times, as NOR flash allows)."""
    return common.open_board(kw, readonly=readonly, allow_double_writes=True)

_GEOMETRY = [
    click.option("--partition", "-p", "partition", default=None, metavar="P",
                 help="HAL partition (PARAMETER_2) or flash-map partition name/id [default: PARAMETER_2]."),
    click.option("--total-size", type=INT, default=None,
                 help="KV area size in bytes [record, block headers, else whole blocks of the partition]."),
    click.option("--block-size", type=INT, default=None,
                 help="KV block size, a multiple of the erase page [record, block headers, else 4096]."),
    click.option("--max-key-len", type=INT, default=None, help="[record, else 128]"),
    click.option("--max-val-len", type=INT, default=None, help="[record, else 512]"),
    click.option("--align", type=click.Choice(["4", "8"]), default=None,
                 help="Record alignment (8 for 64-bit targets) [record, else 4]."),
]
_NAMES = ["total_size", "block_size", "max_key_len", "max_val_len", "align"]
_WRITER = [
    click.option("--force", is_flag=True,
                 help="Write even when the partition holds another kind or unknown data."),
    click.option("--repair", is_flag=True,
                 help="Let mount repair a damaged store (torn record, pending GC) before writing."),
]


def kv_options(fn):
    for opt in reversed(_GEOMETRY):
        fn = opt(fn)
    return board_options(image_required=True)(fn)


def writer_options(fn):
    for opt in reversed(_WRITER):
        fn = opt(fn)
    return fn


def _resolve(kw, storage, write: bool):
    """The KVConfig for ``storage`` and its parameter sources; a writer is refused a partition
    holding something else (unless --force)."""
    from ..kv import KVConfig
    from .context import detections, guard_writer, record_entry, resolve_params, view_of
    area = getattr(storage, "area", storage)
    view = view_of(area, storage)
    found = detections(view)
    content, path = record_entry(kw.get("image"), area)
    if write:
        guard_writer("alios-kv", view, found, content, kw.get("force", False), "kv")
    flags = {k: kw.get(k) for k in _NAMES}
    flags["align"] = int(flags["align"]) if flags["align"] else None
    block = flags["block_size"] or 4096
    defaults = {"block_size": 4096, "total_size": min(storage.size // block, 255) * block,
                "max_key_len": 128, "max_val_len": 512, "align": 4}
    res = resolve_params("alios-kv", _NAMES, flags, content, path, found, defaults)
    return KVConfig(**res.values()), res


def _storage(ob, name):
    """HAL partition view when ``name`` is a HAL partition of the board, else the flash area."""
    from ..hal import hal_from_board
    from ..hal.types import parse_partition
    hal_value = None
    try:
        hal_value = parse_partition(name or "PARAMETER_2")
    except InvalidArgument:
        pass
    if hal_value is not None and not (name or "").isdigit():
        hal = hal_from_board(ob)
        if hal_value in hal.table:
            return hal.partition(hal_value)
        if name is None:
            fail(f"board {ob.board.name} has no HAL partition PARAMETER_2 (no storage_partition); "
                 "pass --partition")
    try:
        return ob.area(name if not (name or "").isdigit() else int(name))
    except NotFound as e:
        fail(str(e))


class _Session:
    """An open board and the store on it. Reading: a mounted shadow copy. Writing: ``apply(fn)``
    runs ``fn(store)`` on a shadow copy first (any error leaves the image untouched), then,
    when mount would not repair anything (or --repair), on the image itself."""

    def __init__(self, kw, write: bool):
        from ..kv import KVStore
        from ..kv.store import shadow_area
        self.ob = open_board(kw, readonly=not write)
        self.kw, self.write = kw, write
        try:
            storage = _storage(self.ob, kw["partition"])
            self.config, self.params = _resolve(kw, storage, write)
            self.name = getattr(storage, "name", "storage")
            self.storage = storage
            self.store = KVStore(shadow_area(storage, self.config), self.config)
            self.store.mount()
        except BaseException:
            self.ob.close()
            raise

    def apply(self, fn):
        """``fn(store)`` on the copy, then on the image; returns the image run's result."""
        from ..kv import KVStore
        from ..kv import scan
        fn(self.store)                         # the whole request, validated on the copy
        report = scan(self.storage, self.config)
        if report.mount_ops and report.verdict != "blank" and not self.kw.get("repair"):
            what = "; ".join(f"{'erase' if op.get('op') == 'E' else 'program'} at {op['pos']:#x} ({op['why']})"
                             for op in report.to_json()["mount_ops"])
            fail(f"the KV on {self.name} needs recovery ({report.verdict}): mount would {what}; "
                 "pass --repair to let it, or inspect it with 'flashstack kv dump'")
        real = KVStore(self.storage, self.config)
        real.mount()
        return fn(real)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.ob.close()


def _text(value: bytes) -> str:
    try:
        t = value.decode("utf-8")
        if t.isprintable():
            return t
    except UnicodeDecodeError:
        pass
    return value.hex(" ")


def _key(k: bytes) -> str:
    return printable(k)


@click.group()
def kv():
    """AliOS-Things KV store of an image (byte-compatible with the firmware).

    \b
    Examples:
      flashstack kv set  --image img/ wifi.ssid flashstack
      flashstack kv set  --image img/ cal --hex "01 02 03"
      flashstack kv get  --image img/ wifi.ssid
      flashstack kv list --image img/ --json
      flashstack kv dump --image img/
      flashstack kv import --image img/ defaults.csv
    """


@kv.command("get", epilog="\b\nExample:\n  flashstack kv set --image img/ wifi.ssid lab-ap\n  flashstack kv get --image img/ wifi.ssid")
@kv_options
@click.argument("key")
@click.option("--hex", "as_hex", is_flag=True, help="Print the value as hex.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), help="Write the raw value to a file.")
@json_option
def get_cmd(key, as_hex, out, as_json, **kw):
    """Print the value of KEY."""
    with _Session(kw, write=False) as s:
        value = s.store.get(key)
    if out:
        with open(out, "wb") as f:
            f.write(value)
    emit({"key": printable(key), "length": len(value), "value_hex": value.hex(), "text": _text(value)}, as_json,
         lambda o: click.echo(value.hex() if as_hex else _text(value)) if not out else None)


@kv.command("set", epilog="\b\nExample:\n  flashstack kv set --image img/ wifi.ssid lab-ap")
@kv_options
@writer_options
@click.argument("key")
@click.argument("value", required=False)
@click.option("--hex", "hex_value", metavar="HEX", help="Value as hex digits.")
@click.option("--file", "file_value", type=click.Path(dir_okay=False), help="Value from a file ('-' = stdin).")
@json_option
def set_cmd(key, value, hex_value, file_value, as_json, **kw):
    """Store VALUE (text), --hex or --file under KEY."""
    if sum(x is not None for x in (value, hex_value, file_value)) != 1:
        fail("give exactly one of VALUE (text), --hex HEX or --file FILE")
    data = parse_value(value, hex_value, file_value)
    with _Session(kw, write=True) as s:
        st = s.apply(lambda store: (store.set(key, data), store.stats())[1])
    emit({"key": printable(key), "length": len(data), "write_pos": st["write_pos"], "free_bytes": st["free_bytes"],
          "parameters": s.params.to_json()}, as_json,
         lambda o: console.print(_literal("set ", (printable(key), "bold"), f" ({len(data)} bytes) on {s.name}")))


@kv.command("del", epilog="\b\nExample:\n  flashstack kv del --image build/ device.serial")
@kv_options
@writer_options
@click.argument("key", required=False)
@click.option("--prefix", default=None, help="Delete every key starting with PREFIX ('' = all).")
@json_option
def del_cmd(key, prefix, as_json, **kw):
    """Delete KEY, or every key starting with --prefix."""
    if (key is None) == (prefix is None):
        fail("give a KEY or --prefix")
    def run(store):
        if prefix is not None:
            return store.delete_by_prefix(prefix)
        store.delete(key)
        return 1
    with _Session(kw, write=True) as s:
        n = s.apply(run)
    emit({"deleted": n, "parameters": s.params.to_json()}, as_json, lambda o: console.print(f"deleted {n} key(s)"))


@kv.command("list", epilog="\b\nExample:\n  flashstack kv list --image build/")
@kv_options
@json_option
def list_cmd(as_json, **kw):
    """List every live key (search order) with its length and a value preview."""
    with _Session(kw, write=False) as s:
        items = s.store.items()
        st = s.store.stats()
    rows = [{"key": _key(k), "length": len(v), "value_hex": v.hex(), "text": _text(v)} for k, v in items]

    def render(_):
        from rich.table import Table
        # heading and parameters as lines of their own: a table's title and caption would
        # wrap to the width of a narrow table
        console.print(f"KV on {s.name}: {len(rows)} keys, {st['live_bytes']} bytes live, "
                      f"{st['free_bytes']} free", markup=False, highlight=False)
        t = Table()
        for col in ("key", "length", "value"):
            t.add_column(col, justify="right" if col == "length" else "left")
        for r in rows:
            add_plain_row(t, r["key"], str(r["length"]), r["text"][:60])
        from .tables import fit
        console.print(fit(t, console, names=("key",)))
    from .context import emit_with_parameters
    emit_with_parameters({"partition": s.name, "items": rows, "stats": st}, s.params, as_json, render)


@kv.command("dump")
@kv_options
@json_option
def dump_cmd(as_json, **kw):
    """Health report: blocks, records, duplicates, torn or corrupt areas, mount repairs, verdict.
    Never writes the image. Exit status 3 when the verdict is "data loss".

    \b
    Example:
      flashstack kv dump --image img/ --json
    """
    from ..kv import scan
    ob = open_board(kw, readonly=True)
    try:
        storage = _storage(ob, kw["partition"])
        cfg, params = _resolve(kw, storage, write=False)
        report = scan(storage, cfg).to_json()
    finally:
        ob.close()
    report["partition"] = getattr(storage, "name", "storage")
    report["parameters"] = params.to_json()
    emit(report, as_json, render_dump)
    if report["verdict"] == "data loss":
        click.get_current_context().exit(EXIT_DAMAGE)


_VERDICT_STYLE = {"ok": "green", "recoverable": "yellow", "data loss": "red", "blank": "cyan"}


def _literal(*parts) -> Text:
    """One line of literal text (keys, values and partition names are data, never rich markup);
    ``parts`` are strings or ``(string, style)`` pairs."""
    from rich.text import Text
    return Text.assemble(*parts)


def render_dump(r):
    """Print the ``flashstack kv dump`` view of a scan report (``flashstack.kv.scan(...).to_json()``
    plus ``"partition"``); every key, value and message is printed literally."""
    from rich.table import Table
    bt = Table(title=_literal(f"KV blocks on {r['partition']}"))
    for col in ("block", "offset", "state", "after mount", "records", "free", "live", "garbage"):
        bt.add_column(col, justify="left" if col in ("state", "after mount") else "right")
    for b in r["blocks"]:
        add_plain_row(bt, str(b["index"]), f"{b['offset']:#07x}", b["state"], b["state_after_mount"], str(b["records"]),
                      str(b["free"]), str(b["live_bytes"]), str(b["garbage_bytes"]))
    console.print(bt)
    rt = Table(title="records")
    for col in ("offset", "state", "key", "value", "len", "crc", "origin", "status"):
        rt.add_column(col, justify="right" if col in ("offset", "len", "origin") else "left")
    for x in r["records"]:
        state = {0xEE: "NORMAL", 0x00: "DELETE"}.get(x["state"], f"{x['state']:#04x}")
        crc = "ok" if x["crc_ok"] else _literal(("BAD", "red"))
        status = x["status"] if x["status"] in ("live", "deleted") else _literal((x["status"], "yellow"))
        add_plain_row(rt, f"{x['pos']:#06x}", state, x["key"], x["value_preview"], str(x["val_len"]), crc,
                      f"{x['origin']:#06x}" if x["origin"] else "-", status)
    console.print(rt)
    for c in r["corrupt"]:
        console.print(_literal(("corrupt", "red"), f" {c['pos']:#06x}+{c['length']}: {c['why']}"))
    for k, pos in r["duplicates"].items():
        console.print(_literal(("duplicate", "yellow"), f" key {quoted(k)} at " + ", ".join(f"{p:#06x}" for p in pos)))
    for op in r["mount_ops"]:
        what = f"erase {op['len']:#x}" if op["op"] == "E" else f"program {op['data']}"
        console.print(_literal(f"mount would {what} at {op['pos']:#06x}: {op['why']}"))
    console.print(f"write position {r['write_pos']:#06x}, {r['live_keys']} live keys ({r['live_bytes']} bytes), "
                  f"{r['free_bytes']} free, {r['reclaimable_bytes']} reclaimable"
                  + (", GC would run at mount" if r["gc_would_run"] else ""))
    for p in r["problems"]:
        console.print(_literal(f"  - {p}"))
    style = _VERDICT_STYLE.get(r["verdict"], "white")
    console.print(_literal("verdict: ", (r["verdict"], f"bold {style}")))
    if r.get("parameters"):
        from ..stores import Param, Resolved
        console.print(params_line(Resolved({k: Param(v["value"], v["source"]) for k, v in r["parameters"].items()})))


@kv.command("import", epilog="\b\nExample:\n  flashstack kv export --image build/ defaults.csv\n  flashstack kv import --image img/ defaults.csv")
@kv_options
@writer_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Input format [default: from the extension].")
@click.option("--clear", is_flag=True, help="Delete every existing key first.")
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option("--allow-outside", is_flag=True,
              help="Let type=file rows read files outside the folder of FILE.")
@json_option
def import_cmd(file, fmt, clear, dry_run, allow_outside, as_json, **kw):
    """Import FILE (CSV key,type,encoding,value or JSON). Every row is validated first (encoding,
    ranges, key and value length, capacity); nothing is written if any row is bad. Files named
    by type=file rows must be regular files inside FILE's folder (see --allow-outside)."""
    from ..kv.csvio import check_items, import_items, load_items
    items = load_items(file, fmt, allow_outside=allow_outside)
    with _Session(kw, write=not dry_run) as s:
        if dry_run:
            plan = check_items(s.store, items, clear=clear)
        else:
            plan = s.apply(lambda store: import_items(store, items, clear=clear))
    emit(plan, as_json, lambda p: console.print(
        f"{'checked' if dry_run else 'imported'} {p['items']} item(s), {p['record_bytes']} bytes of records "
        f"(usable {p['usable_bytes']})"))


@kv.command("export", epilog="\b\nExample:\n  flashstack kv export --image build/ kv.csv")
@kv_options
@click.argument("file", required=False, type=click.Path(dir_okay=False, writable=True))
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Output format [default: from the extension, else csv].")
def export_cmd(file, fmt, **kw):
    """Export every live item as CSV or JSON to FILE (stdout when omitted)."""
    from ..kv.csvio import export_items
    fmt = fmt or ("json" if file and file.endswith(".json") else "csv")
    with _Session(kw, write=False) as s:
        text = export_items(s.store, file, fmt)
    if file is None:
        click.echo(text, nl=False)
