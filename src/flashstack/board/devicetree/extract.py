"""The flash map from a devicetree: Zephyr's default map (docs/flash-map.md §8.1–§8.5, §9).

Input (FM-26): a DTB (by its magic), a preprocessed DTS (Zephyr's ``build/zephyr/zephyr.dts``)
or a raw DTS that is run through the C preprocessor first (include directories given, or
``#include``/``#define``/``#if`` lines present). See :mod:`.preprocess`, :mod:`.dts`,
:mod:`.dtb`.

Extraction (model: zephyr subsys/storage/flash_map/flash_map_default.c, include/zephyr/
storage/flash_map.h ``DT_MTD_FROM_FIXED_PARTITION``, include/zephyr/devicetree/
mapped-partition.h, dts/bindings/mtd/*.yaml):

* candidates, in map order: every ``zephyr,mapped-partition`` node at any depth (pre-order,
  MP-1), then children of ``fixed-partitions`` and ``fixed-subpartitions`` nodes
  (partitions nodes in pre-order, children in file order, FM-25);
* fixed: an entry needs its partitions node(s), itself and its MTD device okay (FM-17);
  ``offset``/``size`` from the first ``reg`` pair, translated through ``fixed-subpartitions``
  ``ranges`` (FM-18); MTD device: the partitions node's parent when it is not
  ``soc-nv-flash``, else that node's parent (FM-20); address = base + offset (FM-23);
* mapped: memory node = nearest ancestor that is neither a mapped partition nor a
  compatible-less grouping node (MP-2); address = ``reg`` translated through every
  ``ranges``, offset = address - the memory's translated address, device = the memory's
  parent (MP-3); in the map when the partition and the controller are okay (MP-5);
* others go to ``disabled`` (still numbered); IDs by Zephyr's dependency-ordinal rule, one
  counter for both kinds (:mod:`._ordinal`, FM-19, MP-4); geometry in :mod:`.devices`;
  ``/chosen`` ``zephyr,*`` entries (FM-29).

``device_settings`` (a board's explicit device settings) maps a device name, device node path
or memory node path to a dict of: ``name``, ``chip``, ``layout``, ``erase_page_size``, ``size``,
``write_block_size``, ``erase_value``, ``program_page_size``, ``base_address``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...errors import InvalidArgument
from ...flash_map.specs import (DeviceSpec, PartitionSpec, build_flash_map, check_partitions,
                                in_id_order)
from .devices import device_spec, reg0
from .dtb import is_dtb, read_dtb
from .dtree import DtNode, DtTree
from ._ordinal import MAPPED, is_mapped_partition, partition_ids, translate

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


@dataclass
class _Candidate:
    """One partition node before devices are resolved. ``address``: the translated ``reg``
    address for a mapped partition (MP-3), None for a fixed one (base + offset, FM-23)."""

    node: DtNode
    memory: DtNode
    device: DtNode
    offset: int
    size: int
    enabled: bool
    address: int | None = None
    mapped: bool = False


def extract(tree: DtTree, device_settings: Mapping | None = None) -> DevicetreeInfo:
    """Extract a :class:`DevicetreeInfo` from a parsed tree (see module docstring)."""
    settings = dict(device_settings or {})
    src = tree.source
    ids = partition_ids(tree)
    info = DevicetreeInfo(source=src, tree=tree)
    cands = _mapped_candidates(tree, info) + _fixed_candidates(tree, info)
    dev_specs: dict[DtNode, DeviceSpec] = {}
    names: set = set()
    for c in cands:
        if c.enabled and c.memory not in dev_specs:
            base = _translated(c.memory, src) if c.mapped else _nv_base(c.memory)
            new = device_spec(c.device, c.memory, settings, src, names, base)
            names.add(new.name)
            dev_specs[c.memory] = new
    for c in cands:
        spec: DeviceSpec | None = dev_specs.get(c.memory) if c.enabled else None
        if c.mapped:
            address = c.address
        else:
            base = spec.base_address if spec is not None else _nv_base(c.memory)
            address = None if base is None else base + c.offset
        p = PartitionSpec(
            id=ids.get(c.node), label=_label(c.node), node_labels=tuple(c.node.labels),
            offset=c.offset, size=c.size, read_only="read-only" in c.node.props,
            device=spec.name if spec else None, address=address,
            path=c.node.path, device_node=c.device.path, memory_node=c.memory.path, source=src)
        (info.partitions if c.enabled else info.disabled).append(p)
    info.devices = list(dev_specs.values())
    check_partitions(info.partitions, {d.name: d for d in info.devices})
    _chosen(info, tree, dev_specs)
    return info


def _nv_base(memory: DtNode):
    return reg0(memory)[0] if "soc-nv-flash" in memory.compats else None


def _fixed_candidates(tree: DtTree, info: DevicetreeInfo) -> list[_Candidate]:
    """Children of ``fixed-partitions`` / ``fixed-subpartitions`` nodes, in map order (FM-25)."""
    src = tree.source
    out = []
    for parts in tree.nodes():
        if not _is_parts(parts):
            continue
        fp, chain = _fixed_partitions_of(parts)
        if fp is None:
            warnings.warn(f"{src}: node {parts.path}: fixed-subpartitions outside a "
                          "fixed-partitions node; ignored", UserWarning, stacklevel=3)
            continue
        memory = fp.parent
        device = memory.parent if "soc-nv-flash" in memory.compats and memory.parent else memory
        if parts is fp:
            _record_memory(info, memory, device, fp)
        for child in parts.children.values():
            off, size = _partition_range(child, src)
            enabled = child.okay and all(n.okay for n in chain) and device.okay
            out.append(_Candidate(child, memory, device, off, size, enabled))
    return out


def _mapped_candidates(tree: DtTree, info: DevicetreeInfo) -> list[_Candidate]:
    """Every ``zephyr,mapped-partition`` node at any depth, in pre-order (MP-1..MP-3, MP-5):
    offset = A(partition) - A(memory), address = A(partition), device = the memory's parent,
    in the map when the partition and the controller are okay. A memory node that is not
    ``soc-nv-flash`` gives no offset or device in Zephyr (MP-6): such a partition is listed
    as disabled, with a warning."""
    src = tree.source
    out = []
    for n in tree.nodes():
        if not is_mapped_partition(n):
            continue
        memory = _nvm_of(n, src)
        device = memory.parent if memory.parent is not None else memory
        _, size = _first_reg(n, src)
        address = _translated(n, src)
        offset = address - _translated(memory, src)
        if offset < 0:
            raise InvalidArgument(f"{src}: mapped partition {n.path}: address {address:#x} lies "
                                  f"below its memory node {memory.path} (missing 'ranges'?)")
        enabled = n.okay and device.okay
        if "soc-nv-flash" not in memory.compats:
            warnings.warn(f"{src}: mapped partition {n.path}: memory node {memory.path} is not "
                          "soc-nv-flash, so Zephyr gives it no offset or device; left out of "
                          "the flash map", UserWarning, stacklevel=3)
            enabled = False
        else:
            _record_memory(info, memory, device, None)
        out.append(_Candidate(n, memory, device, offset, size, enabled, address, mapped=True))
    return out


def _nvm_of(node: DtNode, src: str) -> DtNode:
    """MP-2: the nearest ancestor that is neither a mapped partition nor a compatible-less
    grouping node."""
    n = node.parent
    while n is not None and n.parent is not None and (MAPPED in n.compats or not n.compats):
        n = n.parent
    if n is None or n.parent is None:
        raise InvalidArgument(f"{src}: mapped partition {node.path} has no memory node above it")
    return n


def _first_reg(node: DtNode, src: str) -> tuple[int, int]:
    """FM-18, MP-3: the first ``reg`` pair of a partition node (more pairs: a warning)."""
    try:
        regs = node.reg()
    except InvalidArgument as e:
        raise InvalidArgument(f"{src}: {e.strerror}") from None
    if not regs:
        raise InvalidArgument(f"{src}: partition node {node.path} has no reg property")
    if len(regs) > 1:
        warnings.warn(f"{src}: partition node {node.path}: {len(regs)} reg pairs, only the first "
                      "is used", UserWarning, stacklevel=4)
    addr, size = regs[0]
    if size is None:
        raise InvalidArgument(f"{src}: partition node {node.path}: #size-cells is 0, no size")
    return addr, size


def _translated(node: DtNode, src: str) -> int:
    """``DT_REG_ADDR``: the first ``reg`` address translated through the ancestors' ``ranges``."""
    try:
        regs = node.reg()
        if not regs:
            raise InvalidArgument(f"node {node.path} has no reg property")
        return translate(regs[0][0], node)
    except InvalidArgument as e:
        raise InvalidArgument(f"{src}: {e.strerror}") from None


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


def _record_memory(info: DevicetreeInfo, memory: DtNode, device: DtNode,
                   fp: DtNode | None) -> None:
    """One ``flash_devices`` row per memory node; a mapped one (``fp`` None) also has its
    translated ``address`` and raw ``ranges`` cells."""
    if not any(d["node"] == memory.path for d in info.flash_devices):
        addr, size = reg0(memory)
        row: dict[str, Any] = {"node": memory.path, "compatible": memory.compats,
               "reg": None if "reg" not in memory.props else [addr, size]}
        if fp is None:
            ranges = memory.props.get("ranges")
            row["address"] = None if addr is None else translate(addr, memory)
            row["ranges"] = None if ranges is None else ranges.cells()
        row["erase_block_size"] = memory.num("erase-block-size")
        row["write_block_size"] = memory.num("write-block-size")
        info.flash_devices.append(row)
    for n in (fp, memory, device):
        if n is not None:
            info.node_status[n.path] = _status(n)


def _label(node: DtNode) -> str | None:
    p = node.props.get("label")
    return p.string() if p is not None else None


def _partition_range(child: DtNode, src: str) -> tuple[int, int]:
    """FM-18: first ``reg`` pair; translated through ``fixed-subpartitions`` ``ranges``."""
    off, size = _first_reg(child, src)
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


def _chosen(info: DevicetreeInfo, tree: DtTree, dev_specs: dict) -> None:
    chosen = tree.chosen
    if chosen is None:
        return
    by_part = {p.path: p for p in info.partitions}
    by_node = {}
    for memory, spec in dev_specs.items():  # memory node and (first memory's) controller
        by_node[memory.path] = spec.name
        by_node.setdefault(spec.node, spec.name)
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
