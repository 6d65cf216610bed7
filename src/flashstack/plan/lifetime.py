"""Measure write amplification and wear of a store under a workload; extrapolate lifetime.

Method: on a fresh simulated partition of the candidate size, write every key once (the
live set), zero the wear counters, then apply ``sample_writes`` updates to keys drawn
uniformly (seeded). The most-erased page's cycles per update, times updates per day, gives
days until that page reaches the chip's rated cycles. GC is part of the measured updates, so
its erases and copies are counted; nothing is estimated from formulas.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from ..device import SimulatedFlash
from ..errors import FlashError, InvalidArgument, NoSpace
from ..flash_map import FlashArea


def stores() -> tuple[str, ...]:
    """Names of the registered store kinds that have a plan adapter (alios-kv, zephyr-nvs)."""
    from .. import stores as registry
    return tuple(k.name for k in registry.kinds() if k.plan is not None)


def adapter(store: str):
    """The plan adapter of ``store`` (a kind name or alias); EINVAL when it has none."""
    from .. import stores as registry
    kind = registry.find(store)
    if kind is None or kind.plan is None:
        raise InvalidArgument(f"store {store!r}: choose one of {', '.join(stores())}")
    return kind.plan
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Workload:
    """A steady write pattern: ``keys`` live keys of ``key_size`` + ``value_size`` bytes,
    ``writes_per_day`` updates spread uniformly over the keys."""

    keys: int = 100
    key_size: int = 16
    value_size: int = 32
    writes_per_day: float = 1000.0

    def check(self) -> None:
        """InvalidArgument (EINVAL) for counts or sizes out of range, or more keys than
        ``key_size`` bytes can tell apart."""
        if self.keys < 1 or self.key_size < 1 or self.value_size < 0 or self.writes_per_day <= 0:
            raise InvalidArgument(f"workload {self}: keys and key size must be >= 1, value size >= 0, "
                                  f"writes per day > 0")
        if self.keys > 256 ** self.key_size:
            raise InvalidArgument(f"workload {self}: {self.keys} distinct keys do not fit in "
                                  f"{self.key_size} byte(s)")

    def key(self, i: int) -> bytes:
        """Key ``i`` (0 <= i < keys), ``key_size`` bytes, distinct for every i: ``k0007`` when
        every index fits that form, else ``i`` as big-endian bytes (so keys never collide)."""
        if self.key_size > 1 and self.keys <= 10 ** (self.key_size - 1):
            return f"k{i:0{self.key_size - 1}d}".encode()
        return i.to_bytes(self.key_size, "big")

    def value(self, i: int, version: int) -> bytes:
        seed = f"{i}:{version}:".encode()
        return (seed * (self.value_size // len(seed) + 1))[:self.value_size]


@dataclass
class Candidate:
    """One measured partition size. Sizes in bytes; ``lifetime_years`` None when it does not fit."""

    size: int
    units: int
    unit_size: int
    fits: bool
    reason: str = ""
    write_amplification: float | None = None
    erases_per_1000_writes: float | None = None
    max_page_cycles_per_write: float | None = None
    wear_max_over_mean: float | None = None
    lifetime_years: float | None = None
    meets_target: bool = False
    page_cycles: list = field(default_factory=list, repr=False)
    wear_unit: str = "erase cycles"   # "page rewrites" on erase-less devices


@dataclass
class PlanReport:
    """The answer: every candidate measured and the smallest that meets capacity and lifetime."""

    store: str
    chip: str
    erase_page: int
    write_block: int
    rated_cycles: int
    workload: dict
    target_years: float
    sample_writes: int
    candidates: list = field(default_factory=list)
    recommended: Candidate | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        d["recommended"] = asdict(self.recommended) if self.recommended else None
        return d


class _RewriteCounter(SimulatedFlash):
    """An erase-less (RRAM-like) device that also counts the bytes written into each page:
    there, wear is cell writes, and bytes written into a page / page size is the number of
    times the page was rewritten (for ZMS: about one per sector restart)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.page_bytes = [0] * self.layout.page_count

    def write(self, off, data):
        super().write(off, data)
        page = self.layout.uniform_page_size
        if page:
            first, last = off // page, (off + len(data) - 1) // page
            for i in range(first, last + 1):
                lo, hi = max(off, i * page), min(off + len(data), (i + 1) * page)
                self.page_bytes[i] += hi - lo

    def reset_wear(self) -> None:
        self.page_bytes = [0] * self.layout.page_count


def measure(store: str, units: int, unit_size: int, workload: Workload, *, write_block: int = 1,
            rated_cycles: int = 100_000, sample_writes: int = 5000, seed: int = 0,
            target_years: float = 10.0, erase_less: bool = False, progress=None) -> Candidate:
    """Run ``workload`` on a fresh ``units`` x ``unit_size`` store and measure its wear.

    ``store`` is "alios-kv" (``unit_size`` = KV block), "zephyr-nvs" or "zephyr-zms"
    (sector). ``erase_less``: a RAM-like device (RRAM, MRAM) that is never erased; a page's
    wear is then the bytes written into it divided by its size (``page_cycles`` and
    ``rated_cycles`` count rewrites instead of erases). Errors from the store's configuration
    checks (EINVAL) are reported as a non-fitting candidate. ``progress(done, total)`` is
    called every 256 sampled updates and after the last.
    """
    ad = adapter(store)
    size = units * unit_size
    cand = Candidate(size=size, units=units, unit_size=unit_size, fits=False)
    cls = _RewriteCounter if erase_less else SimulatedFlash
    dev = cls(size, erase_page_size=unit_size, write_block_size=write_block,
              allow_double_writes=ad.double_writes, explicit_erase=not erase_less, name="plan")
    area = FlashArea(0, 0, size, dev, label="plan")
    try:
        put = ad.open(area, unit_size)
        for i in range(workload.keys):
            put(ad.key(workload, i), workload.value(i, 0))
        dev.stats.reset()
        dev.stats.reset_wear()
        if isinstance(dev, _RewriteCounter):
            dev.reset_wear()
        rng = random.Random(seed)
        for n in range(1, sample_writes + 1):
            i = rng.randrange(workload.keys)
            put(ad.key(workload, i), workload.value(i, n))
            if progress and (n % 256 == 0 or n == sample_writes):
                progress(n, sample_writes)
    except NoSpace as e:
        cand.reason = f"live set does not fit: {e.strerror}"
        return cand
    except FlashError as e:
        cand.reason = e.strerror
        return cand
    if isinstance(dev, _RewriteCounter):
        rewrites = [b / unit_size for b in dev.page_bytes]
        cand.page_cycles = [round(r) for r in rewrites]
        cand.wear_unit = "page rewrites"
        cycles: list = rewrites
    else:
        cycles = list(dev.stats.erase_cycles)
        cand.page_cycles = cycles
    user_bytes = sample_writes * ad.user_bytes(workload)
    mean = sum(cycles) / len(cycles)
    per_write = max(cycles) / sample_writes
    cand.fits = True
    cand.write_amplification = dev.stats.bytes_written / user_bytes if user_bytes else None
    cand.erases_per_1000_writes = 1000 * dev.stats.flash_erase_calls / sample_writes
    cand.max_page_cycles_per_write = per_write
    cand.wear_max_over_mean = max(cycles) / mean if mean else None
    if per_write:
        days = rated_cycles / (per_write * workload.writes_per_day)
        cand.lifetime_years = days / _DAYS_PER_YEAR
    else:
        cand.lifetime_years = float("inf")
    cand.meets_target = cand.lifetime_years >= target_years
    return cand


def plan(store: str = "alios-kv", *, chip: str = "w25q128jv", workload: Workload | None = None,
         target_years: float = 10.0, max_size: int | None = None, unit_size: int | None = None,
         sample_writes: int = 5000, seed: int = 0, progress=None, erase_page: int | None = None,
         write_block: int | None = None, erase_less: bool = False) -> PlanReport:
    """Measure candidate partition sizes (2, 3, 4, 6, 8, ... units up to ``max_size`` bytes,
    default 64 units) and recommend the smallest that holds the live set and lasts
    ``target_years``. ``unit_size`` defaults to the smallest unit the store accepts on the
    chip (the erase page; at least 4 KiB for the AliOS KV, whose block must also hold one
    maximum item); a given one must be accepted by the store (a whole number of erase pages,
    at least its minimum). ``erase_page`` / ``write_block`` (bytes) override the chip's, for
    planning a real partition of a board (``write_block`` e.g. 16 for the nRF54L RRAM).
    ``erase_less`` measures on a RAM-like device (see :func:`measure`). ``progress(done,
    total)`` is called after each candidate. Errors: NotFound (ENOENT) for a chip neither the
    built-in table nor spiflash knows (:func:`flashstack.device.chips.lookup`), EINVAL for a
    bad workload, store or unit.
    """
    from ..device import chips
    ad = adapter(store)
    workload = workload or Workload()
    workload.check()
    c = chips.lookup(chip)
    page = erase_page or min(s for _, s in c.layout)
    wb = write_block or c.write_block_size
    unit = unit_size or ad.min_unit(page)
    why = ad.refuse(unit, page)
    if why:
        raise InvalidArgument(f"--unit-size: {why} ({c.key}); the store would refuse this layout")
    rated = c.rated_cycles or 100_000
    limit_units = (max_size // unit) if max_size else 64
    counts = [n for n in (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 255) if n <= limit_units]
    if not counts:
        raise InvalidArgument(f"max size {max_size} holds fewer than 2 units of {unit} bytes")
    report = PlanReport(store=store, chip=c.key, erase_page=page, write_block=wb,
                        rated_cycles=rated, workload=asdict(workload), target_years=target_years,
                        sample_writes=sample_writes)
    for done, n in enumerate(counts, 1):
        cand = measure(store, n, unit, workload, write_block=wb, rated_cycles=rated,
                       sample_writes=sample_writes, seed=seed, target_years=target_years,
                       erase_less=erase_less)
        report.candidates.append(cand)
        if progress:
            progress(done, len(counts))
        if cand.meets_target:
            report.recommended = cand
            break
    return report
