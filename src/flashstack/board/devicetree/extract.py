"""The flash map from a devicetree: Zephyr's default map (spec/flash-map.md §8.1–§8.5, §9).

Input (FM-26): a DTB (by its magic), a preprocessed DTS (Zephyr's ``build/zephyr/zephyr.dts``)
or a raw DTS that is run through the C preprocessor first (include directories given, or
``#include``/``#define``/``#if`` lines present). See :mod:`.preprocess`, :mod:`.dts`,
:mod:`.dtb`.

Extraction (model: zephyr subsys/storage/flash_map/flash_map_default.c, include/zephyr/
storage/flash_map.h ``DT_MTD_FROM_FIXED_PARTITION``, dts/bindings/mtd/*.yaml):

* candidates: children of ``fixed-partitions`` nodes and of ``fixed-subpartitions`` nodes,
  listed in map order (partitions nodes in pre-order, children in file order, FM-25);
* an entry needs its partitions node(s), itself and its MTD device okay (FM-17); others go to
  ``disabled`` (still numbered, FM-19);
* ``offset``/``size``: first ``reg`` pair, translated through ``fixed-subpartitions`` ``ranges``
  (FM-18); IDs by Zephyr's dependency-ordinal rule (:mod:`.ordinal`);
* MTD device: the partitions node's parent when it is not ``soc-nv-flash``, else that node's
  parent (the controller) (FM-20); geometry from settings, the ``soc-nv-flash`` node, or a chip
  found by ``jedec-id`` (FM-21); erase value from a ``zephyr,sim-flash`` controller (FM-22);
  absolute addresses (FM-23); ``/chosen`` ``zephyr,*`` entries (FM-29).

``device_settings`` (a board's explicit device settings) maps a device name, device node path
or memory node path to a dict of: ``name``, ``chip``, ``layout``, ``erase_page_size``, ``size``,
``write_block_size``, ``erase_value``, ``program_page_size``, ``base_address``.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Mapping

from ...errors import InvalidArgument, NotFound
from ...flash_map.specs import (
    DeviceSpec,
    PartitionSpec,
    build_flash_map,
    check_partitions,
    in_id_order,
)
from .dtb import is_dtb, read_dtb
from .dtree import DtNode, DtTree
from .ordinal import partition_ids

__all__ = ["DevicetreeInfo", "read_tree", "extract", "load_devicetree", "flash_map_from_devicetree"]


@dataclass
class DevicetreeInfo:
    """What a devicetree says about flash.

    ``devices``: enabled MTD devices holding partitions; ``partitions``: map entries in map
    order; ``disabled``: candidates dropped by status (``device`` None); ``flash_devices``,
    ``chosen``, ``node_status``: the shared board-table keys (``boards/*.json``);
    ``chosen_flash``: ``zephyr,*`` name -> partition path or device name.
    """

    source: str
    tree: DtTree
    devices: list = field(default_factory=list)
    partitions: list = field(default_factory=list)
    disabled: list = field(default_factory=list)
    flash_devices: list = field(default_factory=list)
    chosen: dict = field(default_factory=dict)
    chosen_flash: dict = field(default_factory=dict)
    node_status: dict = field(default_factory=dict)

    def numbered(self) -> list:
        """Every partition in ID order (disabled ones included), then those without an ID."""
        return in_id_order(self.partitions + self.disabled)

    def flash_map(self, devices: Mapping, *, enforce_read_only: bool = True):
        """A :class:`FlashMap` over live ``devices`` (device name -> FlashDevice)."""
        return build_flash_map(self.partitions, devices, enforce_read_only=enforce_read_only,
                               chosen=self.chosen_flash, disabled=self.disabled, source=self.source)


def read_tree(path, include_dirs=(), *, preprocess_tool: str | None = None) -> DtTree:
    """Read a DTB, preprocessed DTS or raw DTS (FM-26) into a :class:`DtTree`."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if is_dtb(head):
        return read_dtb(path)
    from .dts import read_dts  # needs the 'dts' extra
    return read_dts(path, include_dirs, preprocess_tool=preprocess_tool)


def load_devicetree(path, include_dirs=(), *, device_settings: Mapping | None = None,
                    preprocess_tool: str | None = None) -> DevicetreeInfo:
    """Read ``path`` and extract its flash devices and partitions (see module docstring).

    Errors (messages name the file and node): InvalidArgument (EINVAL) for malformed input
    (with ``file:line`` for DTS), a partition past its device's end, or a device whose geometry
    cannot be told; NotFound (ENOENT) for an unknown chip. Warnings for partitions not aligned
    to erase pages and for overlaps.
    """
    return extract(read_tree(path, include_dirs, preprocess_tool=preprocess_tool), device_settings)


def flash_map_from_devicetree(path, include_dirs=(), *, device_settings=None,
                              enforce_read_only: bool = True):
    """Convenience: the :class:`FlashMap` of a devicetree over in-memory simulated devices."""
    info = load_devicetree(path, include_dirs, device_settings=device_settings)
    devices = {d.name: d.create() for d in info.devices}
    return info.flash_map(devices, enforce_read_only=enforce_read_only)


# --- extraction ------------------------------------------------------------------------------

def _is_parts(n: DtNode) -> bool:
    c = n.compats
    return "fixed-partitions" in c or "fixed-subpartitions" in c


def _status(n: DtNode) -> str:
    return n.status or "okay(default)"


def extract(tree: DtTree, device_settings: Mapping | None = None) -> DevicetreeInfo:
    """Extract a :class:`DevicetreeInfo` from a parsed tree (see module docstring)."""
    settings = dict(device_settings or {})
    src = tree.source
    ids = partition_ids(tree)
    info = DevicetreeInfo(source=src, tree=tree)
    raw = []  # (partition node, memory node, MTD device node, offset, size, enabled)
    for parts in tree.nodes():
        if not _is_parts(parts):
            continue
        fp, chain = _fixed_partitions_of(parts)
        if fp is None:
            warnings.warn(f"{src}: node {parts.path}: fixed-subpartitions outside a "
                          "fixed-partitions node; ignored", UserWarning, stacklevel=2)
            continue
        memory = fp.parent
        device = memory.parent if "soc-nv-flash" in memory.compats and memory.parent else memory
        if parts is fp:
            _record_memory(info, fp, memory, device)
        for child in parts.children.values():
            off, size = _partition_range(child, src)
            enabled = child.okay and all(n.okay for n in chain) and device.okay
            raw.append((child, memory, device, off, size, enabled))

    dev_specs: dict = {}   # device node -> DeviceSpec
    names: set = set()
    for _child, memory, device, _off, _size, enabled in raw:
        if enabled and device not in dev_specs:
            spec = _device_spec(device, memory, settings, src, names)
            names.add(spec.name)
            dev_specs[device] = spec
    for child, memory, device, off, size, enabled in raw:
        spec = dev_specs.get(device) if enabled else None
        if spec is not None:
            base = spec.base_address
        else:
            base = _reg0(memory)[0] if "soc-nv-flash" in memory.compats else None
        p = PartitionSpec(
            id=ids.get(child), label=_label(child), node_labels=tuple(child.labels),
            offset=off, size=size, read_only="read-only" in child.props,
            device=spec.name if spec else None,
            address=None if base is None else base + off,
            path=child.path, device_node=device.path, memory_node=memory.path, source=src)
        (info.partitions if enabled else info.disabled).append(p)
    info.devices = list(dev_specs.values())
    check_partitions(info.partitions, {d.name: d for d in info.devices})
    _chosen(info, tree, dev_specs)
    return info


def _fixed_partitions_of(parts: DtNode):
    """The ``fixed-partitions`` node above (or at) ``parts`` and the chain of partitions nodes
    from ``parts`` up to it (their status counts for FM-17)."""
    chain = [parts]
    n = parts
    while "fixed-partitions" not in n.compats:
        if "fixed-subpartitions" not in n.compats or n.parent is None:
            return None, chain
        n = n.parent
        chain.append(n)
    return (n, chain) if n.parent is not None else (None, chain)


def _record_memory(info: DevicetreeInfo, fp: DtNode, memory: DtNode, device: DtNode) -> None:
    if not any(d["node"] == memory.path for d in info.flash_devices):
        addr, size = _reg0(memory)
        info.flash_devices.append({
            "node": memory.path, "compatible": memory.compats,
            "reg": None if "reg" not in memory.props else [addr, size],
            "erase_block_size": memory.num("erase-block-size"),
            "write_block_size": memory.num("write-block-size")})
    for n in (fp, memory, device):
        info.node_status[n.path] = _status(n)


def _reg0(node: DtNode) -> tuple:
    regs = node.reg()
    return regs[0] if regs else (None, None)


def _label(node: DtNode) -> str | None:
    p = node.props.get("label")
    return p.string() if p is not None else None


def _partition_range(child: DtNode, src: str) -> tuple[int, int]:
    """FM-18: first ``reg`` pair; translated through ``fixed-subpartitions`` ``ranges``."""
    try:
        regs = child.reg()
    except InvalidArgument as e:
        raise InvalidArgument(f"{src}: {e.strerror}") from None
    if not regs:
        raise InvalidArgument(f"{src}: partition node {child.path} has no reg property")
    if len(regs) > 1:
        warnings.warn(f"{src}: partition node {child.path}: {len(regs)} reg pairs, only the first "
                      "is used", UserWarning, stacklevel=3)
    off, size = regs[0]
    if size is None:
        raise InvalidArgument(f"{src}: partition node {child.path}: #size-cells is 0, no size")
    n = child
    while n.parent is not None and "fixed-subpartitions" in n.parent.compats:
        off = _through_ranges(off, n.parent, src)
        n = n.parent
    return off, size


def _through_ranges(addr: int, sub: DtNode, src: str) -> int:
    try:
        entries = sub.ranges()
    except InvalidArgument as e:
        raise InvalidArgument(f"{src}: {e.strerror}") from None
    if not entries:
        return addr  # absent or empty ranges: identity (FM-18)
    for c, p, ln in entries:
        if c <= addr < c + ln:
            return p + addr - c
    raise InvalidArgument(f"{src}: node {sub.path}: child address {addr:#x} is outside its ranges")


# --- devices ---------------------------------------------------------------------------------

_NAME_OK = re.compile(r"[^A-Za-z0-9_.-]")


def _device_name(device: DtNode, memory: DtNode, taken: set) -> str:
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
    for key in (device.path, memory.path, default_name, *device.labels, *memory.labels):
        if key in settings:
            return dict(settings[key])
    return {}


def _device_spec(device: DtNode, memory: DtNode, settings: Mapping, src: str, taken: set) -> DeviceSpec:
    """FM-21..FM-23: geometry of one MTD device node."""
    default_name = _device_name(device, memory, taken)
    s = _settings_for(settings, device, memory, default_name)
    name = s.pop("name", default_name)
    where = f"{src}: flash node {memory.path}"
    nv = "soc-nv-flash" in memory.compats
    dt_size = _reg0(memory)[1] if nv else None
    wbs = memory.num("write-block-size") if nv else None
    chip = None
    if s.get("chip") is not None:
        chip = _lookup_chip(s["chip"], where)
    elif not nv and "jedec-id" in memory.props and not ("layout" in s or "erase_page_size" in s):
        chip = _lookup_chip(memory.props["jedec-id"].value, where)
    if not nv:
        bits = memory.num("size")
        if bits is not None:
            dt_size = bits // 8  # jedec,spi-nor 'size' is in bits
    if "layout" in s:
        layout = tuple(tuple(r) for r in s["layout"])
    elif "erase_page_size" in s:
        size = s.get("size", dt_size if dt_size is not None else (chip.size if chip else None))
        if size is None:
            raise InvalidArgument(f"{where}: size unknown; give 'size' with 'erase_page_size'")
        layout = ((size // s["erase_page_size"], s["erase_page_size"]),)
    elif chip is not None:
        layout = chip.layout
    elif nv and memory.num("erase-block-size"):
        ebs = memory.num("erase-block-size")
        if not dt_size or dt_size % ebs:
            raise InvalidArgument(f"{where}: reg size {dt_size} is not a multiple of "
                                  f"erase-block-size {ebs}")
        layout = ((dt_size // ebs, ebs),)
    else:
        what = "has no erase-block-size" if nv else "has no jedec-id"
        raise InvalidArgument(f"{where} {what} (compatible {', '.join(memory.compats) or 'none'}); "
                              "the board must give its chip or layout (flashstack does not guess)")
    size = sum(c * p for c, p in layout)
    ebs = memory.num("erase-block-size") if nv else None
    if ebs and "layout" not in s and "erase_page_size" not in s and layout != ((size // ebs, ebs),):
        raise InvalidArgument(f"{where}: erase-block-size {ebs} disagrees with the "
                              f"{'chip ' + chip.key if chip else 'layout'} pages {layout}")
    if dt_size is not None and dt_size != size:
        raise InvalidArgument(f"{where}: devicetree size {dt_size:#x} differs from the "
                              f"{'chip ' + chip.key if chip else 'layout'} size {size:#x}")
    if chip is not None and wbs is None:
        wbs = chip.write_block_size
    erase_value = 0xFF
    if "zephyr,sim-flash" in device.compats and device.num("erase-value") is not None:
        erase_value = device.num("erase-value")
    base = _reg0(memory)[0] if nv else None
    return DeviceSpec(
        name=name, size=size, layout=layout,
        write_block_size=s.get("write_block_size", wbs or 1),
        erase_value=s.get("erase_value", erase_value),
        program_page_size=s.get("program_page_size", chip.program_page_size if chip else 256),
        base_address=s.get("base_address", base),
        chip=chip.key if chip else None, node=device.path)


def _lookup_chip(key, where: str):
    """Built-in chip table, then the spiflash database (extra 'chips'); NotFound naming ``where``."""
    from ...device import chips
    try:
        return chips.lookup(key)
    except LookupError as e:
        shown = key.hex() if isinstance(key, (bytes, bytearray)) else key
        raise NotFound(f"{where}: chip {shown!r} not found: {e}") from None


def _chosen(info: DevicetreeInfo, tree: DtTree, dev_specs: dict) -> None:
    chosen = tree.chosen
    if chosen is None:
        return
    by_part = {p.path: p for p in info.partitions}
    by_node = {}
    for dnode, spec in dev_specs.items():
        by_node[dnode.path] = spec.name
    for p in info.partitions:  # memory nodes of enabled devices
        by_node.setdefault(p.memory_node, p.device)
    for name, prop in chosen.props.items():
        target = prop.path_ref or (prop.refs[0] if prop.refs else None)
        if target is not None:
            info.chosen[name] = target.path
        else:
            try:
                info.chosen[name] = prop.string()
            except UnicodeDecodeError:
                info.chosen[name] = prop.value.hex()
        path = info.chosen[name]
        if not name.startswith("zephyr,"):
            continue
        if path in by_part:
            info.chosen_flash[name] = path
        elif path in by_node:
            info.chosen_flash[name] = by_node[path]
