"""Driver-level types and the generic parts of every flash device.

Model: Zephyr's flash driver API (include/zephyr/drivers/flash.h,
drivers/flash/flash_util.c, flash_page_layout.c); docs/device.md §3.
Offsets here are device-relative bytes, never absolute addresses.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple, Sequence

from ..errors import InvalidArgument, NoDevice, NotSupported

FLASH_ERASE_CAPS_UNSET = -1
FLASH_ERASE_C_EXPLICIT = 0x01
FLASH_ERASE_C_SUPPORTED = 0x02
FLASH_ERASE_C_VAL_BIT = 0x04
FLASH_ERASE_UNIFORM_PAGE = 0x08


@dataclass(frozen=True)
class FlashCaps:
    """``struct flash_parameters.caps``."""

    no_explicit_erase: bool = False


@dataclass(frozen=True)
class FlashParameters:
    """``struct flash_parameters`` plus ``multi_program`` [fs] (docs/device.md §3.1)."""

    write_block_size: int = 1
    erase_value: int = 0xFF
    caps: FlashCaps = field(default_factory=FlashCaps)
    multi_program: bool = False


def flash_params_get_erase_cap(params: FlashParameters) -> int:
    """DEV-1: ``FLASH_ERASE_C_EXPLICIT`` for explicit-erase devices, else 0."""
    return 0 if params.caps.no_explicit_erase else FLASH_ERASE_C_EXPLICIT


class PageInfo(NamedTuple):
    """``struct flash_pages_info``: one erase page (device-relative offset, bytes, 0-based index)."""

    start_offset: int
    size: int
    # Zephyr's field name; it shadows tuple.index, which nobody calls on a PageInfo
    index: int  # type: ignore[assignment]


#: Caps on declared geometry (InvalidArgument beyond): a device model keeps a few bytes of
#: state per erase page, and the image itself only where it is written (sparse backing).
MAX_PAGE_COUNT = 1 << 22          # erase pages per device
MAX_DEVICE_SIZE = 1 << 40         # bytes per device


class PageLayout:
    """Runs of ``(pages_count, pages_size)`` in address order (``struct flash_pages_layout``).

    Kept as runs, never as a list per page, so a declared layout costs memory per run.
    Raises InvalidArgument (EINVAL) for an empty layout, a run with count or size < 1, a
    page size that is not a multiple of ``write_block_size`` (DEV-4, DEV-14), more than
    :data:`MAX_PAGE_COUNT` pages or more than :data:`MAX_DEVICE_SIZE` bytes.
    """

    def __init__(self, runs: Sequence[tuple[int, int]], write_block_size: int = 1):
        runs = tuple((int(c), int(s)) for c, s in runs)
        if not runs:
            raise InvalidArgument("page layout is empty")
        starts, firsts = [], []          # per run: device offset and index of its first page
        off = index = 0
        for count, size in runs:
            if count < 1 or size < 1:
                raise InvalidArgument(f"page layout run ({count}, {size}): count and size must be >= 1")
            if size % write_block_size:
                raise InvalidArgument(
                    f"erase page size {size} is not a multiple of write block size {write_block_size}")
            starts.append(off)
            firsts.append(index)
            off += count * size
            index += count
        if index > MAX_PAGE_COUNT:
            raise InvalidArgument(f"page layout declares {index} erase pages; at most "
                                  f"{MAX_PAGE_COUNT} are supported")
        if off > MAX_DEVICE_SIZE:
            raise InvalidArgument(f"page layout declares {off:#x} bytes; at most "
                                  f"{MAX_DEVICE_SIZE:#x} are supported")
        self.runs = runs
        self.size = off
        self._run_starts = starts
        self._run_firsts = firsts
        self._count = index
        self.uniform_page_size = runs[0][1] if len(runs) == 1 else None

    @property
    def page_count(self) -> int:
        return self._count

    def _info(self, r: int, k: int) -> PageInfo:
        """Page ``k`` of run ``r``."""
        size = self.runs[r][1]
        return PageInfo(self._run_starts[r] + k * size, size, self._run_firsts[r] + k)

    def index_of(self, off: int) -> int:
        """Index of the page containing device offset ``off`` (0 <= off < size; unchecked)."""
        if self.uniform_page_size is not None:
            return off // self.uniform_page_size
        r = bisect.bisect_right(self._run_starts, off) - 1
        return self._run_firsts[r] + (off - self._run_starts[r]) // self.runs[r][1]

    def by_offset(self, off: int) -> PageInfo:
        """Page containing ``off``; EINVAL if ``off < 0`` or ``off >= size``."""
        if off < 0 or off >= self.size:
            raise InvalidArgument(f"offset {off:#x} outside device of {self.size:#x} bytes")
        r = bisect.bisect_right(self._run_starts, off) - 1
        return self._info(r, (off - self._run_starts[r]) // self.runs[r][1])

    def by_index(self, idx: int) -> PageInfo:
        """Page ``idx``; EINVAL if ``idx < 0`` or ``idx >= page_count``."""
        if idx < 0 or idx >= self._count:
            raise InvalidArgument(f"page index {idx} outside 0..{self._count - 1}")
        r = bisect.bisect_right(self._run_firsts, idx) - 1
        return self._info(r, idx - self._run_firsts[r])

    def is_boundary(self, off: int) -> bool:
        """DEV-7: start of a page, or the device size."""
        if off == self.size:
            return True
        if off < 0 or off > self.size:
            return False
        r = bisect.bisect_right(self._run_starts, off) - 1
        return (off - self._run_starts[r]) % self.runs[r][1] == 0

    def pages(self, off: int = 0, end: int | None = None) -> Iterator[PageInfo]:
        """From the page containing ``off`` (``off`` is normally a page start) to the last page
        starting before ``end`` (all pages by default), ascending."""
        end = self.size if end is None else end
        if off >= self.size:
            return
        r = bisect.bisect_right(self._run_starts, max(off, 0)) - 1
        k = (max(off, 0) - self._run_starts[r]) // self.runs[r][1]
        while r < len(self.runs):
            count, size = self.runs[r]
            while k < count:
                start = self._run_starts[r] + k * size
                if start >= end:
                    return
                yield PageInfo(start, size, self._run_firsts[r] + k)
                k += 1
            r, k = r + 1, 0


class FlashDevice:
    """Interface of a flash device (driver layer), with the generic helpers built on it.

    Subclasses provide ``name``, ``parameters``, ``layout`` (:class:`PageLayout`),
    ``program_page_size``, ``is_ready`` and the three operations ``read``, ``write``,
    ``erase``. Offsets and lengths are device-relative bytes. Errors are
    ``flashstack.errors`` exceptions carrying errno (docs/device.md §3.3).
    """

    name: str = "flash"
    parameters: FlashParameters
    layout: PageLayout
    program_page_size: int = 256
    fill_buffer_size: int = 32
    erase_supported: bool = True

    # --- operations (subclass) -------------------------------------------------
    def read(self, off: int, n: int) -> bytes:
        """``n`` bytes at device offset ``off`` (Zephyr ``flash_read``). EINVAL out of range,
        ENODEV when closed."""
        raise NotImplementedError

    def write(self, off: int, data) -> None:
        """Program the bytes-like ``data`` at device offset ``off`` (``flash_write``). EINVAL
        (range, write-block alignment), EROFS, ENODEV, EIO."""
        raise NotImplementedError

    def erase(self, off: int, n: int) -> None:
        """Erase ``[off, off+n)``, both ends on erase-page boundaries (``flash_erase``).
        EINVAL, ENOSYS (no erase), EROFS, ENODEV, EIO."""
        raise NotImplementedError

    @property
    def is_ready(self) -> bool:
        """``device_is_ready``: False once closed (operations then raise ENODEV)."""
        return True

    # --- geometry ---------------------------------------------------------------
    @property
    def size(self) -> int:
        """Total size in bytes (sum of the erase pages)."""
        return self.layout.size

    @property
    def write_block_size(self) -> int:
        """Write block in bytes: offsets and lengths of a write are multiples of it."""
        return self.parameters.write_block_size

    @property
    def erase_value(self) -> int:
        """Byte value of erased flash (0xFF for NOR)."""
        return self.parameters.erase_value

    @property
    def explicit_erase(self) -> bool:
        """True unless the device is RAM-like (``FLASH_ERASE_C_EXPLICIT`` capability)."""
        return not self.parameters.caps.no_explicit_erase

    @property
    def page_count(self) -> int:
        """Number of erase pages."""
        return self.layout.page_count

    def page_info_by_offset(self, off: int) -> PageInfo:
        """The erase page containing device offset ``off``; EINVAL outside the device."""
        return self.layout.by_offset(off)

    def page_info_by_index(self, idx: int) -> PageInfo:
        """Erase page number ``idx`` (0-based); EINVAL outside ``0..page_count-1``."""
        return self.layout.by_index(idx)

    def pages(self) -> Iterator[PageInfo]:
        """Every erase page, ascending offset."""
        return self.layout.pages()

    def page_foreach(self, cb: Callable[[PageInfo, object], bool], data=None) -> None:
        """``flash_page_foreach``: ``cb(info, data)`` per page, ascending; stops at a falsy return."""
        for info in self.layout.pages():
            if not cb(info, data):
                return

    # --- composite operations (flash_util.c) ------------------------------------
    def fill(self, value: int, off: int, n: int) -> None:
        """DEV-11: write ``value`` over ``[off, off+n)`` in ``fill_buffer_size`` chunks, one write each."""
        wbs = self.write_block_size
        fbs = self.fill_buffer_size
        if fbs < wbs or fbs % wbs:
            raise InvalidArgument(f"{self.name}: fill buffer {fbs} is not a multiple of write block {wbs}")
        if off < 0 or n < 0 or off % wbs or n % wbs:
            raise InvalidArgument(f"{self.name}: fill at {off:#x} len {n}: negative or not aligned "
                                  f"to write block {wbs}")
        chunk = bytes([value & 0xFF]) * fbs
        end = off + n
        while off < end:
            step = min(fbs, end - off)
            self.write(off, chunk[:step])
            off += step

    def flatten(self, off: int, n: int) -> None:
        """DEV-12: erase on explicit-erase devices, fill with the erase value on RAM-like ones."""
        if not self.explicit_erase:
            self.fill(self.erase_value, off, n)
        elif not self.erase_supported:
            raise NotSupported(f"{self.name}: device has no erase operation")
        else:
            self.erase(off, n)

    def copy(self, src_off: int, dst: "FlashDevice", dst_off: int, size: int, buf_size: int = 32) -> None:
        """DEV-13 ``flash_copy`` from this device to ``dst`` (see :func:`copy`)."""
        copy(self, src_off, dst, dst_off, size, buf_size)

    def close(self) -> None:
        """Release the device; afterwards it is not ready."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def copy(src: FlashDevice, src_off: int, dst: FlashDevice, dst_off: int, size: int,
         buf_size: int = 32) -> None:
    """DEV-13 ``flash_copy``: copy ``size`` bytes between devices (or within one) in
    ``buf_size`` chunks, splitting on the destination write block and padding the tail
    with the destination erase value. The caller erases the destination first.

    Errors: EINVAL (negative offsets/size, buf_size <= 0 or not a write-block multiple,
    overlapping ranges on one device, out of range), ENODEV (a device is closed).
    """
    if src_off < 0 or dst_off < 0 or size < 0 or buf_size <= 0:
        raise InvalidArgument(f"copy {src.name}@{src_off:#x} -> {dst.name}@{dst_off:#x} "
                              f"len {size} buf {buf_size}: negative argument")
    if src is dst:
        if src_off == dst_off:
            return
        if src_off < dst_off + size and dst_off < src_off + size:
            raise InvalidArgument(f"copy on {src.name}: ranges {src_off:#x} and {dst_off:#x} "
                                  f"of {size} bytes overlap")
    if not src.is_ready or not dst.is_ready:
        raise NoDevice(f"copy {src.name} -> {dst.name}: device not ready")
    wbs = dst.write_block_size
    if buf_size < wbs or buf_size % wbs:
        raise InvalidArgument(f"copy {src.name}@{src_off:#x} -> {dst.name}@{dst_off:#x}: buffer "
                              f"{buf_size} is not a multiple of write block {wbs}")
    # §3.4 step 5, checked up front so that a failing copy writes nothing
    padded = size + (-size % wbs)
    if src_off + size > src.size or dst_off + padded > dst.size:
        raise InvalidArgument(f"copy {src.name}@{src_off:#x} -> {dst.name}@{dst_off:#x} len {size}: "
                              f"range outside device ({src.size:#x} / {dst.size:#x} bytes)")
    left = size
    while left:
        n = min(left, buf_size)
        if n >= wbs:
            n -= n % wbs
            data = src.read(src_off, n)
        else:
            data = src.read(src_off, n) + bytes([dst.erase_value]) * (wbs - n)
        dst.write(dst_off, data)
        src_off += n
        dst_off += n
        left -= n
