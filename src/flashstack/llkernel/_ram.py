"""Feature RAM placement inside the Kernel's RAM buffer (docs/llkernel.md §8 step 4).

Pure functions over absolute addresses. The primary candidate reproduces the reference's
always-advancing ``align_next`` after the highest live RAM end (MicroEJ KERNEL-FLASH 1.0.3
``LLKERNEL_flash.c``, allocateFeature), so addresses equal the reference's wherever it is
correct; when that does not fit, a first fit over all live ranges (true ``align_up``) replaces
the reference's failure or overlap (§18 rows 3-6).
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["align_next", "align_up", "clip_ranges", "torn_ram_size", "place_ram"]


def align_next(x: int, align: int) -> int:
    """``(x & ~(align - 1)) + align``: the reference's next boundary, always > ``x``."""
    return (x & ~(align - 1)) + align


def align_up(x: int, align: int) -> int:
    """Smallest multiple of ``align`` (a power of two) that is >= ``x``."""
    return (x + align - 1) & ~(align - 1)


def clip_ranges(ranges: Iterable[tuple[int, int]], base: int, size: int) -> list[tuple[int, int]]:
    """Clip ``[start, end)`` ranges (absolute addresses) to the buffer ``[base, base + size)``.

    Dropped: ranges entirely outside (torn or foreign headers, spec §8 step 4) and **[fs]**
    ranges longer than the buffer (torn ``ram_size``, see :func:`torn_ram_size`). An empty
    range is kept when its start lies inside.
    """
    end_buf = base + size
    out = []
    for s, e in ranges:
        if torn_ram_size(e - s, size):
            continue
        if s == e:
            if base <= s < end_buf:
                out.append((s, s))
        elif s < end_buf and e > base and e > s:
            out.append((max(s, base), min(e, end_buf)))
    return out


def torn_ram_size(ram_size: int, buf_size: int) -> bool:
    """**[fs]** A stored ``ram_size`` larger than the RAM buffer (``buf_size`` bytes) is torn.

    No allocation writes one (the reference and flashstack both refuse ``size_RAM > buffer``),
    but a header program cut after the USED status leaves ``ram_size`` erased (0xFFFFFFFF) or
    with erased high bytes. Clipped, such a range would cover the buffer from ``ram_address``
    to its end and block every allocation until the Kernel frees the torn Feature (torture
    finding L1); ignoring it is what spec §13 asks for a torn header's RAM range.
    """
    return ram_size > buf_size


def place_ram(live: Iterable[tuple[int, int]], size: int, base: int, buf_size: int,
              align: int) -> int | None:
    """Start address for a ``size``-byte RAM area in the buffer ``[base, base + buf_size)``
    (absolute addresses, or offsets with ``base = 0``), or None when nothing fits.

    ``live``: ``[start, end)`` of every USED Feature (clipped here). With none, ``base``;
    else ``align_next(max end)`` if the area fits before the buffer end; else the lowest
    ``align``-multiple at or above ``base`` whose range overlaps no live range and ends inside
    the buffer. A zero-size area still needs its address inside the buffer and outside
    every live range.
    """
    ranges = clip_ranges(live, base, buf_size)
    end_buf = base + buf_size
    need = max(size, 1)
    c = align_next(max(e for _, e in ranges), align) if ranges else base
    if c + need <= end_buf:
        return c
    busy = [(s, e) for s, e in ranges if e > s]
    for c in sorted({base} | {align_up(e, align) for _, e in busy}):
        if c + need > end_buf:
            break
        if all(e <= c or s >= c + need for s, e in busy):
            return c
    return None
