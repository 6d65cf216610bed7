"""The three parts a :class:`~flashstack.device.SimulatedFlash` is made of (docs/device.md §4):

- :class:`DeviceGeometry`: erase-page layout, write block, erase value and the program model
  (what the driver reports and enforces);
- :class:`Faults`: what the device adds to NOR physics: busy-time model, endurance, rated
  cycles (power cuts are armed later, per run);
- :class:`Backing`: where the image lives: memory (sparse when large) or an image file.

Each is a frozen dataclass of plain values; :func:`parts_from_chip` gives a chip's parts
(DEV-46, DEV-47). Sizes in bytes, times in µs. Standard library only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any, Sequence

from ..errors import InvalidArgument
from .backing import SPARSE_THRESHOLD, SparseImage, map_image
from .base import PageLayout
from .faults import Endurance
from .timing import ChipTiming

__all__ = ["DeviceGeometry", "Faults", "Backing", "parts_from_chip", "split_overrides"]


@dataclass(frozen=True)
class DeviceGeometry:
    """Erase-page ``layout`` runs of ``(count, page bytes)``, ``write_block_size`` (a power of
    two), ``erase_value`` (0xFF or 0x00, DEV-3), ``program_page_size`` (timing model only),
    ``explicit_erase`` (False: a RAM-like device that overwrites), ``allow_double_writes``
    (re-programming an already programmed block ANDs/ORs, DEV-17), ``unaligned_read``,
    ``erase_supported`` and ``fill_buffer_size`` (Zephyr flash simulator options)."""

    layout: tuple
    write_block_size: int = 1
    erase_value: int = 0xFF
    program_page_size: int = 256
    explicit_erase: bool = True
    allow_double_writes: bool = False
    unaligned_read: bool = True
    erase_supported: bool = True
    fill_buffer_size: int = 32

    @classmethod
    def uniform(cls, size: int, erase_page_size: int, name: str = "flash", **kw) -> "DeviceGeometry":
        """``size`` bytes of ``erase_page_size``-byte pages; EINVAL unless the page divides it."""
        if erase_page_size < 1 or size % erase_page_size:
            raise InvalidArgument(f"{name}: size {size} is not a multiple of erase page {erase_page_size}")
        return cls(((size // erase_page_size, erase_page_size),), **kw)

    @property
    def size(self) -> int:
        """Device size in bytes (the sum of the layout)."""
        return sum(c * s for c, s in self.layout)

    def page_layout(self, name: str) -> PageLayout:
        """Check every field (EINVAL naming device ``name``) and give the :class:`PageLayout`."""
        wbs = self.write_block_size
        if not isinstance(wbs, int) or wbs < 1 or wbs & (wbs - 1):
            raise InvalidArgument(f"{name}: write block size {wbs} is not a power of two")
        if self.erase_value not in (0x00, 0xFF):
            raise InvalidArgument(f"{name}: erase value {self.erase_value:#x} must be 0x00 or 0xFF (DEV-3)")
        if self.fill_buffer_size < 1:
            raise InvalidArgument(f"{name}: fill buffer size {self.fill_buffer_size} must be >= 1")
        if self.program_page_size < 1:
            raise InvalidArgument(f"{name}: program page size {self.program_page_size} must be >= 1")
        try:
            return PageLayout(self.layout, wbs)
        except InvalidArgument as e:  # name the device in the message
            raise InvalidArgument(f"{name}: {e.strerror}") from None


@dataclass(frozen=True)
class Faults:
    """``timing`` (:class:`ChipTiming` busy-time model, §7, or None), ``endurance``
    (:class:`Endurance` enforced, §6, or None: unlimited) and ``rated_cycles`` reported in wear
    reports when no endurance is enforced (a chip's rating)."""

    timing: ChipTiming | None = None
    endurance: Endurance | None = None
    rated_cycles: int | None = None


@dataclass(frozen=True)
class Backing:
    """``path`` None keeps the image in memory (a bytearray; sparse chunks above
    :data:`~flashstack.device.backing.SPARSE_THRESHOLD` bytes); a path maps a raw image file,
    created erased when missing and ``create``; ``readonly`` refuses writes (EROFS)."""

    path: str | os.PathLike | None = None
    create: bool = True
    readonly: bool = False

    def open(self, size: int, erase_value: int, device: str) -> tuple[Any, Any]:
        """``(file or None, buffer)`` of a ``size``-byte image (errors as
        :func:`~flashstack.device.backing.map_image`: ENOENT, EINVAL)."""
        if self.path is not None:
            return map_image(os.fspath(self.path), size, erase_value, create=self.create,
                             readonly=self.readonly, device=device)
        if size > SPARSE_THRESHOLD:
            return None, SparseImage(size, erase_value)   # memory only where written
        return None, bytearray([erase_value]) * size


_GEOMETRY = {f.name for f in fields(DeviceGeometry)}
_FAULTS = {f.name for f in fields(Faults)}
_BACKING = {"backing", "create", "readonly"}


def split_overrides(overrides: dict, name: str) -> tuple[dict, dict, dict]:
    """Keyword overrides sorted into (geometry, faults, backing) fields; ``backing`` is the
    image path. EINVAL naming an unknown keyword."""
    unknown = set(overrides) - _GEOMETRY - _FAULTS - _BACKING
    if unknown:
        raise InvalidArgument(f"{name}: unknown device setting(s) {', '.join(sorted(unknown))}")
    pick = lambda keys: {k: v for k, v in overrides.items() if k in keys}  # noqa: E731
    back = pick(_BACKING)
    if "backing" in back:
        back["path"] = back.pop("backing")
    return pick(_GEOMETRY), pick(_FAULTS), back


def parts_from_chip(chip, size: int | None = None, erase_page_size: int | None = None,
                    layout: Sequence[tuple[int, int]] | None = None,
                    name: str = "flash") -> tuple[DeviceGeometry, Faults]:
    """The geometry and faults of ``chip`` (a :class:`~flashstack.device.chips.Chip`):
    its layout, write block, program page, multi-program rule (double writes), timing and
    rated cycles. ``layout``, or ``erase_page_size`` over ``size`` (default: the chip's),
    replaces the chip's pages (DEV-47); the erase value stays 0xFF."""
    if layout is None and erase_page_size is not None:
        geo = DeviceGeometry.uniform(chip.size if size is None else size, erase_page_size, name)
        runs = geo.layout
    else:
        runs = tuple(chip.layout if layout is None else layout)
    geometry = DeviceGeometry(runs, write_block_size=chip.write_block_size,
                              program_page_size=chip.program_page_size,
                              allow_double_writes=chip.multi_program)
    return geometry, Faults(timing=chip.timing, rated_cycles=chip.rated_cycles)


def with_overrides(geometry: DeviceGeometry, faults: Faults, geo_kw: dict,
                   fault_kw: dict) -> tuple[DeviceGeometry, Faults]:
    """``geometry`` and ``faults`` with the given fields replaced (None values keep theirs)."""
    return (replace(geometry, **{k: v for k, v in geo_kw.items() if v is not None}),
            replace(faults, **{k: v for k, v in fault_kw.items() if v is not None}))
