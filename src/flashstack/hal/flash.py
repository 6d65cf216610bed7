"""``HalFlash``: the AliOS-Things flash HAL over a board's ``hal_partitions`` table.

Pythonic side of ``hal_flash_*`` (docs/alios-hal.md §2, §5, §6). Offsets are
partition-relative bytes; ``partition_start_addr`` is absolute. Each partition is
served by a :class:`~flashstack.flash_map.FlashArea`; no call reaches a device any
other way. Upstream: ``include/aos/hal/flash.h``, ``platform/mcu/bk7231/hal/flash.c``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from ..errors import AccessDenied, InvalidArgument, NotFound
from ..flash_map import FlashArea
from .types import HalLogicPartition, partition_enum, partition_name

__all__ = ["HalFlash", "HalPartitionView", "HalSpan"]


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(r for r in ranges if r[1] > r[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


class HalFlash:
    """The flash HAL of one board.

    ``table`` maps ``hal_partition_t`` values to :class:`HalLogicPartition`; ``owners`` maps
    ``hal_flash_t`` values to ``(device, base_address)``. A partition's device offset is
    ``partition_start_addr - base_address`` (HAL-1; EINVAL at construction when it leaves the
    device or its owner is unknown). Secure ranges live in this instance only (HAL-12).
    """

    def __init__(self, table: Mapping[int, HalLogicPartition], owners: Mapping[int, tuple],
                 *, generation: str = "v3"):
        self.generation = generation
        enum = partition_enum(generation)
        reserved = {-1, int(enum["HAL_PARTITION_MAX"]), int(enum["HAL_PARTITION_NONE"])}
        self.table: dict[int, HalLogicPartition] = {}
        self.areas: dict[int, FlashArea] = {}
        self._secure: dict[int, list[tuple[int, int]]] = {}
        self.owners = dict(owners)
        for value, info in sorted(table.items()):
            value = int(value)
            if value in reserved or value < -1:
                raise InvalidArgument(f"HAL table: partition value {value} ({partition_name(value, generation)}) "
                                      f"is reserved in generation {generation}")
            if info.partition_owner not in self.owners:
                raise InvalidArgument(f"HAL partition {self._pname(value)} ({info.partition_description!r}): "
                                      f"owner {info.partition_owner} has no device")
            device, base = self.owners[info.partition_owner]
            off = info.partition_start_addr - base
            if off < 0 or info.partition_length < 0 or off + info.partition_length > device.size:
                raise InvalidArgument(
                    f"HAL partition {self._pname(value)} ({info.partition_description!r}) at "
                    f"{info.partition_start_addr:#x}+{info.partition_length:#x} lies outside device "
                    f"{device.name} ({base:#x}+{device.size:#x})")
            self.table[value] = info
            self.areas[value] = FlashArea(value, off, info.partition_length, device,
                                          label=info.partition_description,
                                          read_only=not info.writable,
                                          address=info.partition_start_addr)

    # --- helpers ------------------------------------------------------------------
    def _pname(self, p: int) -> str:
        return f"{partition_name(p, self.generation)} ({p})"

    def _where(self, p: int, off: int, n: int) -> str:
        info = self.table.get(p)
        desc = f" {info.partition_description!r}" if info else ""
        return f"HAL partition {self._pname(p)}{desc} at {off:#x} len {n:#x}"

    def _get(self, p: int) -> HalLogicPartition:
        info = self.table.get(int(p)) if isinstance(p, int) else None
        if info is None:
            name = self._pname(int(p)) if isinstance(p, int) else repr(p)
            raise NotFound(f"HAL partition {name} is not in the board's hal_partitions table "
                           f"(present: {', '.join(self._pname(q) for q in sorted(self.table)) or 'none'})")
        return info

    def _check_bounds(self, p: int, info: HalLogicPartition, off: int, n: int) -> None:
        if off < 0 or n < 0 or off + n > info.partition_length:
            raise InvalidArgument(self._where(p, off, n)
                                  + f": out of bounds (partition length {info.partition_length:#x})")

    def _check_secure(self, p: int, off: int, end: int, what: str) -> None:
        for s, e in self._secure.get(p, ()):
            if s < end and off < e:
                raise AccessDenied(self._where(p, off, end - off)
                                   + f": {what} touches the secure range {s:#x}..{e:#x}")

    def _erase_range(self, p: int, info: HalLogicPartition, off: int, size: int) -> tuple[int, int]:
        """HAL-10: partition-relative ``[start, end)`` of the erase pages covering the range."""
        area = self.areas[p]
        lay = area.device.layout
        first = lay.by_offset(area.offset + off)
        last = lay.by_offset(area.offset + off + size - 1)
        start = first.start_offset - area.offset
        end = last.start_offset + last.size - area.offset
        if start < 0 or end > info.partition_length:
            raise InvalidArgument(self._where(p, off, size) + f": erase pages cover {start:#x}..{end:#x}, "
                                  "outside the partition")
        return start, end

    # --- queries ------------------------------------------------------------------
    def info(self, partition: int) -> HalLogicPartition:
        """A copy of the descriptor (``hal_flash_info_get``); NotFound (ENOENT) if unknown."""
        return replace(self._get(partition))

    def area(self, partition: int) -> FlashArea:
        """The FlashArea serving ``partition`` (HAL-2); ENOENT if unknown."""
        self._get(partition)
        return self.areas[int(partition)]

    def addr2offset(self, addr: int) -> tuple[int, int]:
        """``(partition, offset)`` of the first partition in enum order containing absolute ``addr``;
        InvalidArgument (EINVAL) when none does."""
        for p in sorted(self.table):
            info = self.table[p]
            if info.partition_start_addr <= addr < info.partition_start_addr + info.partition_length:
                return p, addr - info.partition_start_addr
        raise InvalidArgument(f"address {addr:#x} is in no HAL partition")

    def secure_ranges(self, partition: int) -> list[tuple[int, int]]:
        """Protected ``[start, end)`` ranges of ``partition`` (partition-relative)."""
        self._get(partition)
        return list(self._secure.get(int(partition), ()))

    # --- operations ----------------------------------------------------------------
    def read(self, partition: int, off: int, n: int) -> bytes:
        """Read ``n`` bytes at partition offset ``off``. ENOENT, EACCES (no READ_EN), EINVAL, device errors."""
        info = self._get(partition)
        if not info.readable:
            raise AccessDenied(self._where(partition, off, n) + ": partition has no PAR_OPT_READ_EN")
        if n == 0:
            return b""
        self._check_bounds(partition, info, off, n)
        return self.areas[partition].read(off, n)

    def _check_write(self, partition: int, off: int, n: int, what: str) -> HalLogicPartition:
        info = self._get(partition)
        if not info.writable:
            raise AccessDenied(self._where(partition, off, n) + f": {what} on a partition without PAR_OPT_WRITE_EN")
        return info

    def write(self, partition: int, off: int, data) -> int:
        """Program ``data`` (no erase) at partition offset ``off``; returns ``off + len(data)``.

        Errors: ENOENT, EACCES (no WRITE_EN, secure range), EINVAL (bounds), device errors.
        """
        n = len(data)
        info = self._check_write(partition, off, n, "write")
        if n == 0:
            return off
        self._check_bounds(partition, info, off, n)
        self._check_secure(partition, off, off + n, "write")
        self.areas[partition].write(off, data)
        return off + n

    def erase(self, partition: int, off: int, size: int) -> None:
        """Erase every erase page overlapping ``[off, off+size)`` in one device call (HAL-10).

        Errors: ENOENT, EACCES (no WRITE_EN; secure range in the expanded range), EINVAL (bounds,
        expansion leaving the partition), device errors. ``size == 0`` does nothing.
        """
        info = self._check_write(partition, off, size, "erase")
        self._check_bounds(partition, info, off, size)
        if size == 0:
            return
        start, end = self._erase_range(partition, info, off, size)
        self._check_secure(partition, start, end, "erase")
        self.areas[partition].erase(start, end - start)

    def erase_write(self, partition: int, off: int, data) -> int:
        """Erase the pages covering ``[off, off+len(data))`` then program ``data``; returns the new offset."""
        n = len(data)
        info = self._check_write(partition, off, n, "erase_write")
        if n == 0:
            return off
        self._check_bounds(partition, info, off, n)
        start, end = self._erase_range(partition, info, off, n)
        self._check_secure(partition, start, end, "erase_write")
        self.erase(partition, off, n)
        return self.write(partition, off, data)

    def enable_secure(self, partition: int, off: int, size: int) -> None:
        """Write-protect ``[off, off+size)`` of ``partition`` (HAL-12); ENOENT, EINVAL (bounds)."""
        info = self._get(partition)
        self._check_bounds(partition, info, off, size)
        if size:
            self._secure[partition] = _merge(self._secure.get(partition, []) + [(off, off + size)])

    def dis_secure(self, partition: int, off: int, size: int) -> None:
        """Remove ``[off, off+size)`` from the protected ranges (set difference); ENOENT, EINVAL."""
        info = self._get(partition)
        self._check_bounds(partition, info, off, size)
        out = []
        for s, e in self._secure.get(partition, []):
            if e <= off or s >= off + size:
                out.append((s, e))
                continue
            if s < off:
                out.append((s, off))
            if e > off + size:
                out.append((off + size, e))
        self._secure[partition] = _merge(out)

    # --- storage views for the KV ------------------------------------------------------
    def partition(self, partition: int) -> "HalPartitionView":
        """A storage view (``read/write/erase``, partition-relative) going through this HAL."""
        self._get(partition)
        return HalPartitionView(self, int(partition))

    def span(self, first: int, second: int, ptn_size: int) -> "HalSpan":
        """HAL-14: the multi-partition KV view (offsets ``>= ptn_size`` go to ``second``)."""
        return HalSpan(self, int(first), int(second), ptn_size)

    def __repr__(self) -> str:
        return f"HalFlash({len(self.table)} partitions, generation {self.generation})"


class HalPartitionView:
    """One HAL partition as a storage for the KV: partition-relative ``read``, ``write``, ``erase``
    through :class:`HalFlash` (so options and secure ranges apply)."""

    def __init__(self, hal: HalFlash, partition: int):
        self.hal = hal
        self.partition = partition
        self.area = hal.areas[partition]
        self.size = self.area.size
        self.name = f"HAL {hal._pname(partition)}"

    def read(self, off: int, n: int) -> bytes:
        return self.hal.read(self.partition, off, n)

    def write(self, off: int, data) -> None:
        self.hal.write(self.partition, off, data)

    def erase(self, off: int, n: int) -> None:
        self.hal.erase(self.partition, off, n)

    def segments(self) -> list[tuple[int, int, FlashArea]]:
        """``[(view_offset, length, area)]``: the flash areas behind this view."""
        return [(0, self.size, self.area)]


class HalSpan:
    """HAL-14 multi-partition mode (``CONFIG_AOS_KV_MULTIPTN_MODE``): offsets below ``ptn_size`` go
    to ``first``, the rest to ``second`` at ``offset - ptn_size``; an access crossing ``ptn_size``
    fails with EINVAL."""

    def __init__(self, hal: HalFlash, first: int, second: int, ptn_size: int):
        info1, info2 = hal._get(first), hal._get(second)
        if ptn_size <= 0 or ptn_size > info1.partition_length:
            raise InvalidArgument(f"span: ptn_size {ptn_size:#x} must be in 1..length of "
                                  f"{hal._pname(first)} ({info1.partition_length:#x})")
        self.hal, self.first, self.second, self.ptn_size = hal, first, second, ptn_size
        self.size = ptn_size + info2.partition_length
        self.name = f"HAL span {hal._pname(first)}+{hal._pname(second)}"

    def _route(self, off: int, n: int) -> tuple[int, int]:
        if off < self.ptn_size:
            if off + n > self.ptn_size:
                raise InvalidArgument(f"{self.name}: access at {off:#x} len {n:#x} crosses ptn_size "
                                      f"{self.ptn_size:#x}")
            return self.first, off
        return self.second, off - self.ptn_size

    def read(self, off: int, n: int) -> bytes:
        p, o = self._route(off, n)
        return self.hal.read(p, o, n)

    def write(self, off: int, data) -> None:
        p, o = self._route(off, len(data))
        self.hal.write(p, o, data)

    def erase(self, off: int, n: int) -> None:
        p, o = self._route(off, n)
        self.hal.erase(p, o, n)

    def segments(self) -> list[tuple[int, int, FlashArea]]:
        return [(0, self.ptn_size, self.hal.areas[self.first]),
                (self.ptn_size, self.size - self.ptn_size, self.hal.areas[self.second])]
