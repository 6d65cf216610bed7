"""Image files of a board, and what an image holds partition by partition.

:func:`image_paths` maps a board's flash devices to image files (one file for a one-device
board, or ``<device>.bin`` files in a directory); :func:`create_images` writes erased images;
:func:`area_info` / :func:`map_info` report, per partition: erased or not, the first and last
programmed byte, programmed byte count, erased erase pages and the SHA-256;
:func:`unpartitioned_info` does the same for the ranges no partition covers (:func:`free_ranges`).

Used by ``flashstack image``, ``flashstack board`` and the CLI's image options. Standard library only; a board is used
through its documented attributes (``board.name``, ``board.devices[i].name``,
``board.open(images=...)``). Offsets in results are partition-relative bytes unless the
name says ``device_offset``.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import asdict, dataclass
from typing import Iterable

from ..flash_map import FlashArea

__all__ = ["AreaInfo", "area_info", "create_images", "free_ranges", "image_paths", "map_info",
           "unpartitioned_info"]


def image_paths(board, target, must_exist: bool = True) -> dict[str, str]:
    """``{device_name: image_path}`` for ``target`` (a mapping, a directory of ``<device>.bin``
    files, or one file for a one-device board): :meth:`flashstack.board.Board.image_paths`,
    whose rules and errors these are, with ``must_exist`` on by default.

    Errors: NotFound (ENOENT) for a missing image or a mapping naming unknown devices;
    InvalidArgument (EINVAL) for a single file given for a board with several devices.
    """
    return board.image_paths(target, must_exist=must_exist)


def create_images(board, target, overwrite: bool = False) -> dict[str, str]:
    """Write an erased image file per flash device of ``board`` at ``target`` (see
    :func:`image_paths`); returns ``{device_name: path}``. Directories are created.

    An existing image is left alone unless ``overwrite`` (then it is replaced by an erased
    one): FileExistsError (EEXIST) otherwise, before anything is written.
    """
    paths = image_paths(board, target, must_exist=False)
    existing = [p for p in paths.values() if os.path.exists(p)]
    if existing and not overwrite:
        raise FileExistsError(errno.EEXIST, "image exists (use --force to replace it with an erased one)",
                              existing[0])
    for p in existing:
        os.remove(p)
    with board.open(images=paths, readonly=False, create=True):
        pass  # opening with create=True makes the directories and writes each erased file
    return paths


@dataclass(frozen=True)
class AreaInfo:
    """Usage of one partition. ``first_used``/``used_end`` are partition-relative (None and
    0 when erased); ``used_bytes`` counts bytes that differ from the erase value;
    ``pages``/``erased_pages`` count the erase pages that start inside the partition."""

    id: int | None
    name: str
    label: str | None
    device: str
    device_offset: int
    size: int
    read_only: bool
    erase_value: int
    erased: bool
    first_used: int | None
    used_end: int
    used_bytes: int
    pages: int
    erased_pages: int
    sha256: str

    def to_json(self) -> dict:
        return asdict(self)


def _segments(area) -> Iterable[tuple[int, int, bool]]:
    """``(off, n, is_whole_page)`` pieces covering the area, split at erase page starts."""
    sizes = {p.start_offset - area.offset: p.size for p in area.erase_pages()}
    bounds = sorted(set([0, area.size, *sizes]))
    for a, b in zip(bounds, bounds[1:]):
        yield a, b - a, sizes.get(a) == b - a


def area_info(area, chunk: int = 64 * 1024) -> AreaInfo:
    """Scan ``area`` (a FlashArea) once and return its :class:`AreaInfo`.

    Reads go through the area (device counters see them); errors of the device propagate.
    """
    ev = bytes([area.erased_val])
    h = hashlib.sha256()
    first = None
    end = used = pages = erased_pages = 0
    for seg_off, seg_n, whole in _segments(area):
        seg_erased = True
        for off in range(seg_off, seg_off + seg_n, chunk):
            data = area.read(off, min(chunk, seg_off + seg_n - off))
            h.update(data)
            programmed = len(data) - data.count(ev)
            if not programmed:
                continue
            seg_erased = False
            used += programmed
            if first is None:
                first = off + len(data) - len(data.lstrip(ev))
            end = off + len(data.rstrip(ev))
        if whole:
            pages += 1
            erased_pages += seg_erased
    return AreaInfo(id=area.id, name=area.name, label=area.label, device=area.device.name,
                    device_offset=area.offset, size=area.size, read_only=area.read_only,
                    erase_value=area.erased_val, erased=first is None, first_used=first,
                    used_end=end, used_bytes=used, pages=pages, erased_pages=erased_pages,
                    sha256=h.hexdigest())


def map_info(flash_map) -> list[AreaInfo]:
    """:func:`area_info` of every partition of ``flash_map``, in map order."""
    return [area_info(a) for a in flash_map]


def free_ranges(extents, device_sizes: dict) -> list[tuple]:
    """Ranges no partition covers: ``extents`` holds ``(device, offset, size)`` per partition
    (nested and overlapping ones allowed); ``device_sizes`` maps each device key to its size
    in bytes (extents on other devices are ignored). Returns ``(device, start, end)`` tuples
    by device (``device_sizes`` order), then offset."""
    by_dev: dict = {d: [] for d in device_sizes}
    for dev, off, size in extents:
        if dev in by_dev:
            by_dev[dev].append((off, off + size))
    out = []
    for dev, spans in by_dev.items():
        cursor = 0
        for start, end in sorted(spans):
            if start > cursor:
                out.append((dev, cursor, start))
            cursor = max(cursor, end)
        if cursor < device_sizes.get(dev, cursor):
            out.append((dev, cursor, device_sizes[dev]))
    return out


def unpartitioned_info(flash_map, devices) -> list[AreaInfo]:
    """:class:`AreaInfo` (id None, named ``(free START..END)`` with device offsets) of every
    range of ``devices`` (name -> device) that no partition of ``flash_map`` covers: data
    there is outside the flash map."""
    by_obj = {id(d): name for name, d in devices.items()}
    extents = [(by_obj.get(id(a.device)), a.offset, a.size) for a in flash_map]
    sizes = {name: d.size for name, d in devices.items()}
    return [area_info(FlashArea(None, start, end - start, devices[name],
                                label=f"(free {start:#x}..{end:#x})"))
            for name, start, end in free_ranges(extents, sizes)]
