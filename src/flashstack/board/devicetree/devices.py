"""Flash devices of a devicetree: name and geometry of each memory node that holds partitions.

Geometry sources, first that applies (FM-21, BL-1..BL-3): the board's explicit settings
(``layout``, ``erase_page_size``, ``chip``); a chip found by ``jedec-id`` (external NOR); the
``soc-nv-flash`` node's ``erase-block-size``; the built-in SoC table
(:mod:`flashstack.board.soc_layouts`) by controller or memory compatible and size. When none
applies the device is still made, with ``layout_known=False`` (partition tables need no erase
layout, BL-3). Erase value from a ``zephyr,sim-flash`` controller (FM-22); base address
(FM-23).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ...errors import InvalidArgument, NotFound
from ...flash_map.specs import DeviceSpec
from .. import soc_layouts
from .dtree import DtNode

_NAME_OK = re.compile(r"[^A-Za-z0-9_.-]")
#: Most erase pages one device may have (DT-5): the page table is one entry per page.
MAX_PAGES = 1 << 20


def reg0(node: DtNode) -> tuple:
    """The first ``(address, size)`` pair of ``reg`` (raw, parent's cells), or (None, None)."""
    regs = node.reg()
    return regs[0] if regs else (None, None)


def device_name(device: DtNode, memory: DtNode, taken: set) -> str:
    """Memory node label, else controller label, else the node name; made unique."""
    if memory is not device and memory.labels:
        base = memory.labels[0]
    elif device.labels:
        base = device.labels[0]
    else:
        base = _NAME_OK.sub("_", (memory if memory is not device else device).name) or "flash"
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    return name


def _settings_for(settings: Mapping, device: DtNode, memory: DtNode, default_name: str) -> dict:
    for key in (memory.path, device.path, default_name, *memory.labels, *device.labels):
        if key in settings:
            return dict(settings[key])
    return {}


def device_spec(device: DtNode, memory: DtNode, settings: Mapping, src: str, taken: set,
                base_address: int | None) -> DeviceSpec:
    """FM-21..FM-23, BL-1..BL-3: the :class:`DeviceSpec` of ``memory`` under controller
    ``device``. ``base_address``: the memory's absolute address (None: not memory-mapped).
    Errors: InvalidArgument (EINVAL) for sizes that disagree; NotFound (ENOENT) for an
    unknown chip. Messages name ``src`` and the node."""
    default_name = device_name(device, memory, taken)
    s = _settings_for(settings, device, memory, default_name)
    name = s.pop("name", default_name)
    where = f"{src}: flash node {memory.path}"
    nv = "soc-nv-flash" in memory.compats
    dt_size = reg0(memory)[1] if nv else _bits_to_bytes(memory.num("size"))
    chip = _chip(s, memory, nv, where)
    layout, source, wbs = _layout(s, memory, device, nv, dt_size, chip, where)
    known = layout is not None
    if layout is None:
        if dt_size is None:
            raise InvalidArgument(f"{where}: no size (no reg size or 'size' property) and no "
                                  "layout; give the chip or --layout")
        layout, source = ((1, dt_size),), "unknown"
    size = sum(c * p for c, p in layout)
    pages = sum(c for c, _ in layout)
    if pages > MAX_PAGES:
        raise InvalidArgument(f"{where}: {pages} erase pages ({source}); flashstack models at "
                              f"most {MAX_PAGES} pages per device (DT-5)")
    if dt_size is not None and dt_size != size:
        raise InvalidArgument(f"{where}: devicetree size {dt_size:#x} differs from the "
                              f"{source} size {size:#x}")
    sim_erase = device.num("erase-value") if "zephyr,sim-flash" in device.compats else None
    erase_value = 0xFF if sim_erase is None else sim_erase
    return DeviceSpec(
        name=name, size=size, layout=layout,
        write_block_size=s.get("write_block_size", wbs or 1),
        erase_value=s.get("erase_value", erase_value),
        program_page_size=s.get("program_page_size", chip.program_page_size if chip else 256),
        base_address=s.get("base_address", base_address),
        chip=chip.key if chip else None, node=device.path, layout_source=source,
        layout_known=known)


def _bits_to_bytes(bits: int | None) -> int | None:
    return None if bits is None else bits // 8  # jedec,spi-nor 'size' is in bits


def _chip(s: dict, memory: DtNode, nv: bool, where: str):
    if s.get("chip") is not None:
        return lookup_chip(s["chip"], where)
    if not nv and "jedec-id" in memory.props and not ("layout" in s or "erase_page_size" in s):
        return lookup_chip(memory.props["jedec-id"].value, where)
    return None


def _layout(s: dict, memory: DtNode, device: DtNode, nv: bool, dt_size: int | None, chip,
            where: str) -> tuple[Any, str, int | None]:
    """(layout or None, where it came from, write block size or None)."""
    wbs = memory.num("write-block-size") if nv else None
    ebs = memory.num("erase-block-size") if nv else None
    board = _board_layout(s, dt_size, chip, where)
    if board is not None:
        return board[0], board[1], wbs
    if chip is not None:
        size = chip.size
        if ebs and chip.layout != ((size // ebs, ebs),):
            raise InvalidArgument(f"{where}: erase-block-size {ebs} disagrees with the "
                                  f"chip {chip.key} pages {chip.layout}")
        return chip.layout, f"chip {chip.key}", wbs if wbs is not None else chip.write_block_size
    if ebs:
        if not dt_size or dt_size % ebs:
            raise InvalidArgument(f"{where}: reg size {dt_size} is not a multiple of "
                                  f"erase-block-size {ebs}")
        return ((dt_size // ebs, ebs),), "devicetree erase-block-size", wbs
    entry = soc_layouts.find([*device.compats, *memory.compats])
    if entry is not None and dt_size:
        layout = entry.layout_for(dt_size)
        if layout is not None:
            return layout, f"SoC table {entry.family} ({entry.driver})", \
                wbs if wbs is not None else entry.write_block_size
    return None, "unknown", wbs


def _board_layout(s: dict, dt_size: int | None, chip, where: str) -> tuple[Any, str] | None:
    """BL-1: the board's explicit ``layout`` or ``erase_page_size`` (with its source), or None."""
    if "layout" in s:
        return tuple(tuple(r) for r in s["layout"]), "board layout"
    if "erase_page_size" not in s:
        return None
    size = s.get("size", dt_size if dt_size is not None else (chip.size if chip else None))
    if size is None:
        raise InvalidArgument(f"{where}: size unknown; give 'size' with 'erase_page_size'")
    return ((size // s["erase_page_size"], s["erase_page_size"]),), "board erase_page_size"


def lookup_chip(key, where: str):
    """Built-in chip table, then the spiflash database (extra 'chips'); NotFound naming ``where``."""
    from ...device import chips
    try:
        return chips.lookup(key)
    except LookupError as e:
        shown = key.hex() if isinstance(key, (bytes, bytearray)) else key
        raise NotFound(f"{where}: chip {shown!r} not found: {e}") from None
