"""Fault models of a simulated flash device: power cuts (spec/device.md §5) and
endurance (§6). The device applies them; this module holds their configuration and
the seeded tear arithmetic, so the same inputs always give the same bytes (DEV-33)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import InvalidArgument

ENDURANCE_MODES = ("eio", "stuck")


@dataclass(frozen=True)
class Endurance:
    """Rated erase cycles per erase page and what happens past them (§6).

    ``mode="eio"``: erases that wear a page out, and writes touching a worn-out page,
    fail with EIO (DEV-38). ``mode="stuck"``: each erase of a worn-out page adds
    ``stuck_bits_per_erase`` new stuck bits at seeded positions (DEV-39).
    """

    rated_cycles: int
    mode: str = "eio"
    stuck_bits_per_erase: int = 1
    seed: int = 0

    def __post_init__(self):
        if self.mode not in ENDURANCE_MODES:
            raise InvalidArgument(f"endurance mode {self.mode!r}: expected one of {ENDURANCE_MODES}")
        if self.rated_cycles < 0 or self.stuck_bits_per_erase < 0:
            raise InvalidArgument(f"endurance rated_cycles {self.rated_cycles} / stuck bits "
                                  f"{self.stuck_bits_per_erase} must be >= 0")


class PowerCut:
    """An armed power cut (DEV-31..33): fires at the ``after``-th counted write/erase.

    ``after=None`` only counts. ``rng`` is created at arming from ``seed``.
    """

    __slots__ = ("after", "mode", "tear", "keep", "rng", "count")

    def __init__(self, after: int | None, mode: str, tear: str, keep: int | None, seed: int):
        if after is not None and after < 1:
            raise InvalidArgument(f"power cut after {after} operations (must be >= 1 or None)")
        if mode not in ("clean", "torn") or tear not in ("prefix", "bits"):
            raise InvalidArgument(f"power cut mode {mode!r} / tear {tear!r}: expected "
                                  f"'clean'|'torn' and 'prefix'|'bits'")
        if keep is not None and keep < 0:
            raise InvalidArgument(f"power cut keep={keep} must be >= 0")
        self.after, self.mode, self.tear, self.keep = after, mode, tear, keep
        self.rng = random.Random(seed)
        self.count = 0

    def describe(self) -> str:
        """Short mode name for reports: ``"clean"``, ``"torn/prefix"`` or ``"torn/bits"``."""
        return self.mode if self.mode == "clean" else f"torn/{self.tear}"

    def torn_write(self, old: bytes, full: bytes) -> tuple[bytes, int]:
        """The bytes a torn write leaves over ``old`` when it would have left ``full``.

        Returns ``(new, applied)``: prefix tear keeps the first ``k`` bytes of ``full``
        (``applied = k``); bit tear applies each changing bit with probability 1/2
        (``applied`` = bits applied). Only bits the full write changes can change.
        """
        n = len(full)
        if self.tear == "prefix":
            k = self.keep if self.keep is not None else self.rng.randrange(n)
            k = min(k, n)
            return full[:k] + old[k:], k
        return tear_bits(self.rng, old, full)


def tear_bits(rng: random.Random, old: bytes, target: bytes) -> tuple[bytes, int]:
    """Move each bit where ``old`` and ``target`` differ to ``target`` with probability 1/2.

    Returns the new bytes and the number of bits moved.
    """
    n = len(old)
    a = int.from_bytes(old, "little")
    mask = rng.getrandbits(n * 8) & (a ^ int.from_bytes(target, "little"))
    return (a ^ mask).to_bytes(n, "little"), mask.bit_count()


class StuckBits:
    """Stuck bits of worn-out erase pages (DEV-39): ``pages`` maps a page index to
    ``{device offset: mask of stuck bits}``. A stuck bit holds the programmed state, the
    complement of the erase value's bit, whatever erase or program do. Positions come from
    ``random.Random(seed)``, so a given workload always sticks the same bits."""

    __slots__ = ("pages", "rng", "erase_value")

    def __init__(self, erase_value: int, seed: int = 0):
        self.pages: dict[int, dict[int, int]] = {}
        self.rng = random.Random(seed)
        self.erase_value = erase_value

    def add(self, start_offset: int, size: int, index: int, count: int) -> None:
        """Stick ``count`` new bits (not already stuck) in the page at ``start_offset``."""
        stuck = self.pages.setdefault(index, {})
        free = size * 8 - sum(m.bit_count() for m in stuck.values())
        for _ in range(min(count, free)):
            while True:
                pos = self.rng.randrange(size * 8)
                o, bit = start_offset + pos // 8, 1 << (pos % 8)
                if not stuck.get(o, 0) & bit:
                    stuck[o] = stuck.get(o, 0) | bit
                    break

    def count(self, index: int) -> int:
        """Stuck bits in page ``index``."""
        return sum(m.bit_count() for m in self.pages.get(index, {}).values())

    def _in(self, start: int, end: int):
        for page in self.pages.values():
            for o, mask in page.items():
                if start <= o < end:
                    yield o, mask

    def apply(self, buf, start: int, end: int) -> None:
        """Force the stuck bits of ``[start, end)`` in ``buf`` to the programmed state."""
        ff = self.erase_value == 0xFF
        for o, mask in self._in(start, end):
            buf[o] = (buf[o] & ~mask & 0xFF) if ff else (buf[o] | mask)

    def unstuck(self, off: int, old) -> bytes:
        """``old`` (the bytes at ``off``) with its stuck bits read as the erase value."""
        b = bytearray(old)
        ff = self.erase_value == 0xFF
        for o, mask in self._in(off, off + len(b)):
            i = o - off
            b[i] = (b[i] | mask) if ff else (b[i] & ~mask & 0xFF)
        return bytes(b)
