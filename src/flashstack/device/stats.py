"""Counters and thresholds of a simulated flash device (Zephyr ``flash_sim_stats`` /
``flash_sim_thresholds``; docs/device.md §4.5, DEV-22..DEV-25)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class FlashStats:
    """Zephyr ``flash_sim_stats`` counters plus ``erase_cycles``: one erase counter per erase
    page, for every page (DEV-22). Times are simulated µs. Counters are writable."""

    bytes_read: int = 0
    bytes_written: int = 0
    double_writes: int = 0
    flash_read_calls: int = 0
    flash_read_time_us: float = 0
    flash_write_calls: int = 0
    flash_write_time_us: float = 0
    flash_erase_calls: int = 0
    flash_erase_time_us: float = 0
    erase_cycles: list = field(default_factory=list)

    @property
    def busy_time_us(self) -> float:
        """[fs] Sum of the read, write and erase time counters (µs)."""
        return self.flash_read_time_us + self.flash_write_time_us + self.flash_erase_time_us

    def reset(self) -> None:
        """DEV-23: zero every counter except ``erase_cycles`` (wear is physical state)."""
        for f in fields(self):
            if f.name != "erase_cycles":
                setattr(self, f.name, 0)

    def reset_wear(self) -> None:
        """DEV-23: zero ``erase_cycles``."""
        self.erase_cycles[:] = [0] * len(self.erase_cycles)

    def snapshot(self) -> dict:
        """Counters as a plain dict (``erase_cycles`` copied, ``busy_time_us`` included)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["erase_cycles"] = list(self.erase_cycles)
        d["busy_time_us"] = self.busy_time_us
        return d


@dataclass
class FlashThresholds:
    """Zephyr ``flash_sim_thresholds`` (DEV-24); 0 = inactive. Compared with the live
    ``flash_write_calls`` / ``flash_erase_calls`` counters."""

    max_write_calls: int = 0
    max_erase_calls: int = 0
    max_len: int = 0
