"""A board: flash devices plus a flash map, and the open form with live (simulated) devices.

``Board`` is a description (no image yet): ``devices`` (:class:`DeviceSpec`), ``partitions``
(:class:`PartitionSpec`, map order, enabled entries only), ``disabled_partitions`` (known to
the devicetree but dropped by status), ``chosen`` (``/chosen`` entries as paths or strings),
``extra`` (board TOML sections this module does not interpret, e.g. ``[hal]``).
``Board.open()`` gives an :class:`OpenBoard` with one ``SimulatedFlash`` per device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from ..errors import InvalidArgument, NotFound
from ..flash_map import DeviceSpec, FlashArea, FlashMap, PartitionSpec, build_flash_map
from ..flash_map.specs import in_id_order


@dataclass
class Board:
    """A board description. See the module docstring; geometry in bytes, offsets from the
    device start. ``source`` is the file it came from (None for built-in code)."""

    name: str
    devices: list = field(default_factory=list)
    partitions: list = field(default_factory=list)
    disabled_partitions: list = field(default_factory=list)
    hal_partitions: list | None = None
    chosen: dict = field(default_factory=dict)
    chosen_flash: dict = field(default_factory=dict)
    flash_devices: list | None = None
    node_status: dict | None = None
    description: str = ""
    source: str | None = None
    extra: dict = field(default_factory=dict)

    def device(self, name: str) -> DeviceSpec:
        """The device spec named ``name``; NotFound (ENOENT) otherwise."""
        for d in self.devices:
            if d.name == name:
                return d
        raise NotFound(f"board {self.name}: no device {name!r} "
                       f"(devices: {', '.join(d.name for d in self.devices)})")

    def partition(self, name: str | int) -> PartitionSpec:
        """By node label, label property or Zephyr ID; NotFound (ENOENT) otherwise."""
        for p in self.partitions:
            if name == p.id or name in p.node_labels:
                return p
        hits = [p for p in self.partitions if p.label == name]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InvalidArgument(f"board {self.name}: label {name!r} names {len(hits)} partitions")
        raise NotFound(f"board {self.name}: no partition {name!r} (partitions: "
                       f"{', '.join(p.name for p in self.partitions)})")

    def to_json(self) -> dict:
        """The board as data: ``partitions`` with the keys of the shared board tables
        (``boards/*.json``: id, node, node_label, node_labels, label_property, offset, size,
        read_only, device_node, memory_node) plus ``device`` and ``address``, in ID order (then
        partitions without ID); ``flash_devices``, ``chosen``, ``node_status`` as in those
        tables; ``devices`` with the full geometry."""
        ordered = in_id_order(self.partitions + self.disabled_partitions)
        return {
            "board": self.name,
            "source": self.source,
            "devices": [d.to_json() for d in self.devices],
            "flash_devices": self.flash_devices if self.flash_devices is not None else [
                {"node": d.node, "compatible": [], "reg": [d.base_address, d.size],
                 "erase_block_size": d.layout[0][1] if len(d.layout) == 1 else None,
                 "write_block_size": d.write_block_size} for d in self.devices],
            "partitions": [p.to_json() for p in ordered],
            "chosen": dict(self.chosen),
            "node_status": dict(self.node_status or {}),
        }

    def open(self, images=None, readonly: bool = False, create: bool = True, *,
             enforce_read_only: bool = True, **sim_kwargs) -> "OpenBoard":
        """Live devices and the flash map.

        ``images``: None (in memory), a directory (``<device name>.bin`` per device), a mapping
        ``{device name: path}``, or one path for a one-device board (for a board with several
        devices a path that is not an existing file is taken as a directory). ``create``
        makes missing images (erased); ``readonly`` maps them read-only (EROFS on write).
        ``sim_kwargs`` go to every ``SimulatedFlash``.
        """
        paths = self._image_paths(images, create)
        devices = {}
        try:
            for d in self.devices:
                devices[d.name] = d.create(paths.get(d.name), readonly=readonly, create=create,
                                           **sim_kwargs)
            fm = build_flash_map(self.partitions, devices, enforce_read_only=enforce_read_only,
                                 chosen=self.chosen_flash, disabled=self.disabled_partitions,
                                 source=self.source)
        except BaseException:
            for dev in devices.values():
                dev.close()
            raise
        return OpenBoard(self, devices, fm)

    def _image_paths(self, images, create: bool) -> dict:
        if images is None:
            return {}
        if isinstance(images, Mapping):
            unknown = set(images) - {d.name for d in self.devices}
            if unknown:
                raise NotFound(f"board {self.name}: images given for unknown devices "
                               f"{sorted(unknown)}")
            return {k: os.fspath(v) for k, v in images.items()}
        path = os.fspath(images)
        if os.path.isdir(path) or (len(self.devices) > 1 and not os.path.isfile(path)):
            if not os.path.isdir(path):
                if not create:
                    raise NotFound(f"board {self.name}: image directory {path} does not exist")
                os.makedirs(path)
            return {d.name: os.path.join(path, f"{d.name}.bin") for d in self.devices}
        if len(self.devices) != 1:
            raise InvalidArgument(f"board {self.name} has {len(self.devices)} devices; give a "
                                  f"directory or a mapping, not the single file {path}")
        return {self.devices[0].name: path}


class OpenBoard:
    """A board with live devices: ``devices`` (name -> SimulatedFlash), ``flash_map``,
    ``area(name_or_id)``; close it (or use ``with``) to flush file-backed images."""

    def __init__(self, board: Board, devices: dict, flash_map: FlashMap):
        self.board = board
        self.devices = devices
        self.flash_map = flash_map

    def area(self, name: str | int) -> FlashArea:
        """A partition by node label, label property or ID (``FlashMap.find``)."""
        return self.flash_map.find(name)

    def device(self, name: str):
        """The live device named ``name``; NotFound (ENOENT) otherwise."""
        try:
            return self.devices[name]
        except KeyError:
            raise NotFound(f"board {self.board.name}: no device {name!r}") from None

    def close(self) -> None:
        """Close every device (file-backed images are flushed); idempotent."""
        for d in self.devices.values():
            d.close()

    def __enter__(self) -> "OpenBoard":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<OpenBoard {self.board.name}: {', '.join(self.devices)}>"
