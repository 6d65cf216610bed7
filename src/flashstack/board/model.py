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

#: names that mark a path as one image file, never a directory of them
_IMAGE_SUFFIXES = (".bin", ".img", ".raw", ".dump")


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

    def with_layout(self, layout, device: str | None = None,
                    source: str = "--layout") -> "Board":
        """A copy whose ``device`` (default: the only device) has erase ``layout`` (runs of
        ``(count, bytes)`` or text ``"4x16K,1x64K,7x128K"``, BL-4); partitions are checked
        again. Errors: InvalidArgument (EINVAL) when the layout's total differs from the
        device size or the board has several devices and none is named; NotFound (ENOENT)
        for an unknown device."""
        from dataclasses import replace

        from ..flash_map import check_partitions
        from .soc_layouts import parse_layout

        runs = parse_layout(layout) if isinstance(layout, str) else tuple(tuple(r) for r in layout)
        if device is None:
            if len(self.devices) != 1:
                raise InvalidArgument(f"board {self.name} has {len(self.devices)} flash devices "
                                      f"({', '.join(d.name for d in self.devices)}): name one "
                                      "(DEVICE=LAYOUT)")
            device = self.devices[0].name
        old = self.device(device)
        from .devicetree.devices import MAX_PAGES
        if sum(c for c, _ in runs) > MAX_PAGES:
            raise InvalidArgument(f"board {self.name}: layout {source} has more than {MAX_PAGES} "
                                  "erase pages (DT-5)")
        total = sum(c * s for c, s in runs)
        if total != old.size:
            raise InvalidArgument(f"board {self.name}: layout {source} covers {total:#x} bytes, "
                                  f"device {device} has {old.size:#x}")
        new = replace(old, layout=runs, layout_source=source, layout_known=True)
        devices = [new if d.name == device else d for d in self.devices]
        check_partitions(self.partitions, {d.name: d for d in devices})
        return replace(self, devices=devices)

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
            **({"build": build.to_json()} if (build := self.extra.get("zephyr_build")) is not None
               and hasattr(build, "to_json") else {}),
        }

    def open(self, images=None, readonly: bool = False, create: bool = True, *,
             enforce_read_only: bool = True, **sim_kwargs) -> "OpenBoard":
        """Live devices and the flash map.

        ``images``: None (in memory) or an image target of :meth:`image_paths` (a directory of
        ``<device name>.bin`` files, a mapping ``{device name: path}``, or one file for a
        one-device board). ``create`` makes missing images (erased, with their directories);
        without it a missing image is NotFound (ENOENT). ``readonly`` maps them read-only
        (EROFS on write). ``sim_kwargs`` go to every ``SimulatedFlash``.
        """
        paths = {} if images is None else self.image_paths(images, must_exist=not create)
        for path in paths.values() if create else ():
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
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

    def image_paths(self, target, must_exist: bool = False) -> dict[str, str]:
        """``{device name: image path}`` for an image ``target``; touches no file.

        ``target`` is a mapping ``{device name: path}`` (checked, returned with str paths), a
        directory (``<device name>.bin`` per device) or one file (one-device boards only). A
        directory is: an existing one, a path ending in ``/``, or any path of a several-device
        board that is neither an existing file nor named like an image (``.bin``, ``.img``,
        ``.raw``, ``.dump``). ``must_exist`` requires every image file to exist.
        Errors: NotFound (ENOENT) for a device the board lacks or (``must_exist``) a missing
        image; InvalidArgument (EINVAL) for one file given for a several-device board.
        """
        names = [d.name for d in self.devices]
        if isinstance(target, Mapping):
            unknown = sorted(set(target) - set(names))
            if unknown:
                raise NotFound(f"board {self.name} has no device {', '.join(unknown)} "
                               f"(devices: {', '.join(names)})")
            paths = {k: os.fspath(v) for k, v in target.items()}
        else:
            path = os.fspath(target)
            if os.path.isdir(path) or path.endswith(("/", os.sep)) or len(names) > 1:
                # ``-o demo.bin`` for a several-device board is a mistake, not a directory name
                if os.path.isfile(path) or (not os.path.exists(path) and len(names) > 1
                                            and path.lower().endswith(_IMAGE_SUFFIXES)):
                    raise InvalidArgument(
                        f"board {self.name} has {len(names)} flash devices ({', '.join(names)}): "
                        f"give a directory holding {', '.join(n + '.bin' for n in names)}, "
                        f"not the file {path}")
                paths = {n: os.path.join(path, f"{n}.bin") for n in names}
            else:
                paths = {names[0]: path}
        if must_exist:
            missing = [p for p in paths.values() if not os.path.isfile(p)]
            if missing:
                where = os.path.dirname(missing[0]) or "." if isinstance(target, Mapping) else os.fspath(target)
                raise NotFound(f"image {missing[0]} does not exist (board {self.name}; make one "
                               f"with: flashstack image create --board {self.name} -o {where})")
        return paths


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
