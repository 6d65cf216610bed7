"""Flash areas (partitions) and flash maps: Zephyr's flash map, Pythonic side.

Model: zephyr subsys/storage/flash_map/flash_map.c, flash_map_layout.c,
flash_map_integrity.c; docs/flash-map.md. Offsets given to a :class:`FlashArea`
are partition-relative bytes; ``FlashArea.offset`` is the partition start on its
device; ``FlashArea.address`` the absolute (memory-mapped) address or None.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator, NamedTuple

from ..device import FlashDevice, PageInfo, copy as device_copy
from ..device.recorder import RecordingFlash
from ..errors import AccessDenied, IntegrityError, InvalidArgument, NoDevice, NotFound



class FlashSector(NamedTuple):
    """One sector of an area: ``fs_off`` relative to the area start, ``fs_size`` bytes."""

    fs_off: int
    fs_size: int


@dataclass(frozen=True, eq=False)
class FlashArea:
    """A partition of a flash device (``struct flash_area`` plus [fs] fields, docs/flash-map.md §2).

    Every access is bounds-checked (FM-2: ``0 <= off``, ``0 <= n``, ``off + n <= size``,
    EINVAL) and, when ``enforce_read_only`` and ``read_only``, modification fails with EACCES
    (FM-6). Alignment and erase rules are the device's.
    """

    id: int | None
    offset: int
    size: int
    device: FlashDevice
    label: str | None = None
    node_labels: tuple = ()
    read_only: bool = False
    address: int | None = None
    path: str | None = None
    enforce_read_only: bool = field(default=True, compare=False)

    # --- naming ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """The name users know: first node label, else label property, else ``id N``."""
        if self.node_labels:
            return self.node_labels[0]
        if self.label:
            return self.label
        return f"id {self.id}"

    def _where(self, what: str, off: int, n: int) -> str:
        return (f"{what} partition {self.name} (id {self.id}) at {off:#x} len {n:#x} "
                f"(partition size {self.size:#x})")

    # --- checks ----------------------------------------------------------------
    def in_bounds(self, off: int, n: int) -> bool:
        """FM-2 bounds rule with Python integers (no overflow): ``0 <= off``, ``0 <= n``,
        ``off + n <= size`` (partition-relative bytes)."""
        return off >= 0 and n >= 0 and off + n <= self.size

    def check_range(self, what: str, off: int, n: int) -> None:
        """FM-2 bounds rule; raises InvalidArgument (EINVAL) naming the partition."""
        if not self.in_bounds(off, n):
            raise InvalidArgument(self._where(what, off, n) + ": out of bounds")

    def _check_writable(self, what: str, off: int, n: int) -> None:
        if self.read_only and self.enforce_read_only:
            raise AccessDenied(self._where(what, off, n) + ": partition is read-only")

    # --- operations ------------------------------------------------------------
    def read(self, off: int, n: int) -> bytes:
        """Read ``n`` bytes at partition offset ``off``. EINVAL out of bounds; device errors as is."""
        if off < 0 or n < 0 or off + n > self.size:
            self.check_range("read", off, n)
        return self.device.read(self.offset + off, n)

    def write(self, off: int, data) -> None:
        """Program ``data`` at partition offset ``off``. EINVAL, EACCES (read-only), device errors."""
        n = len(data)
        if off < 0 or off + n > self.size:
            self.check_range("write", off, n)
        if self.read_only and self.enforce_read_only:
            self._check_writable("write", off, n)
        self.device.write(self.offset + off, data)

    def erase(self, off: int, n: int) -> None:
        """Erase ``[off, off+n)`` (partition-relative; the device needs erase-page boundaries).
        EINVAL, EACCES (read-only), device errors."""
        self.check_range("erase", off, n)
        self._check_writable("erase", off, n)
        self.device.erase(self.offset + off, n)

    def flatten(self, off: int, n: int) -> None:
        """Erase, or fill with the erase value on RAM-like devices (``flash_area_flatten``).
        EINVAL, EACCES (read-only), device errors."""
        self.check_range("flatten", off, n)
        self._check_writable("flatten", off, n)
        self.device.flatten(self.offset + off, n)

    def copy_to(self, dst: "FlashArea", src_off: int, dst_off: int, n: int, buf_size: int = 32) -> None:
        """``flash_area_copy``: ``n`` bytes from partition offset ``src_off`` to ``dst_off`` of
        ``dst`` via a ``buf_size`` buffer. EINVAL unless both ranges are in bounds, EACCES for
        a read-only destination, device errors."""
        self.check_range("copy from", src_off, n)
        dst.check_range("copy to", dst_off, n)
        dst._check_writable("copy to", dst_off, n)
        device_copy(self.device, self.offset + src_off, dst.device, dst.offset + dst_off, n, buf_size)

    @property
    def align(self) -> int:
        """Write block size of the device (``flash_area_align``)."""
        return self.device.write_block_size

    @property
    def erased_val(self) -> int:
        """Erase value of the device (``flash_area_erased_val``), e.g. 0xFF."""
        return self.device.erase_value

    def privileged(self) -> "FlashArea":
        """A view of the same partition that does not enforce read-only (FM-8; image building)."""
        return replace(self, enforce_read_only=False)

    # --- sectors ----------------------------------------------------------------
    def sectors(self) -> list[FlashSector]:
        """All sectors of the area (FM-10 quirks: a page starting before the area is skipped;
        the last page is reported whole). ENODEV when the device is closed."""
        if not self.device.is_ready:
            raise NoDevice(f"partition {self.name}: device {self.device.name} is not ready")
        start, end = self.offset, self.offset + self.size
        return [FlashSector(p.start_offset - start, p.size)
                for p in self.device.layout.pages(start, end) if p.start_offset >= start]

    def erase_pages(self) -> list[PageInfo]:
        """Device pages that start inside the area (device-relative offsets)."""
        return [p for p in self.device.layout.pages(self.offset, self.offset + self.size)
                if p.start_offset >= self.offset]

    def page_runs(self, n: int | None = None) -> list[tuple[int, int]]:
        """The erase pages of the area's first ``n`` bytes (all of it by default) as
        ``(count, page bytes)`` runs: the layout of a device holding only that part of the
        partition (in-memory copies). ``[(1, n)]`` when that part does not start and end on
        erase-page boundaries."""
        n = self.size if n is None else n
        runs: list[list[int]] = []
        for p in self.device.layout.pages(self.offset, self.offset + n):
            if p.start_offset < self.offset:
                continue
            if runs and runs[-1][1] == p.size:
                runs[-1][0] += 1
            else:
                runs.append([1, p.size])
        if sum(c * s for c, s in runs) != n:
            return [(1, n)]
        return [(c, s) for c, s in runs]

    def memory_copy(self, n: int | None = None, *, erased: bool = False,
                    name: str | None = None) -> "FlashArea":
        """An in-memory copy of the area's first ``n`` bytes (all of it by default): a new device
        holding only them, with the same erase pages, write block, erase value, program page and
        explicit-erase mode, and the area over all of it (same id, labels, address, path;
        offset 0). The copy allows double writes (stores re-program state bytes). It holds the
        area's bytes (one read of ``n`` bytes), or is erased when ``erased``. Read-only
        analyses, dry runs and scratch builds run on it and never write the original.
        Errors: EINVAL when ``n`` exceeds the area; the original's read errors."""
        from ..device import SimulatedFlash

        n = self.size if n is None else n
        self.check_range("copy", 0, n)
        dev = self.device
        copy = SimulatedFlash(layout=self.page_runs(n), write_block_size=self.align, erase_value=self.erased_val,
                              allow_double_writes=True, explicit_erase=dev.explicit_erase,
                              program_page_size=getattr(dev, "program_page_size", None),
                              name=name or f"{dev.name}:{self.name}:copy")
        if not erased:
            copy.restore(self.read(0, n))
        return FlashArea(self.id, 0, n, copy, label=self.label, node_labels=self.node_labels,
                         address=self.address, path=self.path)

    def recorded(self, *, reads: bool = False,
                 note: Callable[[], str] | None = None) -> tuple["FlashArea", RecordingFlash]:
        """The same partition on a :class:`~flashstack.device.recorder.RecordingFlash` over
        this area's device, and that recorder: every write and erase (and read, with
        ``reads``) through the returned area is logged with device offsets (``note``: see
        the recorder). Scans use it on a :meth:`memory_copy` to show what a mount does."""
        rec = RecordingFlash(self.device, reads=reads, note=note)
        return replace(self, device=rec), rec

    # --- integrity ---------------------------------------------------------------
    def sha256(self, off: int = 0, n: int | None = None, chunk: int = 4096) -> bytes:
        """SHA-256 of ``[off, off+n)`` (whole partition by default), read in ``chunk`` bytes."""
        n = self.size - off if n is None else n
        self.check_range("sha256", off, n)
        h = hashlib.sha256()
        end = off + n
        while off < end:
            step = min(chunk, end - off)
            h.update(self.read(off, step))
            off += step
        return h.digest()

    def check_sha256(self, expected: bytes, off: int = 0, n: int | None = None) -> None:
        """Raise IntegrityError (EILSEQ) unless the range hashes to ``expected``."""
        if self.sha256(off, n) != bytes(expected):
            raise IntegrityError(f"partition {self.name}: SHA-256 mismatch over "
                                 f"{off:#x}+{(self.size - off) if n is None else n:#x}")

    def __repr__(self) -> str:
        ro = " ro" if self.read_only else ""
        return (f"FlashArea(id={self.id}, {self.name!r}, {self.device.name}@{self.offset:#x}"
                f"+{self.size:#x}{ro})")


def nested(a, b) -> bool:
    """One partition (FlashArea or PartitionSpec) is a devicetree descendant of the other:
    a sub-partition inside its parent, which is not an overlap."""
    if not a.path or not b.path:
        return False
    return b.path.startswith(a.path + "/") or a.path.startswith(b.path + "/")


class FlashMap:
    """An ordered set of flash areas (Zephyr's ``flash_map`` table).

    Validation (FM-14): every area inside its device (EINVAL naming it); ids unique and in
    0..255 (or None for areas without a Zephyr id); at most 256 entries. Overlaps are
    allowed and reported by :meth:`overlaps` / a warning (a sub-partition inside its parent
    partition is not an overlap). ``chosen`` maps ``zephyr,*`` names to areas or devices
    (FM-29); ``disabled`` lists ``(node_labels, id, label)`` of partitions left out (FM-17).
    """

    def __init__(self, areas: Iterable[FlashArea] = (), *, enforce_read_only: bool = True,
                 chosen: dict | None = None, source: str | None = None, disabled=()):
        self.enforce_read_only = enforce_read_only
        self.source = source
        self.areas: list[FlashArea] = [replace(a, enforce_read_only=enforce_read_only) for a in areas]
        self.chosen = dict(chosen or {})
        # Partitions known by node label and ID but left out of the map because their device
        # (or node) is disabled (FM-17): (node_labels, id, label) triples, for FM-24 lookups.
        self.disabled = [(tuple(labels), pid, label) for labels, pid, label in disabled]
        self._validate()

    def _validate(self) -> None:
        if len(self.areas) > 256:
            raise InvalidArgument(f"flash map has {len(self.areas)} partitions; at most 256")
        seen: dict[int, FlashArea] = {}
        for a in self.areas:
            if a.offset < 0 or a.size < 0 or a.offset + a.size > a.device.size:
                raise InvalidArgument(f"partition {a.name} (id {a.id}) {a.offset:#x}+{a.size:#x} lies "
                                      f"outside device {a.device.name} of {a.device.size:#x} bytes")
            if a.id is not None:
                if not 0 <= a.id <= 255:
                    raise InvalidArgument(f"partition {a.name}: id {a.id} outside 0..255")
                if a.id in seen:
                    raise InvalidArgument(f"partitions {seen[a.id].name} and {a.name} share id {a.id}")
                seen[a.id] = a
        for a, b in self.overlaps():
            warnings.warn(f"partitions {a.name} and {b.name} overlap on {a.device.name}", stacklevel=3)

    def overlaps(self) -> list[tuple[FlashArea, FlashArea]]:
        """Pairs of areas on one device whose ranges intersect (sub-partitions included)."""
        out = []
        for i, a in enumerate(self.areas):
            for b in self.areas[i + 1:]:
                if (a.device is b.device and a.offset < b.offset + b.size
                        and b.offset < a.offset + a.size and not nested(a, b)):
                    out.append((a, b))
        return out

    def node_label_id(self, label: str) -> int | None:
        """Zephyr ID of the partition with node label ``label``, also for partitions of
        disabled devices (``FIXED_PARTITION_ID``, FM-24); None for a sub-partition without an
        ID. NotFound (ENOENT) for an unknown label."""
        for a in self.areas:
            if label in a.node_labels:
                return a.id
        for labels, pid, _ in self.disabled:
            if label in labels:
                return pid
        raise NotFound(f"no partition with node label {label!r} (known: {self._names()})")

    def node_label_exists(self, label: str) -> bool:
        """``FIXED_PARTITION_EXISTS``: a partition node with this label exists (enabled or not)."""
        try:
            self.node_label_id(label)
        except NotFound:
            return False
        return True

    def __iter__(self) -> Iterator[FlashArea]:
        return iter(self.areas)

    def __len__(self) -> int:
        return len(self.areas)

    @property
    def devices(self) -> list[FlashDevice]:
        """The distinct devices of the map, in first-use order."""
        out: list[FlashDevice] = []
        for a in self.areas:
            if not any(d is a.device for d in out):
                out.append(a.device)
        return out

    def by_id(self, area_id: int) -> FlashArea:
        """The area with Zephyr id ``area_id``; NotFound (ENOENT) otherwise."""
        for a in self.areas:
            if a.id == area_id:
                return a
        raise NotFound(f"no partition with id {area_id} (ids: {self._ids()})")

    def by_node_label(self, label: str) -> FlashArea:
        """The area whose devicetree node label is ``label``; NotFound (ENOENT) otherwise."""
        for a in self.areas:
            if label in a.node_labels:
                return a
        raise NotFound(f"no partition with node label {label!r} (known: {self._names()})")

    def by_label(self, label: str) -> FlashArea:
        """The area whose ``label`` property is ``label``; ENOENT if none, EINVAL if ambiguous."""
        hits = [a for a in self.areas if a.label == label]
        if not hits:
            raise NotFound(f"no partition with label property {label!r} (known: {self._names()})")
        if len(hits) > 1:
            raise InvalidArgument(f"label {label!r} names {len(hits)} partitions: "
                                  + ", ".join(a.name for a in hits))
        return hits[0]

    def find(self, name: str | int) -> FlashArea:
        """Look up by node label, then label property, then id (an int or decimal string).
        NotFound (ENOENT) when nothing matches; InvalidArgument (EINVAL) for a label property
        shared by several partitions."""
        if isinstance(name, int):
            return self.by_id(name)
        for a in self.areas:
            if name in a.node_labels:
                return a
        hits = [a for a in self.areas if a.label == name]
        if len(hits) == 1:
            return hits[0]
        if not hits and name.isdigit():
            return self.by_id(int(name))
        return self.by_label(name) if hits else self.by_node_label(name)

    def foreach(self, cb: Callable[[FlashArea, object], None], user_data=None) -> None:
        """``flash_area_foreach``: ``cb(fa, user_data)`` for every entry in map order."""
        for a in self.areas:
            cb(a, user_data)

    def _ids(self) -> str:
        return ", ".join(str(a.id) for a in self.areas if a.id is not None) or "none"

    def _names(self) -> str:
        return ", ".join(a.name for a in self.areas) or "none"
