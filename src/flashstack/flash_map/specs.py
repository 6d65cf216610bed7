"""Declarative descriptions of flash devices and partitions, before any image exists.

A devicetree, a board TOML or code yields :class:`DeviceSpec` and :class:`PartitionSpec`
lists; :func:`build_flash_map` turns them, with live devices, into a :class:`FlashMap`.
``flashstack.board`` re-exports both classes (docs/board API). Offsets are bytes from the
start of the device; ``address`` is absolute (memory-mapped) or None.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping

from ..device import FlashDevice, PageLayout
from ..errors import InvalidArgument, NotFound
from .area import FlashArea, FlashMap, nested


class PartitionWarning(UserWarning):
    """A partition that is legal but suspicious: not aligned to erase pages, overlapping."""


@dataclass(frozen=True)
class DeviceSpec:
    """A flash device: ``name``, ``size`` bytes, ``layout`` runs of ``(count, page bytes)``,
    ``write_block_size``, ``erase_value``, ``program_page_size``, ``base_address`` (absolute
    address of byte 0 when memory-mapped, else None), ``chip`` key (timing, rated cycles),
    ``node`` (devicetree path of the MTD device node, if any), ``layout_source`` (where the
    erase layout came from, e.g. ``"devicetree erase-block-size"``; None when not recorded),
    ``layout_known`` (False: the erase layout is unknown and ``layout`` is one page spanning
    the device, enough to read and to show partitions, not to plan erases)."""

    name: str
    size: int
    layout: tuple = ()
    write_block_size: int = 1
    erase_value: int = 0xFF
    program_page_size: int = 256
    base_address: int | None = None
    chip: str | None = None
    node: str | None = None
    layout_source: str | None = field(default=None, compare=False)
    layout_known: bool = True

    def __post_init__(self):
        layout = tuple((int(c), int(s)) for c, s in self.layout)
        object.__setattr__(self, "layout", layout)
        total = sum(c * s for c, s in layout)
        if not layout or total != self.size:
            raise InvalidArgument(f"device {self.name}: layout {layout} covers {total:#x} bytes, "
                                  f"size is {self.size:#x}")
        try:  # EINVAL for page sizes that are not write-block multiples (DEV-4)
            PageLayout(layout, self.write_block_size)
        except InvalidArgument as e:
            raise InvalidArgument(f"device {self.name}: {e.strerror}") from None

    @property
    def page_layout(self) -> PageLayout:
        """The :class:`PageLayout` of ``layout`` (device-relative page offsets)."""
        return PageLayout(self.layout, self.write_block_size)

    def create(self, backing=None, *, readonly: bool = False, create: bool = True, **sim_kwargs):
        """A :class:`~flashstack.device.SimulatedFlash` with this geometry (in memory when
        ``backing`` is None, else the image file ``backing``). ``sim_kwargs`` override."""
        from ..device import SimulatedFlash

        kw = dict(layout=self.layout, write_block_size=self.write_block_size,
                  erase_value=self.erase_value, program_page_size=self.program_page_size,
                  name=self.name, backing=backing, readonly=readonly, create=create)
        if self.chip is not None:
            kw["chip"] = self.chip
        kw.update(sim_kwargs)
        return SimulatedFlash(**kw)

    def to_json(self) -> dict:
        """Every field as JSON data (``layout`` as lists)."""
        return {"name": self.name, "size": self.size, "layout": [list(r) for r in self.layout],
                "write_block_size": self.write_block_size, "erase_value": self.erase_value,
                "program_page_size": self.program_page_size, "base_address": self.base_address,
                "chip": self.chip, "node": self.node, "layout_source": self.layout_source,
                "layout_known": self.layout_known}


@dataclass(frozen=True)
class PartitionSpec:
    """A partition: Zephyr ``id`` (None for sub-partitions), ``label`` (the ``label``
    property), ``node_labels`` (first is primary), ``offset``/``size`` in bytes from the
    device start, ``read_only``, ``device`` (device name), ``address`` (absolute or None),
    ``path`` (devicetree node), ``device_node``/``memory_node`` (devicetree MTD device and the
    partitions node's parent)."""

    id: int | None
    label: str | None
    node_labels: tuple = ()
    offset: int = 0
    size: int = 0
    read_only: bool = False
    device: str | None = None
    address: int | None = None
    path: str | None = None
    device_node: str | None = None
    memory_node: str | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def node_label(self) -> str | None:
        """The first devicetree node label, or None."""
        return self.node_labels[0] if self.node_labels else None

    @property
    def name(self) -> str:
        """Node label, else label property, else ``id N`` (as ``FlashArea.name``)."""
        return self.node_label or self.label or f"id {self.id}"

    @property
    def end(self) -> int:
        """Device offset one past the partition (``offset + size``)."""
        return self.offset + self.size

    def to_json(self) -> dict:
        """The keys of the shared board tables (``boards/*.json``) plus ``device``, ``address``."""
        return {"id": self.id, "node": self.path, "node_label": self.node_label,
                "node_labels": list(self.node_labels), "label_property": self.label,
                "offset": self.offset, "size": self.size, "read_only": self.read_only,
                "device_node": self.device_node, "memory_node": self.memory_node,
                "device": self.device, "address": self.address}


def _where(p: PartitionSpec) -> str:
    src = f"{p.source}: " if p.source else ""
    node = f" (node {p.path})" if p.path else ""
    return f"{src}partition {p.name}{node}"


def in_id_order(partitions) -> list:
    """``partitions`` sorted by Zephyr ID, then those without an ID in their given order."""
    with_id = sorted((p for p in partitions if p.id is not None), key=lambda p: p.id)
    return with_id + [p for p in partitions if p.id is None]


def check_partitions(partitions, devices: Mapping[str, DeviceSpec]) -> None:
    """Validate partitions against device geometry.

    Errors: NotFound (ENOENT) for an unknown device name; InvalidArgument (EINVAL) for a
    partition past its device's end or with a negative offset/size. Warnings (:class:`PartitionWarning`)
    for a partition that does not start and end on erase-page boundaries, and for
    overlapping partitions that are not nested (a sub-partition inside its parent is fine).
    Messages name the source file and the node.
    """
    for p in partitions:
        d = devices.get(p.device)
        if d is None:
            raise NotFound(f"{_where(p)}: unknown device {p.device!r} (devices: {', '.join(devices)})")
        if p.offset < 0 or p.size < 0 or p.end > d.size:
            raise InvalidArgument(f"{_where(p)}: {p.offset:#x}+{p.size:#x} lies past the end of "
                                  f"device {d.name} ({d.size:#x} bytes)")
        lay = d.page_layout
        if d.layout_known and not (lay.is_boundary(p.offset) and lay.is_boundary(p.end)):
            warnings.warn(f"{_where(p)}: {p.offset:#x}+{p.size:#x} is not aligned to the erase "
                          f"pages of {d.name}", PartitionWarning, stacklevel=3)
    ps = list(partitions)
    for i, a in enumerate(ps):
        for b in ps[i + 1:]:
            if a.device == b.device and a.offset < b.end and b.offset < a.end and not nested(a, b):
                warnings.warn(f"{_where(a)} and {_where(b)} overlap on device {a.device}",
                              PartitionWarning, stacklevel=3)


def build_flash_map(partitions, devices: Mapping[str, FlashDevice], *, enforce_read_only=True,
                    chosen: Mapping[str, str] | None = None, disabled=(), source=None) -> FlashMap:
    """A :class:`FlashMap` over live ``devices`` (name -> device) in the order of
    ``partitions``. ``chosen`` maps ``zephyr,*`` names to a partition path or device name;
    ``disabled`` are partitions known by ID but not in the map (FM-17, FM-24)."""
    areas = []
    by_path = {}
    for p in partitions:
        dev = devices.get(p.device)
        if dev is None:
            raise NotFound(f"{_where(p)}: no open device {p.device!r}")
        fa = FlashArea(p.id, p.offset, p.size, dev, label=p.label, node_labels=tuple(p.node_labels),
                       read_only=p.read_only, address=p.address, path=p.path)
        areas.append(fa)
        if p.path:
            by_path[p.path] = len(areas) - 1
    with warnings.catch_warnings():
        # Overlaps were reported (with file and node) by check_partitions.
        warnings.simplefilter("ignore")
        m = FlashMap(areas, enforce_read_only=enforce_read_only, source=source,
                     disabled=[(tuple(p.node_labels), p.id, p.label) for p in disabled])
    for name, target in (chosen or {}).items():
        if target in by_path:
            m.chosen[name] = m.areas[by_path[target]]
        elif target in devices:
            m.chosen[name] = devices[target]
    return m
