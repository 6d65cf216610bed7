"""``flashstack feature``: MicroEJ Features in a KF partition (LLKERNEL over flash).

list / install / remove / dump work on an image through :class:`flashstack.llkernel.FeatureStore`;
size reads ``.fo`` files (extra ``elf``). Handles and addresses are absolute; sizes are bytes.
"""

from __future__ import annotations

import click

from ..llkernel.config import DEFAULT_MAX_FEATURES, DEFAULT_RAM_ALIGN, DEFAULT_RAM_SIZE
from ..llkernel.fo import DEFAULT_CODE_CHUNK, DEFAULT_TRANSFER_BUFFER
from .common import (INT, add_plain_row, board_options, console, emit, fail, human_size, json_option,
                     load_board_from, open_board)

DEFAULT_PARTITION = "kf_partition"


def _store_options(fn):
    """Options that describe the KF region (docs/llkernel.md §5); each one not given comes
    from the build record beside the image, else the slot headers, else the default."""
    opts = [
        click.option("--partition", "-p", default=DEFAULT_PARTITION, show_default=True,
                     help="KF partition (node label, label or id)."),
        click.option("--max-features", "-n", type=INT, default=None,
                     help="N, the number of slots (Kernel option dynamicfeatures.max) "
                          f"[build record, else the slot headers, else {DEFAULT_MAX_FEATURES}]."),
        click.option("--base", type=INT, default=None,
                     help="Absolute address of the KF region [build record, else a USED header's "
                          "ROM address, else the partition's address]."),
        click.option("--ram-base", type=INT, default=None,
                     help="Link address of the Kernel RAM buffer (needed to install) [build record]."),
        click.option("--ram-buffer-size", type=INT, default=None,
                     help=f"Size of the Kernel RAM buffer [build record, else {DEFAULT_RAM_SIZE}]."),
        click.option("--ram-align", type=INT, default=None,
                     help=f"Alignment of Feature RAM areas [build record, else {DEFAULT_RAM_ALIGN}]."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _writer_options(fn):
    return click.option("--force", is_flag=True,
                        help="Write a partition that holds another kind or unknown data.")(fn)


def _check_torn_slot(store, repair: bool) -> None:
    """Refuse (unless ``repair``) an install whose slot holds a torn or unknown header: its
    erase would destroy the evidence of an interrupted allocation the user has not seen."""
    slot = store.next_free_slot()
    if slot is None or repair:
        return
    report = store.scan().slots[slot]
    torn = [a.message for a in report.anomalies
            if a.code in ("unknown_status", "erased_status_with_fields")]
    if torn:
        fail(f"partition {store.area.name}: the install would erase slot {slot} at "
             f"{store.config.slot_start(slot):#010x}, which needs recovery ({'; '.join(torn)}); "
             "pass --repair to let it, or inspect it with 'flashstack feature dump'")


#: option -> the build record's / store's parameter name
_NAMES = {"max_features": "max_features", "base": "kf_start", "ram_base": "ram_buffer_address",
          "ram_buffer_size": "ram_buffer_size", "ram_align": "ram_align"}
_SPELLED = {"max_features": "--max-features", "kf_start": "--base", "ram_buffer_address": "--ram-base",
            "ram_buffer_size": "--ram-buffer-size", "ram_align": "--ram-align"}


def _resolve(area, kw, write: bool, strict: bool = True):
    """The KF parameters and their sources (flags, build record, slot headers, defaults); a
    writer is refused a partition holding another kind or unknown data unless --force.
    ``strict=False`` (dump) reads with a given N even when headers sit off its slot starts
    (the dump reports them as anomalies)."""
    from ..stores import lookup
    from ..stores.llkernel import llkernel_headers
    from .context import detections, guard_writer, record_entry, resolve_params, view_of
    view = view_of(area)
    found = detections(view)
    content, path = record_entry(kw.get("image"), area)
    if write:
        guard_writer("llkernel", view, found, content, kw.get("force", False), "feature")
    det = next((d for d in found if d.kind == "llkernel"), None)
    n = kw.get("max_features")
    if det is not None and n:
        # N is inferred from where the headers sit, so several N can read the same bytes: only
        # an N that puts a header off its slot starts contradicts them
        sub = view.erase_page or 4096
        slot = (area.size // sub // n) * sub
        off = [o for o, _, _ in llkernel_headers(view.data, sub)
               if slot < sub or o % slot or o // slot >= n]
        if off and strict:
            fail(f"--max-features {n} contradicts the slot headers of {area.name}: a header at "
                 f"{off[0]:#x} is not a slot start with N = {n} (the headers say N = "
                 f"{det.params['max_features']}); drop the flag or fix the image")
        det.params.pop("max_features")
    flags = {name: kw.get(opt) for opt, name in _NAMES.items()}
    defaults = {"max_features": DEFAULT_MAX_FEATURES, "kf_start": area.address,
                "ram_buffer_size": DEFAULT_RAM_SIZE, "ram_align": DEFAULT_RAM_ALIGN}
    res = resolve_params(lookup("llkernel").name, list(_NAMES.values()), flags, content, path, found,
                         defaults, flag_names=_SPELLED)
    return res


def _open_store(ob, kw, write: bool = False, strict: bool = True):
    from ..llkernel import FeatureStore

    area = ob.area(kw["partition"])
    res = _resolve(area, kw, write, strict)
    kw["_parameters"] = res
    if res.get("kf_start") is None:
        fail(f"partition {area.name} has no memory-mapped address; give --base 0x...")
    return FeatureStore(area, res["kf_start"], max_features=res["max_features"],
                        ram_base=res.get("ram_buffer_address"), ram_size=res["ram_buffer_size"],
                        ram_align=res["ram_align"])


def _emit(out: dict, as_json: bool, render, kw) -> None:
    """``emit`` with the parameters and their sources (a JSON field, a footer line)."""
    from .context import emit_with_parameters
    emit_with_parameters(out, kw.get("_parameters"), as_json, render)


def _store_json(store) -> dict:
    return {"partition": store.area.name, "config": store.config.to_json()}


def _feature_table(features, title: str):
    from rich.table import Table
    from rich.text import Text

    t = Table(title=Text(title))  # the title names the partition: literal text
    for col in ("index", "slot", "handle", "ROM", "ROM size", "RAM", "RAM size", "subsectors"):
        t.add_column(col, justify="right")
    for f in features:
        add_plain_row(t, str(f["index"]), str(f["slot"]), f"{f['handle']:#010x}", f"{f['rom_address']:#010x}",
                  str(f["rom_size"]), f"{f['ram_address']:#010x}", str(f["ram_size"]),
                  str(f["nb_subsectors"]))
    console.print(t)


@click.group()
def feature():
    """MicroEJ Features stored in a KF partition (LLKERNEL over flash).

    The partition is cut into N equal slots; each Feature takes a slot (32-byte
    header + ROM) and an area of the Kernel RAM buffer.

    Exit status: 0 ok, 1 error, 2 usage error.

    \b
    Examples:
      flashstack feature list    --image img/
      flashstack feature install --image img/ --ram-base 0x20000000 app.bin --ram 4096
      flashstack feature remove  --image img/ --index 0
      flashstack feature dump    --image img/ --json
      flashstack feature size app.fo --max-features 8
    """


@feature.command("list", short_help="Installed Features, in index order.", epilog="\b\nExample:\n  flashstack feature install --image img/ app.bin --ram-base 0x20000000 --ram 4096\n  flashstack feature list --image img/")
@board_options(image_required=True)
@_store_options
@json_option
def list_(as_json, **kw):
    """List the Features found by the boot scan (all N slots, reads only)."""
    with open_board(kw, readonly=True) as ob:
        store = _open_store(ob, kw)
        out = {**_store_json(store), "count": store.allocated_features_count(),
               "features": [f.to_json() for f in store.features()]}
    _emit(out, as_json, lambda o: _feature_table(
        o["features"], f"{o['partition']}: {o['count']} of {o['config']['max_features']} slots "
                       f"({human_size(o['config']['slot_size'])} each)"), kw)


@feature.command("install", short_help="Install a raw ROM blob or a .fo.", epilog="\b\nExample:\n  flashstack feature install --image img/ app.bin --ram-base 0x20000000 --ram 4096")
@board_options(image_required=True)
@_store_options
@_writer_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--ram", "ram", type=INT, default=None,
              help="RAM bytes of the Feature (default: 0 for a blob, the RAM upper bound of a .fo).")
@click.option("--chunk", type=INT, default=4096, show_default=True, help="Bytes per copyToROM call.")
@click.option("--repair", is_flag=True,
              help="Let the install erase a slot that holds a torn or unknown header.")
@json_option
def install(file, ram, chunk, repair, as_json, **kw):
    """Install FILE: allocateFeature, copyToROM in chunks, flushCopyToROM.

    FILE is the ROM content as raw bytes, or a .fo (ELF) whose ROM sections
    are installed unrelocated, with RAM = its RAM upper bound unless --ram.
    The install takes the lowest slot not USED; when that slot holds a torn
    or unknown header (an interrupted allocation), it is refused unless
    --repair. (Opening the region only reads: nothing else is ever repaired;
    remove touches only the Feature it frees.)
    """
    from ..llkernel.fo import feature_input
    rom, ram_size, extra = feature_input(file, ram)
    with open_board(kw) as ob:
        store = _open_store(ob, kw, write=True)
        if store.config.ram_base is None:
            fail("install needs --ram-base (link address of the Kernel RAM buffer, from the firmware "
                 "map), or a build record that gives it")
        _check_torn_slot(store, repair)
        f = store.install(rom, ram_size, chunk=chunk)
        out = {**_store_json(store), "file": file, "feature": f.to_json(), **extra}
    _emit(out, as_json, lambda o: console.print(
        f"installed {o['file']}: index {f.index}, slot {f.slot}, handle {f.handle:#010x}, "
        f"ROM {f.rom_address:#010x}+{f.rom_size}, RAM {f.ram_address:#010x}+{f.ram_size}",
        markup=False, soft_wrap=True), kw)


@feature.command("remove", short_help="Free a Feature (by handle, index or slot).", epilog="\b\nExample:\n  flashstack feature install --image img/ app.bin --ram-base 0x20000000 --ram 4096\n  flashstack feature remove --image img/ --index 0")
@board_options(image_required=True)
@_store_options
@_writer_options
@click.option("--handle", type=INT, default=None, help="Handle (absolute slot start).")
@click.option("--index", type=INT, default=None, help="Index in the current list.")
@click.option("--slot", type=INT, default=None, help="Slot number.")
@json_option
def remove(handle, index, slot, as_json, **kw):
    """freeFeature: erase the header subsector and mark the slot REMOVED."""
    given = [v for v in (handle, index, slot) if v is not None]
    if len(given) != 1:
        fail("give exactly one of --handle, --index, --slot")
    with open_board(kw) as ob:
        store = _open_store(ob, kw, write=True)
        if index is not None:
            handle = store.feature_handle(index)
            if handle is None:
                fail(f"partition {store.area.name}: no Feature with index {index} "
                     f"(count {store.allocated_features_count()})")
        elif slot is not None:
            if not 0 <= slot < store.config.max_features:
                fail(f"partition {store.area.name}: slot {slot} outside "
                     f"0..{store.config.max_features - 1}")
            handle = store.config.slot_start(slot)
        handle &= 0xFFFFFFFF
        if store.feature_address_rom(handle) is None:
            fail(f"{handle:#010x} is not the handle of an installed Feature in {store.area.name}")
        store.free_feature(handle)
        if store.last_error:
            fail(store.last_error)
        out = {**_store_json(store), "removed": handle, "count": store.allocated_features_count()}
    _emit(out, as_json, lambda o: console.print(
        f"removed Feature {o['removed']:#010x}; {o['count']} left", markup=False), kw)


def render_dump(o):
    """Print the ``flashstack feature dump`` view of a KF scan (``FeatureStore.scan().to_json()``
    plus ``"partition"``); names, headers and messages are printed literally."""
    from rich.table import Table

    cfg = o["config"]
    console.print(f"{o['partition']}: KF {cfg['kf_start']:#010x}+{cfg['kf_size']:#x}, "
                  f"{cfg['max_features']} slots of {cfg['slot_size']:#x}, {o['count']} used, "
                  f"{o['unused_tail']} bytes unused at the end", markup=False)
    t = Table()
    for col in ("slot", "address", "state", "index", "header", "fields", "anomalies"):
        t.add_column(col)
    for s in o["slots"]:
        f = s.get("fields")
        fields = "" if not f else (
            f"sub {f['nb_subsectors']} ROM {f['rom_address']:#x}+{f['rom_size']} RAM "
            f"{f['ram_address']:#x}+{f['ram_size']} idx {f['feature_index']}")
        anomalies = "; ".join(f"{a['severity']}: {a['code']}" for a in s["anomalies"])
        add_plain_row(t, str(s["slot"]), f"{s['address']:#010x}", s["state"],
                  "" if s["index"] is None else str(s["index"]), s["header_hex"], fields, anomalies)
    console.print(t)
    for a in o["anomalies"]:
        console.print(f"{a['severity']}: {a['code']}: {a['message']}", markup=False)
    for s in o["slots"]:
        for a in s["anomalies"]:
            if a["severity"] != "info":
                console.print(f"slot {s['slot']}: {a['severity']}: {a['message']}", markup=False)


@feature.command("dump", short_help="Every slot header, decoded, with anomalies.", epilog="\b\nExample:\n  flashstack feature dump --image build/")
@board_options(image_required=True)
@_store_options
@json_option
def dump(as_json, **kw):
    """Show each slot's raw header, state, decoded fields and anomalies (unknown status,
    overlapping RAM, ROM outside its slot, stale index, headers beyond N slots). Reads only."""
    with open_board(kw, readonly=True) as ob:
        store = _open_store(ob, kw, strict=False)
        out = {"partition": store.area.name, **store.scan().to_json()}
    _emit(out, as_json, render_dump, kw)


def _render_size(o):
    from rich.table import Table
    from rich.text import Text

    p = o["plan"]
    t = Table(title=Text(f"KF {human_size(p['kf_size'])} ({o['kf_source']}), subsector "
                    f"{human_size(p['subsector'])}, N = {p['max_features']}, slot {human_size(p['slot_size'])}"))
    for col in ("file", "ROM", "ROM upper", "RAM", "RAM upper", "metadata", "code chunk",
                "transfer buffer", "slot needed", "fits slot", "RAM at"):
        t.add_column(col, justify="right")
    for fo, row in zip(o["files"], o["plan"]["features"]):
        add_plain_row(t, fo["path"], str(fo["rom"]), str(fo["rom_upper"]), str(fo["ram"]), str(fo["ram_upper"]),
                  str(fo["metadata"]), str(fo["code_chunk"]) + (" (error 58)" if fo["chunk_too_large"] else ""),
                  str(fo["transfer_buffer"]), str(fo["slot_needed"]), "yes" if row["fits_slot"] else "NO",
                  "-" if row["ram_offset"] is None else f"+{row['ram_offset']:#x}")
    console.print(t)
    console.print(f"together: {p['slots_used']} of {p['max_features']} slots, RAM span "
                  f"{p['ram_span']} of {p['ram_buffer_size']} bytes: "
                  f"{'fits' if p['fits_all'] else 'does NOT fit'}; largest N = {p['largest_n']}")


@feature.command("size", short_help="Size .fo files against a KF partition and N.", epilog="\b\nExample:\n  flashstack feature size app.fo --max-features 8")
@board_options(image=False)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--partition", "-p", default=DEFAULT_PARTITION, show_default=True,
              help="KF partition of the board whose size is used.")
@click.option("--kf-size", type=INT, default=None, help="KF region size (overrides the partition).")
@click.option("--subsector", type=INT, default=None,
              help="Erase unit (default: the partition's erase pages, which must be uniform).")
@click.option("--max-features", "-n", type=INT, default=DEFAULT_MAX_FEATURES, show_default=True)
@click.option("--ram-buffer-size", type=INT, default=DEFAULT_RAM_SIZE, show_default=True)
@click.option("--ram-align", type=INT, default=DEFAULT_RAM_ALIGN, show_default=True)
@click.option("--chunk-size", type=INT, default=DEFAULT_CODE_CHUNK, show_default=True,
              help="Kernel code chunk size (featurecodechunk.size).")
@click.option("--transfer-buffer-size", type=INT, default=DEFAULT_TRANSFER_BUFFER, show_default=True,
              help="Kernel stream buffer for the install (kf.link.transferbuffer.size).")
@json_option
def size(files, partition, kf_size, subsector, max_features, ram_buffer_size, ram_align, chunk_size,
         transfer_buffer_size, as_json, **kw):
    """ROM (allocated PROGBITS), RAM (allocated NOBITS) and metadata of each .fo,
    lower and aligned upper bounds, the install's code chunk and transfer
    buffers, whether each fits a slot, what they take together, and the largest
    N that fits them. KF size and subsector come from the board's partition
    unless --kf-size / --subsector are given."""
    from ..llkernel import fo
    from ..llkernel.config import uniform_subsector

    for opt, v in (("--kf-size", kf_size), ("--subsector", subsector), ("--max-features", max_features)):
        if v is not None and v < 1:
            fail(f"{opt} {v} must be >= 1")
    source = "--kf-size"
    if kf_size is None or subsector is None:
        board = load_board_from(kw)
        spec = board.partition(partition)
        source = f"partition {spec.name}" if kf_size is None else source
        kf_size = spec.size if kf_size is None else kf_size
        if subsector is None:
            pages = board.device(spec.device).page_layout.pages(spec.offset, spec.end)
            subsector = uniform_subsector(pages, spec.offset, spec.size, spec.name)
    sized = [fo.size_fo(f, chunk_size=chunk_size, transfer_buffer=transfer_buffer_size) for f in files]
    plan = fo.plan_fit(sized, kf_size, max_features, subsector=subsector, ram_size=ram_buffer_size,
                       ram_align=ram_align)
    out = {"kf_source": source, "files": [s.to_json() for s in sized], "plan": plan}
    emit(out, as_json, _render_size)
