"""The power-loss campaign engine.

A campaign runs a seeded workload once with the device counting flash operations (step 0 is
the mount of the erased partition), then, for every selected cut point (a 1-based flash
operation number across the whole run) and every tear mode, reproduces the state at the cut,
restores power, remounts a store from the image alone and checks the target's invariants.

Cost per cut does not grow with the cut's position: before each step that holds cut points
the runner checkpoints the image (``dev.snapshot()``) and the store's RAM state
(:mod:`.checkpoint`), and a cut replays only the step it falls in. Results are keyed by cut
point and tear mode and merged in that order, so they are the same for any number of jobs.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..device.simulated import unstable_key
from ..errors import InvalidArgument, PowerLoss
from .checkpoint import Frozen, freeze, thaw
from .limits import classify
from .report import Failure, Report, reproducer
from .target import Target, describe_op

__all__ = ["TEARS", "split_tear", "Campaign", "Plan", "Failure", "CutOutcome", "ChunkResult", "Report",
           "Runner", "plan", "select_points", "run_chunk", "run_campaign", "reproducer"]

#: tear mode name -> ``arm_power_cut`` (mode, tear) (docs/device.md DEV-32).
TEARS = {"clean": ("clean", "prefix"), "prefix": ("torn", "prefix"), "bits": ("torn", "bits"),
         "unstable": ("torn", "unstable")}
_TEAR_ORDER = {name: i for i, name in enumerate(TEARS)}
_MASK = 0xFFFFFFFF


@dataclass(frozen=True)
class Campaign:
    """One power-loss campaign (picklable; everything a worker needs).

    ``cuts`` None tries every flash operation of the run; an int tries a seeded sample of that
    many operations. Every tried operation is cut once per mode in ``tears``, and torn modes
    ``tear_samples`` times with different tear seeds (variant ``v`` of mode ``prefix`` is named
    ``prefix:v``; variant 0 is plain ``prefix``). ``gc_check`` is the fraction (0..1) of
    passing cuts that also drive the remounted store through a full GC cycle
    (:meth:`Target.exercise`); the choice per cut is seeded, 1.0 means every cut.
    """

    target: Target
    workload: str = "mixed"
    ops: int = 500
    seed: int = 0
    cuts: int | None = None
    tears: tuple = ("clean", "prefix", "bits")
    gc_check: float = 1.0
    tear_samples: int = 1

    def __post_init__(self):
        bad = [t for t in self.tears if t not in TEARS]
        if bad or not self.tears:
            raise InvalidArgument(f"tear modes {list(self.tears)}: choose from {', '.join(TEARS)}")
        if not 0.0 <= self.gc_check <= 1.0:
            raise InvalidArgument(f"gc_check {self.gc_check}: a fraction in 0..1")
        if self.tear_samples < 1:
            raise InvalidArgument(f"tear_samples {self.tear_samples}: at least 1")
        if self.cuts is not None and self.cuts < 1:
            raise InvalidArgument(f"cuts {self.cuts}: at least 1 (or None for all)")

    def steps(self) -> list:
        """Step 0 mounts the erased partition; step i >= 1 is workload operation i."""
        return [("mount",)] + list(self.target.workload(self.workload, self.ops, self.seed))


def _mix(*values: int) -> int:
    h = 0x811C9DC5
    for v in values:
        h = ((h ^ (v & _MASK)) * 0x01000193) & _MASK
        h ^= h >> 15
    return h


def split_tear(tear: str) -> tuple[str, int]:
    """``"prefix:2"`` -> ``("prefix", 2)``, ``"bits"`` -> ``("bits", 0)``; EINVAL otherwise."""
    base, _, v = tear.partition(":")
    if base not in TEARS or (v and (not v.isdigit() or base == "clean")):
        raise InvalidArgument(f"tear mode {tear!r}: one of {', '.join(TEARS)}, a torn mode may "
                              "carry a variant (prefix:1)")
    return base, int(v or 0)


def _tear_key(tear: str) -> tuple[int, ...]:
    base, v = split_tear(tear)
    return (_TEAR_ORDER[base], v) if v else (_TEAR_ORDER[base],)


def cut_seed(seed: int, index: int, tear: str) -> int:
    """The seed given to ``arm_power_cut`` for cut ``index`` in mode ``tear`` (with variant)."""
    return _mix(seed, index, *_tear_key(tear))


def _gc_selected(campaign: Campaign, index: int, tear: str) -> bool:
    if campaign.gc_check >= 1.0:
        return True
    return _mix(campaign.seed, index, *_tear_key(tear), 0x6C) / (_MASK + 1) < campaign.gc_check


@dataclass
class Plan:
    """The uncut run: flash operations per step and what the run itself got wrong."""

    steps: list
    counts: list
    violations: list
    _cum: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def total(self) -> int:
        return sum(self.counts)

    def locate(self, index: int) -> tuple[int, int]:
        """``(step, k)`` of global flash operation ``index`` (1-based); EINVAL out of range."""
        if not 1 <= index <= self.total:
            raise InvalidArgument(f"cut {index} outside 1..{self.total} (the run has {self.total} "
                                  f"flash operations)")
        ends = self._ends()
        step = bisect.bisect_left(ends, index)
        return step, index - (ends[step - 1] if step else 0)

    def _ends(self) -> list[int]:
        if self._cum is None or len(self._cum) != len(self.counts):
            self._cum = list(itertools.accumulate(self.counts))
        return self._cum


@dataclass
class CutOutcome:
    """Everything one cut produced (kept by replay; campaigns keep only failures)."""

    index: int
    tear: str
    step: int
    k: int
    op: tuple
    violations: list
    notes: list
    gc_checked: bool
    power_loss: str = ""
    cut_at: tuple = ()  # (kind, offset, length) of the interrupted operation, partition-relative
    reused: bool = False  # verdict taken from an earlier cut of the step with the same image
    image_before: bytes = b""
    image_cut: bytes = b""
    image_mounted: bytes = b""
    store: object = None


@dataclass
class ChunkResult:
    """Merged counters of a set of cuts."""

    tried: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    gc_checked: int = 0
    reused: int = 0
    failures: list = field(default_factory=list)

    def merge(self, other: "ChunkResult") -> None:
        self.reused += other.reused
        self.tried.update(other.tried)
        self.failed.update(other.failed)
        self.notes.update(other.notes)
        self.gc_checked += other.gc_checked
        self.failures.extend(other.failures)

    def add(self, out: CutOutcome) -> None:
        base = split_tear(out.tear)[0]
        self.tried[base] += 1
        self.notes.update(out.notes)
        self.gc_checked += out.gc_checked
        self.reused += out.reused
        if out.violations:
            self.failed[base] += 1
            self.failures.append(Failure(out.index, out.tear, out.step, out.k, describe_op(out.op),
                                         list(out.violations)))


class Runner:
    """Steps one workload on one device; cuts any step from a checkpoint taken before it."""

    def __init__(self, campaign: Campaign, steps: list | None = None):
        self.campaign = campaign
        self.target = campaign.target
        self.steps = campaign.steps() if steps is None else steps
        self.dev, self.area = self.target.build()
        self.pinned = [self.dev, self.area]
        self.store = None
        self.model = self.target.initial_model()
        self.step = 0

    def checkpoint(self) -> tuple | None:
        """``(step, image, store pickle, model)`` to resume from in another process, or None
        when the store only deep-copies (its checkpoint cannot leave this process)."""
        frozen = freeze(self.store, self.pinned)
        if frozen.blob is None and frozen.copy is not None:
            return None
        return (self.step, self.dev.snapshot(), frozen.blob, self.model)

    def resume(self, cp: tuple) -> None:
        """Continue from :meth:`checkpoint` (taken by a Runner of the same campaign)."""
        self.step, image, blob, self.model = cp
        self.dev.restore(image)
        self.store = thaw(Frozen(blob), self.pinned)

    def advance(self):
        """Run the next step uncut; returns its result."""
        op = self.steps[self.step]
        self.store, result = self.target.apply(self.store, self.area, op)
        self.model = self.target.model_apply(self.model, op, result)
        self.step += 1
        return result

    def run_to(self, step: int) -> None:
        while self.step < step:
            self.advance()

    def cut_step(self, cuts: Iterable[tuple[int, int, str]], keep: bool = False,
                 on_cut: Callable[[CutOutcome], None] | None = None) -> list[CutOutcome]:
        """Cut the next step at each ``(index, k, tear)``, then run it uncut and move on."""
        op = self.steps[self.step]
        image = self.dev.snapshot()
        tracked = _track(self.dev)  # each cut then restores and hashes only what changed
        frozen = freeze(self.store, self.pinned)
        before = self.model
        self.store, result = self.target.apply(self.store, self.area, op)
        after = self.target.model_apply(before, op, result)
        image_after = self.dev.snapshot()
        outs = []
        seen: dict = {}  # identical post-cut images of this step are checked once
        for index, k, tear in cuts:
            out = self._cut(op, image, frozen, before, after, index, k, tear, keep,
                            None if keep else seen)
            outs.append(out)
            if on_cut is not None:
                on_cut(out)
        if tracked:
            self.dev.untrack_changes()
        self.dev.restore(image_after)
        self.model = after
        self.step += 1
        return outs

    def _cut(self, op, image, frozen, before, after, index, k, tear, keep, seen=None) -> CutOutcome:
        dev, t = self.dev, self.target
        if getattr(dev, "tracking", False):
            dev.restore_changed(image)  # DEV-49: the device held ``image`` when tracking began
        else:
            dev.restore(image)
        store = thaw(frozen, self.pinned)
        mode, how = TEARS[split_tear(tear)[0]]
        dev.arm_power_cut(k, mode=mode, tear=how, seed=cut_seed(self.campaign.seed, index, tear))
        loss = other = None
        try:
            t.apply(store, self.area, op)
        except PowerLoss as exc:
            loss = exc
        except Exception as exc:  # a store must let PowerLoss through untouched (DEV-35)
            other = exc
        finally:
            dev.power_restore()
        out = CutOutcome(index, tear, self.step, k, op, [], [], False,
                         power_loss=str(loss) if loss else "",
                         cut_at=(loss.kind, loss.offset - self.area.offset, loss.length) if loss else ())
        if other is not None:
            out.violations.append(f"the cut operation raised {type(other).__name__}: {other} "
                                  "instead of PowerLoss")
            return out
        if keep:
            out.image_before, out.image_cut = image, dev.snapshot()
        if loss is None:
            out.violations.append(f"step finished before its flash operation {k}: operation count "
                                  "differs from the counting run (nondeterministic store?)")
            return out
        if seen is not None:
            # Remount and checks read nothing but this image (and the step's fixed models), so
            # a cut that leaves the same bytes as an earlier cut of the step (a clean cut, a
            # torn write that kept nothing) has the same verdict.
            key = (_image_key(dev, image), _gc_selected(self.campaign, index, tear), unstable_key(dev))
            prev = seen.get(key)
            if prev is not None:
                out.violations, out.notes, out.gc_checked = list(prev[0]), list(prev[1]), prev[2]
                out.reused = True
                return out
            self._check_cut(out, op, before, after, index, tear, keep, image)
            seen[key] = (out.violations, out.notes, out.gc_checked)
            return out
        self._check_cut(out, op, before, after, index, tear, keep, image)
        return out

    def _check_cut(self, out: CutOutcome, op, before, after, index, tear, keep, image) -> None:
        """:meth:`_check`, then a torn program the format cannot detect is a format limit."""
        torn = TEARS[split_tear(tear)[0]][0] == "torn"
        cut = _Cut(self.dev, image) if torn else None
        self._check(out, op, before, after, index, tear, keep)
        if cut is not None and out.violations:  # classify looks at the images only then
            classify(self.target, out, self._partition(image), self._partition(cut.image()))

    def _partition(self, image: bytes) -> bytes:
        off = self.area.offset
        return image[off:off + self.area.size]

    def _check(self, out: CutOutcome, op, before, after, index, tear, keep) -> None:
        t, dev = self.target, self.dev
        try:
            remounted = t.mount(self.area)
        except PowerLoss:
            raise
        except Exception as exc:  # any failure to mount is the finding itself
            out.violations.append(f"mount after the cut failed: {type(exc).__name__}: {exc}")
            return
        if keep:
            out.store, out.image_mounted = remounted, dev.snapshot()
        try:
            res = t.check(remounted, before, after, op)
            out.violations.extend(res.violations)
            out.notes.extend(res.notes)
            if not res.violations and _gc_selected(self.campaign, index, tear):
                out.gc_checked = True
                out.violations.extend(t.exercise(remounted, self.area, res.observed))
        except PowerLoss:
            raise
        except Exception as exc:
            out.violations.append(f"checking the remounted store raised {type(exc).__name__}: {exc}")


def _track(dev) -> bool:
    """Start DEV-49 change tracking on ``dev`` where it is exact (a SimulatedFlash; not a
    NativeFlash, whose C runtime writes the image itself)."""
    if not getattr(dev, "change_tracking", False):
        return False
    dev.track_changes()
    return True


_CHUNK = 256


def _image_key(dev, base: bytes) -> bytes:
    """A digest that is equal for two states of ``dev`` exactly when their images are (both
    reached from ``base``, the image the device held when change tracking began or was last
    restored): the ``_CHUNK``-byte chunks that differ from ``base``, with their bytes. Reads
    only what changed; without tracking, the whole image."""
    if not getattr(dev, "tracking", False):
        return hashlib.blake2b(dev.snapshot(), digest_size=16).digest()
    chunks: set[int] = set()
    for a, b in dev.changed_ranges():
        _differing(dev.peek(a, b - a), base[a:b], a, chunks)
    h = hashlib.blake2b(digest_size=16)
    for c in sorted(chunks):
        lo = c * _CHUNK
        h.update(c.to_bytes(8, "little") + dev.peek(lo, min(lo + _CHUNK, len(base)) - lo))
    return h.digest()


def _differing(now: bytes, was: bytes, a: int, out: set[int]) -> None:
    """Add to ``out`` the chunks where ``now`` differs from ``was`` (both the bytes at device
    offset ``a``), halving only the parts that differ (one compare for an unchanged range)."""
    todo = [(0, len(now))]
    while todo:
        lo, hi = todo.pop()
        if now[lo:hi] == was[lo:hi]:
            continue
        first, last = (a + lo) // _CHUNK, (a + hi - 1) // _CHUNK
        if first == last:
            out.add(first)
            continue
        mid = (first + last + 1) // 2 * _CHUNK - a  # a chunk boundary strictly inside (lo, hi)
        todo += [(mid, hi), (lo, mid)]


class _Cut:
    """The image right after a cut, kept as the ranges that changed since ``base`` (DEV-49),
    rebuilt in full only when asked (a whole snapshot without tracking)."""

    def __init__(self, dev, base: bytes):
        self.base = base
        if not getattr(dev, "tracking", False):
            self.full: bytes | None = dev.snapshot()
            self.patches: list = []
        else:
            self.full = None
            self.patches = [(a, dev.peek(a, b - a)) for a, b in dev.changed_ranges()]

    def image(self) -> bytes:
        if self.full is None:
            img = bytearray(self.base)
            for a, data in self.patches:
                img[a:a + len(data)] = data
            self.full = bytes(img)
        return self.full


def plan(campaign: Campaign) -> Plan:
    """Run the workload uncut, counting flash operations per step and checking the store
    against the model after every step (violations of the uncut run are reported, not raised)."""
    r = Runner(campaign)
    counts, violations = [], []
    r.dev.arm_power_cut(None)
    last = 0
    while r.step < len(r.steps):
        op = r.steps[r.step]
        try:
            r.advance()
        except PowerLoss:
            raise
        except Exception as exc:
            # the uncut run itself failed: report it; only the steps before it are cut
            violations.append(f"step {r.step} ({describe_op(op)}) raised {type(exc).__name__}: {exc}")
            break
        counts.append(r.dev.ops_since_arm - last)
        last = r.dev.ops_since_arm
        # every acknowledged operation reads back at once (not only after a remount)
        violations.extend(f"after step {r.step - 1} ({describe_op(op)}): {v}" for v in
                          r.target.check_state(r.store, r.model))
    r.dev.disarm()
    return Plan(r.steps[:len(counts)], counts, violations)


def select_points(p: Plan, campaign: Campaign) -> list[int]:
    """Sorted flash-operation numbers to cut: all, or a seeded sample of ``campaign.cuts``."""
    if campaign.cuts is None or campaign.cuts >= p.total:
        return list(range(1, p.total + 1))
    return sorted(random.Random(_mix(campaign.seed, 0x5A17)).sample(range(1, p.total + 1),
                                                                     campaign.cuts))


def _by_step(p: Plan, points: list[int], campaign: Campaign) -> dict[int, list]:
    tears = [t if v == 0 else f"{t}:{v}" for t in campaign.tears
             for v in range(1 if t == "clean" else campaign.tear_samples)]
    out: dict[int, list] = {}
    for index in points:
        step, k = p.locate(index)
        out.setdefault(step, []).extend((index, k, t) for t in tears)
    return out


def _chunks(groups: dict[int, list], n: int) -> list[dict[int, list]]:
    """Split per-step cut lists into ``n`` runs of consecutive steps with balanced cut counts."""
    total = sum(len(v) for v in groups.values())
    target = max(1, -(-total // max(1, n)))
    chunks, cur, size = [], {}, 0
    for step in sorted(groups):
        cur[step] = groups[step]
        size += len(groups[step])
        if size >= target:
            chunks.append(cur)
            cur, size = {}, 0
    if cur:
        chunks.append(cur)
    return chunks


def run_chunk(campaign: Campaign, groups: dict[int, list], start: tuple | None = None) -> ChunkResult:
    """Worker entry point: run the cuts of ``groups`` (step -> [(index, k, tear)]), from the
    checkpoint ``start`` (:meth:`Runner.checkpoint`) or else from step 0."""
    res = ChunkResult()
    r = Runner(campaign)
    if start is not None:
        r.resume(start)
    for step in sorted(groups):
        r.run_to(step)
        r.cut_step(groups[step], on_cut=res.add)
    return res


def run_campaign(campaign: Campaign, jobs: int | None = 1, scheduler: str | None = None,
                 progress: Callable[[int, int, int], None] | None = None) -> Report:
    """Run ``campaign``: plan, then every selected cut in every tear mode.

    ``jobs`` local worker processes (None = :func:`~flashstack.torture.parallel.default_jobs`:
    this process below 1000 cuts, else the cores not busy with other work; 1 = in this process);
    ``scheduler`` the address of a Dask scheduler (extra ``dask``) to run on instead, or
    ``"local"`` for a Dask ``LocalCluster`` of ``jobs`` workers started for this campaign
    (EINVAL for a malformed address, ECONNREFUSED/ETIMEDOUT for an unreachable one, both
    before any work: :func:`.parallel.check_scheduler`).
    ``progress(done, total, failures)`` is called as cuts complete (counts of cuts tried, to
    try, failed). Results do not depend on ``jobs``.
    """
    from .parallel import LOCAL, check_scheduler, default_jobs, execute

    t0 = time.perf_counter()
    if scheduler is not None:
        scheduler = check_scheduler(scheduler)
    p = plan(campaign)
    points = select_points(p, campaign)
    groups = _by_step(p, points, campaign)
    total = sum(len(v) for v in groups.values())
    if jobs is None:  # never slower than one job: see default_jobs
        jobs = default_jobs(total)
    jobs = max(1, int(jobs))
    res = ChunkResult()
    if progress:
        progress(0, total, 0)
    if scheduler is None and jobs == 1:
        executor = "local"
        r = Runner(campaign, p.steps)
        done = 0
        for step in sorted(groups):
            r.run_to(step)
            r.cut_step(groups[step], on_cut=res.add)
            done += len(groups[step])
            if progress:
                progress(done, total, sum(res.failed.values()))
    else:
        executor = f"dask:{scheduler}" if scheduler else "processes"
        chunks = _chunks(groups, jobs * 4)
        # one pass here hands each chunk the state before its first step: no worker replays
        # the workload prefix
        r = Runner(campaign, p.steps)
        tasks = []
        for chunk in chunks:
            r.run_to(min(chunk))
            tasks.append((chunk, r.checkpoint()))
        for part in execute(run_chunk, campaign, tasks, jobs, scheduler):
            res.merge(part)
            if progress:
                progress(sum(res.tried.values()), total, sum(res.failed.values()))
    res.failures.sort(key=lambda f: (f.index, _tear_key(f.tear)))
    for f in res.failures:
        f.reproducer = reproducer(campaign, f.index, f.tear)
    return Report(campaign, len(p.steps), p.total, len(points), dict(res.tried), dict(res.failed),
                  res.failures, dict(sorted(res.notes.items())), res.gc_checked, res.reused, p.violations,
                  time.perf_counter() - t0, jobs if scheduler in (None, LOCAL) else 0, executor)
