"""Simulated busy time of a flash device (docs/device.md §7). Nothing ever sleeps.

All times are microseconds; offsets and lengths are device-relative bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ..errors import InvalidArgument


@dataclass(frozen=True)
class ChipTiming:
    """Typical chip timings for the busy-time model (docs/device.md §7), in µs.

    ``t_page_program_us``: one program-page program; ``t_byte_first_us`` /
    ``t_byte_next_us``: optional byte-program times (DEV-41); ``t_erase_us``: erase-page
    size in bytes -> time to erase one such page (DEV-42); ``read_setup_us`` +
    ``read_us_per_byte`` per read call (DEV-43). ``per_call`` [fs]: Zephyr simulator style,
    a fixed cost per call (``t_page_program_us`` per write, ``per_call_erase_us`` per
    erase, ``read_setup_us`` per read) whatever the length.
    """

    t_page_program_us: float
    t_erase_us: dict = field(default_factory=dict)
    t_byte_first_us: float | None = None
    t_byte_next_us: float | None = None
    read_setup_us: float = 0.0
    read_us_per_byte: float = 0.0
    per_call: bool = False
    per_call_erase_us: float = 0.0

    def check_layout(self, page_sizes: Iterable[int], device: str = "flash") -> None:
        """Configuration check: one ``t_erase_us`` entry per erase-page size (EINVAL otherwise)."""
        if self.per_call:
            return
        missing = sorted(set(page_sizes) - set(self.t_erase_us))
        if missing:
            raise InvalidArgument(f"{device}: timing has no erase time for {missing} byte erase pages "
                                  f"(has {sorted(self.t_erase_us)}); pass timing= for this layout")

    def write_us(self, off: int, n: int, program_page_size: int) -> float:
        """DEV-41: time to program ``n`` bytes at ``off``, split at program-page boundaries."""
        if self.per_call:
            return self.t_page_program_us
        page = self.t_page_program_us
        first, nxt = self.t_byte_first_us, self.t_byte_next_us
        total = 0.0
        while n:
            piece = min(n, program_page_size - off % program_page_size)
            # DEV-41 byte times come as a pair; without both, a page costs the page time
            total += page if first is None or nxt is None else min(page, first + (piece - 1) * nxt)
            off += piece
            n -= piece
        return total

    def write_cost(self, program_page_size: int):
        """A fast ``(off, n) -> µs`` equal to :meth:`write_us` for this program page size
        (the device's hot path: one program page needs no splitting loop)."""
        pp = program_page_size
        page, first, nxt = self.t_page_program_us, self.t_byte_first_us, self.t_byte_next_us
        slow = self.write_us
        if self.per_call:
            return lambda off, n: page
        if first is None or nxt is None:
            def cost(off: int, n: int) -> float:
                return page if off % pp + n <= pp else slow(off, n, pp)
        else:
            byte_first, byte_next = first, nxt

            def cost(off: int, n: int) -> float:
                if off % pp + n <= pp:
                    c = byte_first + (n - 1) * byte_next
                    return c if c < page else page
                return slow(off, n, pp)
        return cost

    def erase_us(self, page_sizes: Iterable[int]) -> float:
        """DEV-42: Σ erase time over the covered pages (``per_call``: one fixed cost)."""
        if self.per_call:
            return self.per_call_erase_us
        t = self.t_erase_us
        return float(sum(t[s] for s in page_sizes))

    def read_us(self, n: int) -> float:
        """DEV-43: ``read_setup_us + n × read_us_per_byte`` (``per_call``: setup only)."""
        if self.per_call:
            return self.read_setup_us
        return self.read_setup_us + n * self.read_us_per_byte


#: DEV-45 — Zephyr's FLASH_SIMULATOR_MIN_{READ,WRITE,ERASE}_TIME_US defaults (2, 100, 2000 µs).
ZEPHYR_SIM_TIMING = ChipTiming(t_page_program_us=100, read_setup_us=2, per_call=True,
                               per_call_erase_us=2000)

#: §8.1 SPI NOR read model: fast read 0x0B, one lane at 50 MHz (8 + 24 + 8 clocks setup).
SPI_NOR_READ_SETUP_US = 0.8
SPI_NOR_READ_US_PER_BYTE = 0.16
