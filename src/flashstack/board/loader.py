"""Loading boards: built-in names, board TOML files, devicetrees (DTS raw or preprocessed, DTB).

Board TOML format (read with :mod:`tomllib`; integers may be written in hex)::

    name = "my-board"                  # default: the file name without .toml
    description = "free text"
    devicetree = "board.dts"           # optional; relative to the TOML file (DTS or DTB)
    include_dirs = ["zephyr/dts"]      # optional; for a raw DTS, relative to the TOML file

    [[devices]]                        # a device; with a devicetree: settings for its device
    name = "flash0"                    #   (matched by name, node path or node label)
    node = "/soc/flash-controller@40023c00"   # devicetree only, optional
    size = 0x100000
    erase_page_size = 0x1000           # uniform pages, or:
    # layout = [[4, 0x4000], [1, 0x10000], [7, 0x20000]]   # runs of (count, bytes), or:
    # chip = "w25q128jv"               # a key/part/JEDEC id of flashstack.device.chips
    write_block_size = 1               # default 1 (or the chip's)
    erase_value = 0xff                 # 0xff or 0x00
    program_page_size = 256
    base_address = 0x0                 # absolute address of byte 0 when memory-mapped

    [[partitions]]                     # without a devicetree only; map order = file order
    name = "boot_partition"            # node label (or node_labels = ["a", "b"])
    label = "mcuboot"                  # label property, optional
    device = "flash0"                  # default: the first device
    offset = 0x0
    size = 0x10000
    read_only = true                   # default false
    id = 0                             # default: the position in the list

Any other top-level table (``[hal]`` for the AliOS HAL partition table, …) is kept unparsed in
``Board.extra``. Errors name the file and the entry: InvalidArgument (EINVAL), NotFound
(ENOENT).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tomllib
import warnings
from importlib import resources

from ..errors import InvalidArgument, NotFound
from ..flash_map import DeviceSpec, PartitionSpec, check_partitions
from .model import Board

DEFAULT_BOARD = "flashstack-demo"

#: Built-in boards: name -> file name under ``flashstack/data/boards``.
BUILTIN_BOARDS = {
    "flashstack-demo": "flashstack-demo.toml",
    "nrf52840dk_nrf52840": "nrf52840dk_nrf52840.toml",
    "nucleo_f429zi": "nucleo_f429zi.toml",
    "native_sim": "native_sim.dts",
    "qemu_x86": "qemu_x86.dts",
    "rpi_pico": "rpi_pico.dts",
}

_TOP_KEYS = {"name", "description", "devicetree", "include_dirs", "devices", "partitions"}
_DEVICE_KEYS = {"name", "node", "size", "erase_page_size", "layout", "chip", "write_block_size",
                "erase_value", "program_page_size", "base_address"}
_PARTITION_KEYS = {"name", "node_labels", "label", "device", "offset", "size", "read_only", "id"}


def builtin_path(name: str) -> str:
    """Filesystem path of a built-in board's file."""
    return str(resources.files("flashstack") / "data" / "boards" / BUILTIN_BOARDS[name])


def load_board(spec=None, include_dirs=(), *, device_settings=None) -> Board:
    """A :class:`Board` from ``spec``: None (the default board ``flashstack-demo``), a
    built-in name (:data:`BUILTIN_BOARDS`), a Board, or a path to a board TOML, a DTS (raw:
    pass ``include_dirs``) or a DTB. ``device_settings`` gives devicetree devices explicit
    settings (keys as in ``[[devices]]``), e.g. ``{"flash0": {"chip": "stm32f429xi"}}``.

    Errors: NotFound (ENOENT) for an unknown name/file; InvalidArgument (EINVAL) for invalid
    content (the message names the file and node/entry).
    """
    if spec is None:
        spec = DEFAULT_BOARD
    if isinstance(spec, Board):
        return spec
    spec = os.fspath(spec)
    if spec in BUILTIN_BOARDS:
        if include_dirs or device_settings:
            board = _load_path(builtin_path(spec), include_dirs, device_settings)
            board.name = spec
            return board
        if spec not in _BUILTIN_CACHE:  # package data does not change: parse once
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                board = _load_path(builtin_path(spec), (), None)
            board.name = spec
            _BUILTIN_CACHE[spec] = (board, [(w.message, w.category) for w in caught])
        board, caught = _BUILTIN_CACHE[spec]
        for message, category in caught:  # every load reports the board's warnings
            warnings.warn(message, category, stacklevel=2)
        return _copy(board)
    if not os.path.exists(spec):
        raise NotFound(f"board {spec!r}: neither a built-in board ({', '.join(BUILTIN_BOARDS)}) "
                       "nor an existing file")
    return _load_path(spec, include_dirs, device_settings)


_BUILTIN_CACHE: dict = {}


def _copy(board: Board) -> Board:
    """A copy that callers may modify (specs are frozen; lists and dicts are copied)."""
    return dataclasses.replace(
        board, devices=list(board.devices), partitions=list(board.partitions),
        disabled_partitions=list(board.disabled_partitions), chosen=dict(board.chosen),
        chosen_flash=dict(board.chosen_flash), extra=copy.deepcopy(board.extra),
        flash_devices=copy.deepcopy(board.flash_devices), node_status=copy.copy(board.node_status),
        hal_partitions=copy.copy(board.hal_partitions))


def _load_path(path: str, include_dirs, device_settings) -> Board:
    if path.endswith(".toml"):
        return load_board_toml(path, include_dirs)
    return board_from_devicetree(path, include_dirs, device_settings=device_settings)


def board_from_devicetree(path, include_dirs=(), *, device_settings=None, name=None,
                          description: str = "", extra=None) -> Board:
    """A board from a devicetree file (see :mod:`flashstack.board.devicetree`)."""
    from .devicetree import load_devicetree

    info = load_devicetree(path, include_dirs, device_settings=device_settings)
    stem = os.path.basename(os.fspath(path)).rsplit(".", 1)[0]
    return Board(name=name or stem, devices=info.devices, partitions=info.partitions,
                 disabled_partitions=info.disabled, chosen=info.chosen,
                 chosen_flash=info.chosen_flash, flash_devices=info.flash_devices,
                 node_status=info.node_status, description=description, source=info.source,
                 extra=dict(extra or {}))


def load_board_toml(path, include_dirs=()) -> Board:
    """A board from a board TOML file (format in the module docstring)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise InvalidArgument(f"{path}: invalid TOML: {e}") from None
    except FileNotFoundError:
        raise NotFound(f"board file {path} does not exist") from None
    base = os.path.dirname(os.path.abspath(path))
    name = data.get("name") or os.path.basename(path)[:-len(".toml")]
    extra = {k: v for k, v in data.items() if k not in _TOP_KEYS}
    devices = data.get("devices", [])
    for i, d in enumerate(devices):
        _check_keys(d, _DEVICE_KEYS, f"{path}: [[devices]] entry {i + 1}")
    if "devicetree" in data:
        if data.get("partitions"):
            raise InvalidArgument(f"{path}: [[partitions]] cannot be combined with a devicetree")
        dt = os.path.join(base, data["devicetree"])
        incs = [os.path.join(base, d) for d in data.get("include_dirs", [])] + list(include_dirs)
        settings = {}
        for d in devices:
            key = d.get("node") or d.get("name")
            if not key:
                raise InvalidArgument(f"{path}: a [[devices]] entry needs 'name' or 'node'")
            settings[key] = {k: v for k, v in d.items() if k != "node"}
        board = board_from_devicetree(dt, incs, device_settings=settings, name=name,
                                      description=data.get("description", ""), extra=extra)
        return board
    specs = [_device_from_table(d, path, i) for i, d in enumerate(devices)]
    if not specs:
        raise InvalidArgument(f"{path}: a board needs at least one [[devices]] entry or a devicetree")
    by_name = {d.name: d for d in specs}
    if len(by_name) != len(specs):
        raise InvalidArgument(f"{path}: device names are not unique")
    parts = [_partition_from_table(p, path, i, specs[0].name, by_name)
             for i, p in enumerate(data.get("partitions", []))]
    check_partitions(parts, by_name)
    return Board(name=name, devices=specs, partitions=parts, description=data.get("description", ""),
                 source=path, extra=extra)


def _check_keys(entry: dict, allowed: set, where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise InvalidArgument(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")


def _device_from_table(d: dict, path: str, i: int) -> DeviceSpec:
    where = f"{path}: [[devices]] entry {i + 1}"
    if "name" not in d:
        raise InvalidArgument(f"{where}: missing 'name'")
    where = f"{path}: device {d['name']}"
    chip = None
    if "chip" in d:
        from ..device import chips
        try:
            chip = chips.lookup(d["chip"])  # built-in table, then spiflash (extra 'chips')
        except LookupError as e:
            raise NotFound(f"{where}: unknown chip {d['chip']!r}: {e}") from None
    if "layout" in d:
        layout = tuple(tuple(r) for r in d["layout"])
    elif "erase_page_size" in d:
        size = d.get("size", chip.size if chip else None)
        if size is None:
            raise InvalidArgument(f"{where}: 'erase_page_size' needs 'size'")
        if size % d["erase_page_size"]:
            raise InvalidArgument(f"{where}: size {size:#x} is not a multiple of erase page "
                                  f"{d['erase_page_size']:#x}")
        layout = ((size // d["erase_page_size"], d["erase_page_size"]),)
    elif chip is not None:
        layout = chip.layout
    else:
        raise InvalidArgument(f"{where}: give 'erase_page_size' and 'size', 'layout' or 'chip'")
    size = sum(c * s for c, s in layout)
    if "size" in d and d["size"] != size:
        raise InvalidArgument(f"{where}: size {d['size']:#x} differs from the layout total {size:#x}")
    try:
        return DeviceSpec(
            name=d["name"], size=size, layout=layout,
            write_block_size=d.get("write_block_size", chip.write_block_size if chip else 1),
            erase_value=d.get("erase_value", chip.erase_value if chip else 0xFF),
            program_page_size=d.get("program_page_size", chip.program_page_size if chip else 256),
            base_address=d.get("base_address"), chip=chip.key if chip else None)
    except InvalidArgument as e:
        raise InvalidArgument(f"{where}: {e.strerror}") from None


def _partition_from_table(p: dict, path: str, i: int, default_device: str, devices) -> PartitionSpec:
    where = f"{path}: [[partitions]] entry {i + 1}"
    _check_keys(p, _PARTITION_KEYS, where)
    labels = tuple(p.get("node_labels", ())) or ((p["name"],) if "name" in p else ())
    if not labels and "label" not in p:
        raise InvalidArgument(f"{where}: give 'name' (node label) or 'label'")
    for key in ("offset", "size"):
        if key not in p:
            raise InvalidArgument(f"{where} ({labels[0] if labels else p['label']}): missing {key!r}")
    dev = p.get("device", default_device)
    base = devices[dev].base_address if dev in devices else None
    return PartitionSpec(id=p.get("id", i), label=p.get("label"), node_labels=labels,
                         offset=p["offset"], size=p["size"], read_only=bool(p.get("read_only", False)),
                         device=dev, address=None if base is None else base + p["offset"],
                         source=path)
