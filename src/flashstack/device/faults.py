"""Fault models of a simulated flash device: power cuts (docs/device.md §5) and
endurance (§6). The device applies them; this module holds their configuration and
the seeded tear arithmetic, so the same inputs always give the same bytes (DEV-33)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import InvalidArgument

ENDURANCE_MODES = ("eio", "stuck")
#: How a torn write tears: "prefix" (a kept prefix), "bits" (each changing bit with
#: probability 1/2), "unstable" (bits left half-programmed, read differently each time).
TEAR_KINDS = ("prefix", "bits", "unstable")


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
        if mode not in ("clean", "torn") or tear not in TEAR_KINDS:
            raise InvalidArgument(f"power cut mode {mode!r} / tear {tear!r}: expected "
                                  f"'clean'|'torn' and {'|'.join(map(repr, TEAR_KINDS))}")
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
        if self.tear == "unstable":
            new, _unstable, applied = tear_unstable(self.rng, old, full)
            return new, applied
        return tear_bits(self.rng, old, full)


def tear_bits(rng: random.Random, old: bytes, target: bytes) -> tuple[bytes, int]:
    """Move each bit where ``old`` and ``target`` differ to ``target`` with probability 1/2.

    Returns the new bytes and the number of bits moved.
    """
    n = len(old)
    a = int.from_bytes(old, "little")
    mask = rng.getrandbits(n * 8) & (a ^ int.from_bytes(target, "little"))
    return (a ^ mask).to_bytes(n, "little"), mask.bit_count()


def tear_unstable(rng: random.Random, old: bytes, target: bytes) -> tuple[bytes, bytes, int]:
    """An unstable-bits tear: of the bits where ``old`` and ``target`` differ, about a third
    land, a third stay as they were and a third are left unstable (Zephyr PR#103452: a cut
    inside a program leaves cells between the two states). Returns ``(stored bytes, mask of
    unstable bits, bits landed)``; an unstable bit is stored with its old value."""
    n = len(old)
    a = int.from_bytes(old, "little")
    diff = a ^ int.from_bytes(target, "little")
    r1, r2 = rng.getrandbits(n * 8), rng.getrandbits(n * 8)
    unstable = diff & r1 & r2
    landed = diff & ~unstable & rng.getrandbits(n * 8)
    return ((a ^ landed).to_bytes(n, "little"), unstable.to_bytes(n, "little"),
            landed.bit_count())


class UnstableBits:
    """Bits a cut program left half-programmed: each read returns a seeded random value for
    them, until an erase of their page, or a program that sets them to the programmed state,
    settles them. ``bits`` maps a device offset to its mask of unstable bits."""

    __slots__ = ("bits", "rng", "erase_value")

    def __init__(self, erase_value: int, seed: int = 0):
        self.bits: dict[int, int] = {}
        self.rng = random.Random(seed)
        self.erase_value = erase_value

    def add(self, off: int, mask: bytes, seed: int) -> None:
        """Make the bits set in ``mask`` (bytes at device offset ``off``) unstable."""
        self.rng = random.Random(seed)
        for i, m in enumerate(mask):
            if m:
                self.bits[off + i] = self.bits.get(off + i, 0) | m

    def scramble(self, off: int, data: bytes) -> bytes:
        """``data`` read at ``off`` with its unstable bits drawn at random."""
        out = None
        for o, m in self._in(off, off + len(data)):
            if out is None:
                out = bytearray(data)
            out[o - off] ^= self.rng.getrandbits(8) & m
        return data if out is None else bytes(out)

    def programmed(self, off: int, data: bytes) -> None:
        """A program of ``data`` at ``off`` settles the unstable bits it sets programmed."""
        ff = self.erase_value == 0xFF
        for o, m in self._in(off, off + len(data)):
            d = data[o - off]
            left = m & (d if ff else ~d & 0xFF)
            if left:
                self.bits[o] = left
            else:
                del self.bits[o]

    def erased(self, start: int, end: int) -> None:
        """An erase of ``[start, end)`` settles every bit in it."""
        for o, _ in self._in(start, end):
            del self.bits[o]

    def _in(self, start: int, end: int) -> list[tuple[int, int]]:
        bits = self.bits
        if end - start < len(bits):
            return [(o, bits[o]) for o in range(start, end) if o in bits]
        return sorted((o, m) for o, m in bits.items() if start <= o < end)


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
