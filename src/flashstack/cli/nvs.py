"""``flashstack nvs``: Zephyr NVS (and Settings on it) in a partition of an image.

Ids are decimal or 0x hex (0..0xfffe); with ``--settings`` a KEY is a setting name stored
with Zephyr's Settings-on-NVS id scheme. Reading commands (read, list, dump, export) never
write the image: they mount an in-memory copy. Geometry defaults: the sector size is the
erase page at the partition start, the sector count fills the partition (with
``--settings``: at most 8, Zephyr's CONFIG_SETTINGS_NVS_SECTOR_COUNT).
"""

from __future__ import annotations

import json
from typing import Any, cast

import click

from ..errors import InvalidArgument
from .common import (INT, board_options, console, emit, fail, hexdump, json_option, open_board,
                     parse_int, parse_value)
from .context import EXIT_DAMAGE, partition_args


def group_help(cmd: str, title: str, key: str) -> str:
    """The ``--help`` text of the ``flashstack nvs`` / ``flashstack zms`` group (``key``: what
    a KEY is, e.g. "an NVS id")."""
    return f"""{title} stores: read, write, delete, list, dump, import, export.

    PARTITION is a node label (storage_partition), a label property or an id.
    KEY is {key} (decimal or 0x hex) or, with --settings, a setting name.

    Exit status: 0 ok, 1 error, 2 usage error, 3 when dump finds damage.

    \b
    Examples:
      flashstack {cmd} write  --image img/ -p storage_partition 0x10 --data "hello"
      flashstack {cmd} read   --image img/ -p storage_partition 16
      flashstack {cmd} write  --image img/ -p storage_partition --settings bt/name --data dev1
      flashstack {cmd} dump   --image img/ -p storage_partition --json
      flashstack {cmd} export --image img/ -p storage_partition -o {cmd}.json
    """


@click.group(help=group_help("nvs", "Zephyr NVS", "an NVS id"))
def nvs():
    pass


def _geometry_options(fn):
    fn = click.option("--data-crc/--no-data-crc", default=None,
                      help="Values carry a CRC-32 (CONFIG_NVS_DATA_CRC / CONFIG_ZMS_DATA_CRC) "
                           "[build record, else the values in the bytes, else no].")(fn)
    fn = click.option("--sector-count", type=INT,
                      help="Sectors [build record, else fill the partition; Settings: at most 8].")(fn)
    fn = click.option("--sector-size", type=INT,
                      help="Sector size in bytes [build record, else the ATEs, else the erase page].")(fn)
    return fn


_settings_option = click.option("--settings", "use_settings", is_flag=True,
                                help="Address values by Zephyr setting name (Settings on the store).")


def _store_options(*names: str, middle: tuple = ()):
    """The options of every command on a store, in this order: the board and image, ``-p``
    with the positional ``names`` (default partition storage_partition), ``middle`` (the
    command's own decorators, top first), the geometry options and ``--json``."""
    def deco(fn):
        fn = _geometry_options(json_option(fn))
        for option in reversed(middle):
            fn = option(fn)
        fn = partition_args(*names, default="storage_partition")(fn)
        return board_options(image_required=True)(fn)
    return deco


class StoreKind:
    """What the commands of this module need from a Zephyr id/value store. ``nvs`` is
    :data:`NVS_KIND`; :mod:`flashstack.cli.zms` reuses every command with its own kind
    (``ctx.meta[KIND_KEY]``), so both command families share one implementation."""

    name = "nvs"
    title = "Zephyr NVS"
    id_max = 0xFFFE
    id_width = 6            # "0x%04x"

    def settings_geometry(self, area):
        from ..nvs.settings import settings_geometry
        return settings_geometry(area)

    def open_copy(self, area, s, n, data_crc):
        from ..nvs import mount_copy
        return mount_copy(area, s, n, data_crc)

    def looks_like(self, area, s) -> bool:
        from ..nvs import looks_like_nvs
        return looks_like_nvs(area, s)

    def open_store(self, area, s, n, data_crc):
        from ..nvs import NVSStore
        st = NVSStore(area, s, n, data_crc)
        st.mount()
        return st

    def settings(self, store):
        from ..nvs import NVSSettings
        return NVSSettings(store)

    def scan(self, area, s, n, data_crc):
        from ..nvs import scan
        return scan(area, s, n, data_crc)

    def render_dump(self, r: dict) -> None:
        _render_dump(r)


NVS_KIND = StoreKind()
KIND_KEY = "flashstack.cli.store_kind"


def _kind() -> StoreKind:
    return _ctx().meta.get(KIND_KEY, NVS_KIND)


def _parse_id(text) -> int:
    value = parse_int(text)
    k = _kind()
    if not 0 <= value <= k.id_max:
        raise InvalidArgument(f"{k.title} id {text!r} outside 0..{k.id_max:#x}")
    return value


_PARAMS_KEY = "flashstack.cli.store_params"


def _resolve(area, sector_size, sector_count, data_crc, use_settings, write=False, force=False):
    """The store's geometry with the source of each value (flags, then the build record beside
    the image, then the bytes, then defaults); a writer is refused a partition that holds
    something else unless --force. Kept in the click context for :func:`_emit`."""
    from ..stores import Param, find
    from .context import detections, guard_writer, record_entry, resolve_params, view_of
    k = _kind()
    reg = find(k.name)
    assert reg is not None
    ctx = _ctx()
    view = view_of(area)
    found = detections(view)
    det = next((d for d in found if d.kind == reg.name), None)
    if sector_size and (det is None or det.params.get("sector_size") != sector_size):
        # the flag's geometry reads as the store too (NVS and ZMS detect at a given sector size)
        alt = cast(Any, reg).detect(view, sector_size=sector_size)
        if alt is not None:
            found = [d for d in found if d is not det] + [alt]
            det = alt
    if det is not None and det.sources.get("sector_count", "").startswith("Settings default"):
        det.params.pop("sector_count")   # not written in the bytes: a default, not a fact
    content, path = record_entry(ctx.params.get("image"), area)
    if write:
        guard_writer(reg.name, view, found, content, force, f"{k.name} (or check --sector-size)")
    options = ctx.meta.get("flashstack.cli.store_options", {})
    flags = {"sector_size": sector_size, "sector_count": sector_count, "data_crc": data_crc,
             "id_64bit": options.get("id_64bit")}
    names = ["sector_size", "sector_count", "data_crc"] + (["id_64bit"] if "id_64bit" in options else [])
    res = resolve_params(reg.name, names, flags, content, path, found, {"data_crc": False, "id_64bit": False},
                         flag_names={"data_crc": "--data-crc", "id_64bit": "--id-64bit"})
    settings = use_settings or bool(det and det.params.get("settings"))
    if "sector_size" not in res.params:
        s, _ = k.settings_geometry(area)
        res.params["sector_size"] = Param(s, "default (the erase page at the partition start)")
    if "sector_count" not in res.params:
        s = res["sector_size"]
        n = min(k.settings_geometry(area)[1], area.size // s) if settings else area.size // s
        res.params["sector_count"] = Param(n, "default (Settings: at most 8 sectors)" if n < area.size // s
                                           else "default (fill the partition)")
    if "id_64bit" in options:
        options["id_64bit"] = res["id_64bit"]
    ctx.meta[_PARAMS_KEY] = res
    return res


def _emit(result: dict, as_json: bool, render) -> None:
    """``emit`` with the resolved parameters: a ``parameters`` field in JSON, a footer line
    in the table view."""
    from .context import emit_with_parameters
    emit_with_parameters(result, _ctx().meta.get(_PARAMS_KEY), as_json, render)


def _readonly_store(area, sector_size, sector_count, data_crc, use_settings):
    res = _resolve(area, sector_size, sector_count, data_crc, use_settings)
    return _kind().open_copy(area, res["sector_size"], res["sector_count"], res["data_crc"])


def _writable_store(area, sector_size, sector_count, data_crc, use_settings, force, repair=False):
    """The store mounted on ``area`` for writing; refused (exit 1, nothing written) when the
    partition is read-only or holds something else (unless --force), or when mount would
    repair the store (unless --repair)."""
    k = _kind()
    if area.read_only:
        if not force:
            fail(f"partition {area.name} is read-only; pass --force to modify it anyway")
        area = area.privileged()
    res = _resolve(area, sector_size, sector_count, data_crc, use_settings, write=True, force=force)
    s, n, crc = res["sector_size"], res["sector_count"], res["data_crc"]
    if not repair:
        report = k.scan(area, s, n, crc)
        if report.verdict in ("recoverable", "damaged") and report.mount_operations:
            what = "; ".join(report.mount_notes) or f"{len(report.mount_operations)} flash operation(s)"
            fail(f"the {k.title} store on {area.name} needs recovery ({report.verdict}): mount would "
                 f"change it ({what}); pass --repair to let it, or inspect it with "
                 f"'flashstack {k.name} dump'")
    return k.open_store(area, s, n, crc)


def _settings(store):
    s = _kind().settings(store)
    s.init()
    return s


def _preview(value: bytes, width: int = 40) -> str:
    try:
        text = value.decode("utf-8")
        if text.isprintable():
            return repr(text) if len(text) <= width else repr(text[:width]) + "…"
    except UnicodeDecodeError:
        pass
    h = value.hex(" ")
    return h if len(h) <= width * 2 else h[:width * 2] + "…"


def _ctx():
    return click.get_current_context()


# --- read ------------------------------------------------------------------------------
@nvs.command("read", short_help="Print the value of an id or setting.", epilog="\b\nExample:\n  flashstack nvs write --image img/ -p storage_partition 0x10 --data hello\n  flashstack nvs read --image img/ -p storage_partition 0x10")
@_store_options("key", middle=(
    _settings_option,
    click.option("--hist", "cnt", type=int, default=0, show_default=True,
                 help="History entry (0 = current value, 1 = the previous write, ...); with "
                      "--settings, of the setting's value id."),
    click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                 help="Also write the raw value to this file.")))
def read(board, include_dir, image, partition, key, use_settings, cnt, output, sector_size,
         sector_count, data_crc, as_json):
    """Read the value stored under KEY (an id, or a setting name with --settings)."""
    with open_board(_ctx(), readonly=True) as ob:
        area = ob.area(partition)
        st = _readonly_store(area, sector_size, sector_count, data_crc, use_settings)
        if use_settings:
            value = _settings(st).get(key, cnt)
            ident = {"name": key, "hist": cnt}
        else:
            ident = {"id": _parse_id(key), "hist": cnt}
            value = st.read_hist(ident["id"], cnt)
        name = area.name
    if output:
        with open(output, "wb") as f:
            f.write(value)
    result = {"partition": name, **ident, "length": len(value), "hex": value.hex()}

    def render(_):
        console.print(f"partition {name} {key}: {len(value)} bytes", soft_wrap=True)
        if value:
            click.echo(hexdump(value))
    _emit(result, as_json, render)


# --- write / delete ----------------------------------------------------------------------
def _FORCE(fn):
    fn = click.option("--repair", is_flag=True,
                      help="Let mount repair a store that needs recovery (torn write, interrupted "
                           "GC) before writing.")(fn)
    return click.option("--force", is_flag=True,
                        help="Write a partition that holds another kind or unknown data, or a "
                             "read-only one.")(fn)


@nvs.command("write", short_help="Store a value under an id or setting name.", epilog="\b\nExample:\n  flashstack nvs write --image img/ -p storage_partition 0x10 --data hello")
@_store_options("key", middle=(
    _settings_option,
    click.option("--data", "text", metavar="TEXT", help="The value as UTF-8 text."),
    click.option("--hex", "hex_", metavar="HEX", help='The value as hex ("01 02 03").'),
    click.option("--file", "file", metavar="PATH", help="The value from a file (- = stdin)."),
    _FORCE))
def write(board, include_dir, image, partition, key, use_settings, text, hex_, file, force, repair,
          sector_size, sector_count, data_crc, as_json):
    """Write a value (exactly one of --data, --hex, --file). An erased partition becomes a
    fresh store. An unchanged value writes nothing."""
    value = parse_value(text=text, hex=hex_, file=file)
    if not value:
        fail(f"an empty value is a delete; use 'flashstack {_kind().name} delete'")
    nvs_id = None if use_settings else _parse_id(key)
    done = _rehearsed(partition, (sector_size, sector_count, data_crc, use_settings, force, repair),
                      lambda s: s.save(key, value), lambda st: st.write(nvs_id, value))
    result = ({"partition": done["partition"], "name": key, "written": len(value)} if use_settings
              else {"partition": done["partition"], "id": nvs_id, "written": done["result"]})
    _emit(result, as_json, lambda r: console.print(
        f"{key}: " + (f"wrote {r['written']} bytes" if r["written"] else "unchanged, nothing written")
        + f" in {r['partition']}", soft_wrap=True))


@nvs.command("delete", short_help="Delete an id or setting.", epilog="\b\nExample:\n  flashstack nvs write --image img/ -p storage_partition 0x10 --data hello\n  flashstack nvs delete --image img/ -p storage_partition 0x10")
@_store_options("key", middle=(_settings_option, _FORCE))
def delete(board, include_dir, image, partition, key, use_settings, force, repair, sector_size,
           sector_count, data_crc, as_json):
    """Delete KEY (no error when it does not exist)."""
    nvs_id = None if use_settings else _parse_id(key)
    done = _rehearsed(partition, (sector_size, sector_count, data_crc, use_settings, force, repair),
                      lambda s: s.delete(key), lambda st: st.delete(nvs_id))
    result = {"partition": done["partition"], **({"name": key} if use_settings else {"id": nvs_id}),
              "deleted": True}
    _emit(result, as_json, lambda r: console.print(f"{key}: deleted from {r['partition']}",
                                                 soft_wrap=True))


def _rehearsed(partition, store_args: tuple, on_settings, on_store) -> dict:
    """Apply one change to PARTITION all or nothing (``nvs_import.rehearse``): ``on_settings``
    on the Settings of the store when ``store_args`` (sector size, count, data CRC, settings,
    force, repair) ask for Settings, else ``on_store``. ``{"partition": name, "result": what it gave}``."""
    from .nvs_import import rehearse
    with open_board(_ctx(), readonly=False) as ob:
        area = ob.area(partition)

        def open_store(a):
            return _writable_store(a, *store_args)
        use_settings = store_args[3]
        result = rehearse(area, open_store, (lambda st: on_settings(_settings(st))) if use_settings
                          else on_store)
    return {"partition": area.name, "result": result}


# --- list / export / import ------------------------------------------------------------------
def _content(area, sector_size, sector_count, data_crc, use_settings) -> dict:
    st = _readonly_store(area, sector_size, sector_count, data_crc, use_settings)
    geometry = st.geo.to_json()
    kind = _kind()
    if use_settings:
        values = dict(_settings(st).items())
        return {"partition": area.name, "format": f"zephyr-settings-{kind.name}",
                "geometry": geometry,
                "settings": {k: v.hex() for k, v in sorted(values.items())}}
    return {"partition": area.name, "format": f"zephyr-{kind.name}", "geometry": geometry,
            "items": {f"{k:#0{kind.id_width}x}": v.hex() for k, v in st.items()}}


@nvs.command("list", short_help="List live ids (or settings) with their values.", epilog="\b\nExample:\n  flashstack nvs write --image img/ -p storage_partition 0x10 --data hello\n  flashstack nvs list --image img/ -p storage_partition")
@_store_options(middle=(_settings_option,))
def list_(board, include_dir, image, partition, use_settings, sector_size, sector_count,
          data_crc, as_json):
    """List every live id (or setting) with its length and a preview."""
    from rich.table import Table
    with open_board(_ctx(), readonly=True) as ob:
        result = _content(ob.area(partition), sector_size, sector_count, data_crc, use_settings)

    def render(r):
        rows = r.get("settings") or r.get("items") or {}
        table = Table(title=f"{r['partition']}: {len(rows)} "
                            + ("settings" if use_settings else "ids"))
        table.add_column("name" if use_settings else "id")
        table.add_column("bytes", justify="right")
        table.add_column("value")
        for k, v in rows.items():
            raw = bytes.fromhex(v)
            table.add_row(k if use_settings else f"{k} ({int(k, 16)})", str(len(raw)), _preview(raw))
        from .tables import fit
        console.print(fit(table, console, names=("name", "id")))
    _emit(result, as_json, render)


@nvs.command("export", short_help="Write the live content as JSON.", epilog="\b\nExample:\n  flashstack nvs write --image img/ -p storage_partition 0x10 --data hello\n  flashstack nvs export --image img/ -p storage_partition -o nvs.json")
@_store_options(middle=(
    _settings_option,
    click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                 help="Write to this file instead of stdout.")))
def export(board, include_dir, image, partition, use_settings, output, sector_size,
           sector_count, data_crc, as_json):
    """Export ids (or settings) and values (hex) as JSON, the input format of 'nvs import'.
    Without -o the export itself is printed (JSON either way); with -o and --json a JSON
    summary of the export is printed."""
    with open_board(_ctx(), readonly=True) as ob:
        result = _content(ob.area(partition), sector_size, sector_count, data_crc, use_settings)
    text = json.dumps(result, indent=2)
    if not output:
        click.echo(text)
        return
    with open(output, "w") as f:
        f.write(text + "\n")
    count = len(result.get("items") or result.get("settings") or {})
    emit({"partition": result["partition"], "file": str(output), "entries": count}, as_json,
         lambda r: console.print(f"exported {count} entries to {output}", soft_wrap=True))


@nvs.command("import", short_help="Write ids or settings from a JSON file.", epilog="\b\nExample:\n  flashstack nvs write --image img/ -p storage_partition 0x10 --data hello\n  flashstack nvs export --image img/ -p storage_partition -o nvs.json\n  flashstack image create -o img2/\n  flashstack nvs import --image img2/ -p storage_partition nvs.json")
@_store_options("file", middle=(_FORCE,))
def import_(board, include_dir, image, partition, file, force, repair, sector_size, sector_count,
            data_crc, as_json):
    """Write every entry of FILE: {"items": {"<id>": "<hex>"}} and/or
    {"settings": {"<name>": "<hex>"}} (values may also be {"text": "..."}). All or nothing:
    the whole file is validated and applied to a copy of the partition before the image is
    written."""
    from .nvs_import import import_all_or_nothing, parse_import
    with open(file, "rb") as f:
        doc = parse_import(f.read(), str(file), _kind().id_max)
    with open_board(_ctx(), readonly=False) as ob:
        area = ob.area(partition)

        def open_store(a):
            return _writable_store(a, sector_size, sector_count, data_crc, bool(doc.settings), force, repair)
        written = import_all_or_nothing(area, open_store, doc, _settings)
        result = {"partition": area.name, "items": len(doc.items), "settings": len(doc.settings),
                  "written": written}
    _emit(result, as_json, lambda r: console.print(
        f"imported {r['items']} ids and {r['settings']} settings into {r['partition']}",
        soft_wrap=True))


# --- dump -------------------------------------------------------------------------------
@nvs.command("dump", short_help="Sectors, every ATE and a health verdict.")
@_store_options()
def dump(board, include_dir, image, partition, sector_size, sector_count, data_crc, as_json):
    """Analyse the partition without writing it: sectors (open/closed, gc_done), every ATE
    (id, offset, length, CRC, valid/deleted/superseded/corrupt) and a verdict. Exit status 3
    when the verdict is damaged or unmountable.

    \b
    Example:
      flashstack nvs dump --image img/ -p storage_partition --json
    """
    kind = _kind()
    with open_board(_ctx(), readonly=True) as ob:
        area = ob.area(partition)
        res = _resolve(area, sector_size, sector_count, data_crc, False)
        report = kind.scan(area, res["sector_size"], res["sector_count"], res["data_crc"])
        name = area.name
    result = {"partition": name, **report.to_json()}
    _emit(result, as_json, kind.render_dump)
    if report.verdict in ("damaged", "unmountable"):
        _ctx().exit(EXIT_DAMAGE)


def _render_dump(r: dict) -> None:
    from rich.table import Table
    g = r["geometry"]
    colour = {"healthy": "green", "empty": "green", "recoverable": "yellow"}.get(r["verdict"], "red")
    console.print(f"partition {r['partition']}: Zephyr NVS, {g['sector_count']} x "
                  f"{g['sector_size']} B sectors, write block {g['write_block_size']}"
                  f"{', data CRC' if g['data_crc'] else ''}", soft_wrap=True)
    from rich.text import Text
    console.print(Text.assemble("verdict: ", (r["verdict"], colour),
                                f" ({r['mount_error']})" if r["mount_error"] else ""), soft_wrap=True)
    if r["ate_wra"] is not None:
        console.print(f"write sector {r['write_sector']}, ate_wra {r['ate_wra']:#x}, data_wra "
                      f"{r['data_wra']:#x}, free {r['free_space']} B, {len(r['items'])} live ids",
                      soft_wrap=True)
    sectors = Table(title="sectors")
    for col in ("#", "offset", "state", "close ATE", "gc_done", "valid", "deleted", "superseded",
                "corrupt", "live bytes"):
        sectors.add_column(col)
    for s in r["sectors"]:
        c = s["counts"]
        sectors.add_row(str(s["index"]), f"{s['offset']:#x}",
                        "erased" if s["erased"] else s["state"], s["close_ate"] or "-",
                        "yes" if s["gc_done"] else "-", *(str(c.get(k, 0)) for k in
                        ("valid", "deleted", "superseded", "corrupt")), str(s["data_bytes"]))
    console.print(sectors)
    ates = Table(title="ATEs " + ("in walk order (newest first)" if r["walk_order"] else "(raw)"))
    for col in ("address", "kind", "id", "offset", "len", "CRC", "state"):
        ates.add_column(col)
    for a in r["ates"]:
        crc = "ok" if a["crc_ok"] else "bad"
        if a["data_crc_ok"] is False:
            crc += " / data bad"
        ates.add_row(f"{a['address']:#x}", a["kind"], f"{a['id']:#06x}", f"{a['offset']:#x}",
                     str(a["len"]), crc, a["state"])
    console.print(ates)
    for note in r["mount_notes"] + r["notes"]:
        console.print(f"note: {note}", soft_wrap=True)
    for start, end in r["orphan_data"]:
        console.print(f"orphan data (no ATE) at {start:#x}..{end:#x}", soft_wrap=True)
    for op in r["mount_operations"]:
        console.print(f"mount would: {op}", soft_wrap=True)
    if r.get("settings"):
        console.print(f"settings: {', '.join(sorted(r['settings']))}", soft_wrap=True)
