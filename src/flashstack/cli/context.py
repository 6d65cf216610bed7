"""Context of a store command: which store kind a partition holds, what the build record says
about it, and where each store parameter comes from (:func:`flashstack.stores.resolve`:
flags, then the build record, then the bytes, then defaults).

Writers call :func:`guard_writer` before their first flash operation: a partition that holds
another recognised kind (an MCUboot image, a littlefs, another store), or non-erased data no
kind recognises, is refused unless ``--force``; so is one the build record says holds another
kind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument, NotFound
from .common import fail

__all__ = ["BOARD_SOURCE", "EXIT_DAMAGE", "board_from_record", "detections", "guard_writer", "open_image", "params_line",
           "record_entry", "resolve_params", "view_of"]

#: exit status of a dump/inspect/verify that found damage or a difference from the build record
EXIT_DAMAGE = 3


def _record_for(image: str | os.PathLike | None) -> tuple[dict | None, str | None]:
    """The build record beside or named for ``image``: ``<dir>/build.json`` for a folder,
    ``<image>.json`` / ``<stem>.build.json`` / ``build.json`` beside a file."""
    if image is None:
        return None, None
    p = Path(image)
    cands = [p / "build.json"] if p.is_dir() else [
        p.with_name(p.name + ".json"), p.with_name(p.stem + ".build.json"), p.parent / "build.json"]
    for c in cands:
        if c.is_file():
            try:
                rec = json.loads(c.read_text())
            except (OSError, ValueError) as exc:
                raise InvalidArgument(f"build record {c}: not valid JSON ({exc})") from None
            if isinstance(rec, dict) and isinstance(rec.get("partitions"), list):
                return rec, str(c)
    return None, None


#: click ``ctx.meta`` key of where the board came from (listed first among the parameters)
BOARD_SOURCE = "flashstack.board_source"


def board_from_record(image, name: str | None, include: tuple, given: bool):
    """``(board spec, include dirs, check, source)`` for a command on ``image``: the build
    record's board (``board_spec``, its include dirs) unless ``--board`` was ``given``;
    ``check(board)`` (or None) raises InvalidArgument (EINVAL) when a given board contradicts
    the record; ``source`` is ``"build record PATH"`` when the record named the board, else
    None."""
    rec, path = _record_for(image)
    built = (rec or {}).get("board")
    if rec is None or not built:
        return name, include, None, None
    if not given:
        spec = rec.get("board_spec") or built
        return spec, include or tuple(rec.get("include_dirs") or ()), None, f"build record {path}"

    def check(board) -> None:
        if board.name != built:
            raise InvalidArgument(f"--board {name} contradicts the build record {path}: the images "
                                  f"were built for board {built}; drop --board or pass other images")
    return name, include, check, None


def record_entry(image, area) -> tuple[dict | None, str | None]:
    """``(content, record path)``: the build record's ``content`` entry of ``area`` (matched
    by label, node label or id), or ``(None, path-or-None)``."""
    rec, path = _record_for(image)
    if rec is None:
        return None, None
    where = (area.device.name, area.offset, area.size)
    names = {area.name, getattr(area, "label", None), *(getattr(area, "node_labels", None) or ())}
    for part in rec["partitions"]:   # the same bytes (a HAL view of a partition too), else the name
        if (part.get("device"), part.get("offset"), part.get("size")) == where:
            return part.get("content") or {"type": "erased"}, path
    for part in rec["partitions"]:
        if part.get("label") in names:
            return part.get("content") or {"type": "erased"}, path
    return None, path


def view_of(area, storage=None):
    """A :class:`flashstack.stores.PartitionView` of ``storage`` (default ``area``): its bytes
    and ``area``'s geometry. Reads only."""
    from ..stores import PartitionView
    storage = storage if storage is not None else area
    pages = {p.size for p in area.erase_pages()}
    return PartitionView(getattr(storage, "name", area.name), storage.read(0, storage.size), area,
                         erase_value=area.erased_val, erase_page=pages.pop() if len(pages) == 1 else None,
                         write_block=area.align, address=area.address)


def detections(view) -> list:
    """Every registered kind that recognises the bytes, most confident first."""
    from ..stores import detect_all
    return detect_all(view)


def guard_writer(kind_name: str | None, view, found: list, content: dict | None, force: bool,
                 command: str) -> None:
    """Refuse (exit 1, naming what is there) to write ``kind_name`` into a partition that holds
    something else, unless ``force``. ``found``: :func:`detections` of ``view``; ``content``:
    the build record's entry. ``kind_name`` None (raw writers): refuse any partition that is
    not erased."""
    if force:
        return
    from ..stores import find, lookup
    hint = f"; pass --force to overwrite it with {command}"
    if kind_name is None:   # a raw writer (flash, hal): anything but erased bytes is someone's
        if found and all(d.kind == "erased" for d in found):
            return
        if found:
            k = lookup(found[0].kind)
            fail(f"partition {view.name} holds {k.title} ({k.name}, detected from its bytes){hint}")
        fail(f"partition {view.name} holds data (not erased){hint}")
        return
    mine = lookup(kind_name)
    other = [d for d in found if d.kind not in (mine.name, "erased")]
    if other and not any(d.kind == mine.name for d in found):
        k = lookup(other[0].kind)
        fail(f"partition {view.name} holds {k.title} ({k.name}, detected from its bytes){hint}")
    if not found:
        fail(f"partition {view.name} holds data that is neither erased nor {mine.title}{hint}")
    rec_kind = find((content or {}).get("type") or "")
    if rec_kind is not None and rec_kind.name not in (mine.name, "erased"):
        fail(f"partition {view.name}: the build record says it holds {rec_kind.title} ({rec_kind.name}), "
             f"not {mine.title}{hint}")


def resolve_params(kind_name: str, names: list[str], flags: dict, content: dict | None,
                   record_path: str | None, found: list, defaults: dict, flag_names: dict | None = None):
    """:func:`flashstack.stores.resolve` for ``kind_name``: the record's ``config`` only when it
    describes this kind, the detection of this kind only."""
    from ..stores import find, resolve
    mine = find(kind_name)
    rec_kind = find((content or {}).get("type") or "")
    cfg = (content or {}).get("config") or {} if rec_kind is mine else {}
    det = next((d for d in found if d.kind == kind_name), None)
    res = resolve(names, flags=flags, record=cfg, detected=det, defaults=defaults, flag_names=flag_names,
                  record_name=f"build record {record_path}" if record_path else "build record")
    return _with_board(res)


def _with_board(res):
    """``res`` with the board and its source first (what :func:`common.load_board_from`
    recorded for this command), so a report says which board's partition table it read."""
    import click
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        res.board = ctx.meta.get(BOARD_SOURCE)
    return res


def params_line(resolved) -> Any:
    """One dim line ``parameters: name = value (source); ...`` (literal text)."""
    from rich.text import Text
    return Text("parameters: " + "; ".join(resolved.lines()), style="dim")


def emit_with_parameters(result: dict, resolved, as_json: bool, render) -> None:
    """``common.emit`` of ``result`` with the resolved parameters and their sources: a
    ``parameters`` field in JSON, a :func:`params_line` under the table view. ``resolved``
    None emits ``result`` unchanged."""
    from .common import console, emit
    if resolved is not None:
        result = {**result, "parameters": resolved.to_json()}

    def show(r):
        render(r)
        if resolved is not None:
            console.print(params_line(resolved))   # wraps at word boundaries
    emit(result, as_json, show)


# --- opening images: directory, device .bin, Intel HEX, partition image ------------------------
_HEX_SUFFIXES = (".hex", ".ihex", ".ihx")


def open_image(board, image, *, readonly: bool, create: bool = False, partition=None,
               partition_image: bool = False, **sim_kwargs):
    """The OpenBoard of ``board`` over ``image``:

    - None: in memory (erased);
    - a directory of ``<device>.bin`` or one device image: file-backed devices
      (:meth:`flashstack.board.Board.open`);
    - an Intel HEX file (``.hex``/``.ihex``/``.ihx``): devices in memory from the HEX data
      (gaps erased; device windows from the build record's ``base_address`` or the board);
      closing writes the bytes that changed back into the HEX file, every other record's
      data kept;
    - ``partition_image``: ``image`` holds exactly the bytes of ``partition``; the rest of
      the device reads erased; closing writes the partition back when it changed.

    ``readonly`` never writes a file. Errors: NotFound (ENOENT) for a missing image,
    InvalidArgument (EINVAL) for a file of the wrong size or HEX data outside every device."""
    from ..board.images import image_paths
    if image is None:
        return board.open(images=None, readonly=readonly, **sim_kwargs)
    path = os.fspath(image)
    if partition_image:
        return _open_partition_image(board, path, partition, readonly, sim_kwargs)
    if path.lower().endswith(_HEX_SUFFIXES):
        return _open_hex(board, path, readonly, sim_kwargs)
    return board.open(images=image_paths(board, image, must_exist=not create), readonly=readonly,
                      create=create, **sim_kwargs)


def _loaded(board, contents: dict[str, bytes], save, readonly: bool, sim_kwargs):
    from ..board.model import OpenBoard

    class LoadedImage(OpenBoard):
        """Devices in memory, loaded from a file; ``close`` saves the changed devices."""

        def close(self) -> None:
            if self.devices and not getattr(self, "_saved", False):
                self._saved = True
                now = {n: self.devices[n].snapshot() for n in contents}
                changed = {n: b for n, b in now.items() if b != contents[n]}
                if changed and not readonly:
                    save(changed)
            super().close()

    ob = board.open(images=None, readonly=False, **sim_kwargs)
    for name, data in contents.items():
        ob.devices[name].restore(data)
    return LoadedImage(ob.board, ob.devices, ob.flash_map)


def _open_hex(board, path: str, readonly: bool, sim_kwargs):
    from ..inspect.job import load_images
    rec, _ = _record_for(path)
    bases = {d["name"]: d.get("base_address") for d in (rec or {}).get("devices", [])
             if d.get("base_address") is not None}
    if not os.path.isfile(path):
        raise NotFound(f"image {path!r} not found")
    images, _notes = load_images(board, [path], bases)
    base = {d.name: bases.get(d.name, d.base_address) for d in board.devices}
    original = dict(images)

    def save(changed: dict[str, bytes]) -> None:
        write_hex_changes(path, {base[n]: (original[n], new) for n, new in changed.items()})
    return _loaded(board, original, save, readonly, sim_kwargs)


def write_hex_changes(path: str, changes: dict[int, tuple[bytes, bytes]]) -> None:
    """Rewrite the Intel HEX file ``path`` with the bytes that differ between ``old`` and
    ``new`` of each ``{base address: (old, new)}``; every other byte of the file's data is
    kept as it was. Atomic (a temporary file replaces the original)."""
    import intelhex
    ih = intelhex.IntelHex()
    ih.loadhex(path)
    for base, (old, new) in changes.items():
        for start, end in _diff_runs(old, new):
            ih.puts(base + start, new[start:end])
    tmp = path + ".tmp"
    ih.write_hex_file(tmp)
    os.replace(tmp, path)


def _diff_runs(old: bytes, new: bytes, chunk: int = 4096):
    """``(start, end)`` runs of bytes where ``new`` differs from ``old`` (same length)."""
    start = end = None
    for c in range(0, len(new), chunk):
        if old[c:c + chunk] == new[c:c + chunk]:
            continue
        for i in range(c, min(c + chunk, len(new))):
            if old[i] == new[i]:
                continue
            if end != i:
                if start is not None:
                    yield start, end
                start = i
            end = i + 1
    if start is not None:
        yield start, end


def _open_partition_image(board, path: str, partition, readonly: bool, sim_kwargs):
    if partition is None:
        raise InvalidArgument("--partition-image needs -p/--partition (which partition the file holds)")
    if not os.path.isfile(path):
        raise NotFound(f"partition image {path!r} not found")
    spec = board.partition(int(partition) if str(partition).isdigit() else partition)
    raw = Path(path).read_bytes()
    if len(raw) != spec.size:
        raise InvalidArgument(f"{path}: {len(raw)} bytes, but partition {spec.name} of board {board.name} "
                              f"is {spec.size} bytes; --partition-image needs a partition-sized file")
    dev = board.device(spec.device)
    data = bytearray([dev.erase_value]) * dev.size
    data[spec.offset:spec.offset + spec.size] = raw

    def save(changed: dict[str, bytes]) -> None:
        new = changed[spec.device][spec.offset:spec.offset + spec.size]
        tmp = path + ".tmp"
        Path(tmp).write_bytes(new)
        os.replace(tmp, path)
    return _loaded(board, {spec.device: bytes(data)}, save, readonly, sim_kwargs)


# --- one grammar: -p/--partition, and the old positional PARTITION ----------------------------
def partition_args(*names: str, optional: int = 0, types: dict | None = None, default: str | None = None):
    """Decorator: ``-p/--partition P`` and the positional ``names`` (the last ``optional`` of
    them may be left out; ``types`` converts some, e.g. ``{"offset": parse_int}``). The old
    spelling ``PARTITION NAMES...`` still works, with a deprecation note on stderr: a leading
    extra argument, or one that does not convert to the first name's type, is the partition.
    Without either, ``default`` (None: a usage error). The command receives ``partition`` and
    each name as keyword arguments."""
    import functools

    import click

    types = types or {}
    shown = " ".join(n.upper() if i < len(names) - optional else f"[{n.upper()}]"
                     for i, n in enumerate(names))

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*a, args=(), partition=None, **kw):
            part, values = _split(list(args), names, optional, types, partition, default)
            kw.update(values)
            return fn(*a, partition=part, **kw)
        wrapper = click.argument("args", nargs=-1, metavar=shown or None)(wrapper)
        return click.option("--partition", "-p", "partition", default=None, metavar="P",
                            help="Partition: node label, label property or id"
                                 + (f" [default: {default}]." if default else "."))(wrapper)
    return deco


def _split(args: list, names, optional: int, types: dict, partition, default):
    import click

    from .common import err_console

    def converts(text) -> bool:
        conv = types.get(names[0]) if names else None
        if conv is None:
            return True
        try:
            conv(text)
        except (ValueError, InvalidArgument):
            return False
        return True
    if partition is None and args and (len(args) > len(names) or not converts(args[0])):
        partition = args.pop(0)
        err_console.print(f"note: the positional PARTITION is deprecated; write -p {partition}",
                          markup=False, highlight=False, soft_wrap=True)
    if partition is None:
        partition = default
    if partition is None:
        raise click.UsageError("give the partition with -p/--partition P")
    if not len(names) - optional <= len(args) <= len(names):
        want = f"{len(names) - optional}..{len(names)}" if optional else str(len(names))
        raise click.UsageError(f"expected {want} argument(s) ({' '.join(n.upper() for n in names) or 'none'}) "
                               f"after the options, got {len(args)}: {' '.join(map(str, args))}")
    values: dict[str, Any] = {n: None for n in names}
    for n, text in zip(names, args):
        conv = types.get(n)
        try:
            values[n] = conv(text) if conv else text
        except (ValueError, InvalidArgument) as exc:
            raise click.BadParameter(str(exc), param_hint=n.upper()) from None
    return partition, values
