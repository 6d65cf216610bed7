"""Zephyr NVS on large partitions: steady-state writes, garbage-collection time and mount.

Each size (4 KiB sectors, write block 4) is filled by updating ``--ids`` ids round-robin
with 32-byte values until the ring has wrapped (every later sector switch collects a
sector), then, interleaved in ``--rounds`` rounds, each size takes ``--batch`` more writes.
Printed: steady-state writes/s at 16 MiB against 64 KiB (CPU time, best batch; goal: within
1.5x, i.e. ratio >= 0.67), the max and p99 of single garbage collections at 16 MiB in CPU time
of the writing thread (goal: max < 5 ms; the wall-clock max is printed too, it includes other
jobs on a shared machine), and the mount time of the 16 MiB store (best of ``--mounts``, CPU and wall; goal < 300 ms) with
its anchor, the ATE-by-ATE walk that mount used before (``rebuild_index_walk``).

Usage: python bench/nvs_scale_bench.py [--sizes 64K 16M] [--rounds 5] [--batch 5000] [--record]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

from _figures import Figure, print_figures, record

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSStore

SECTOR = 4096
VAL = 32


def parse_size(s: str) -> int:
    mult = {"K": 1 << 10, "M": 1 << 20}.get(s[-1].upper(), 1)
    return int(s[:-1] if s[-1].upper() in "KM" else s) * mult


class Subject:
    """One store of ``size`` bytes with a timed ``_gc``."""

    def __init__(self, size: int, ids: int):
        self.size, self.ids = size, ids
        self.dev = SimulatedFlash(size, erase_page_size=SECTOR, write_block_size=4, name="bench")
        self.area = FlashArea(0, 0, size, self.dev, label="storage")
        self.st = NVSStore(self.area, SECTOR, size // SECTOR)
        self.st.mount()
        self.k = 0
        self.gc_times: list[float] = []   # CPU seconds of this thread per GC
        self.gc_walls: list[float] = []
        self.timing = False
        inner = self.st._gc

        def timed_gc() -> None:
            t0, c0 = time.perf_counter(), time.thread_time()
            inner()
            if self.timing:
                self.gc_times.append(time.thread_time() - c0)
                self.gc_walls.append(time.perf_counter() - t0)
        self.st._gc = timed_gc  # type: ignore[method-assign]

    def write(self, count: int) -> None:
        st, ids = self.st, self.ids
        for _ in range(count):
            k = self.k
            st.write(k % ids, k.to_bytes(8, "little") * (VAL // 8))
            self.k = k + 1

    def fill(self) -> None:
        """Write until every sector has been erased once by garbage collection."""
        while min(self.dev.stats.erase_cycles) == 0:
            self.write(1000)


def mount_ms(sub: Subject, walk: bool) -> tuple[float, float]:
    """``(wall ms, CPU ms)`` of one mount of the large store (``walk``: the ATE-by-ATE walk
    that mount used before the bulk pass)."""
    st = NVSStore(sub.area, SECTOR, sub.size // SECTOR)
    if walk:
        st.rebuild_index = lambda image=None: st.rebuild_index_walk()  # type: ignore[method-assign]
    t0, c0 = time.perf_counter(), time.process_time()
    st.mount()
    t, c = time.perf_counter() - t0, time.process_time() - c0
    assert st.ids() == sub.st.ids() or sub.k < sub.ids
    return t * 1e3, c * 1e3


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs=2, default=["64K", "16M"], help="small and large size")
    ap.add_argument("--ids", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--mounts", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="write bench/results/nvs_scale_bench.json")
    a = ap.parse_args(argv)
    small, large = (Subject(parse_size(s), a.ids) for s in a.sizes)
    t0 = time.perf_counter()
    for sub in (small, large):
        sub.fill()
    print(f"filled in {time.perf_counter() - t0:.1f} s; {large.st.geo.N} sectors, "
          f"{large.k:,} writes to wrap the large ring")
    best = {id(small): float("inf"), id(large): float("inf")}
    for _ in range(a.rounds):
        for sub in (small, large):        # interleaved
            sub.timing = True
            c0 = time.process_time()
            sub.write(a.batch)
            best[id(sub)] = min(best[id(sub)], (time.process_time() - c0) / a.batch)
            sub.timing = False
    gcs = sorted(large.gc_times)
    p99 = gcs[min(len(gcs) - 1, int(0.99 * len(gcs)))]
    walls = sorted(large.gc_walls)
    mounts, walks = [], []
    for _ in range(a.mounts):             # interleaved: new mount, then the walk it replaced
        gc.collect()
        mounts.append(mount_ms(large, walk=False))
        walks.append(mount_ms(large, walk=True))
    ls, ll = a.sizes
    rows = [
        Figure("nvs_scale_bench", f"NVS steady writes/s, {ll}", 1 / best[id(large)], "/s",
               f"NVS steady writes/s, {ls}", 1 / best[id(small)], ">= 0.67x (within 1.5x)", 1 / 1.5),
        Figure("nvs_scale_bench", f"NVS worst single GC (CPU), {ll}, {len(gcs)} GCs", gcs[-1] * 1e3,
               "ms", "goal 5 ms", 5.0, "< 5 ms", 1.0, lower_is_better=True),
        Figure("nvs_scale_bench", f"NVS p99 single GC (CPU), {ll}", p99 * 1e3, "ms",
               "goal 5 ms", 5.0, "", None, lower_is_better=True),
        Figure("nvs_scale_bench", f"NVS worst single GC (wall), {ll}", walls[-1] * 1e3, "ms",
               "goal 5 ms", 5.0, "", None, lower_is_better=True,
               note="wall clock includes other jobs on the shared cores"),
        Figure("nvs_scale_bench", f"NVS mount (CPU), {ll} ({large.k:,} writes)",
               min(c for _, c in mounts), "ms", "goal 300 ms", 300.0, "< 300 ms", 1.0,
               lower_is_better=True),
        Figure("nvs_scale_bench", f"NVS mount (wall), {ll}", min(w for w, _ in mounts), "ms",
               "goal 300 ms", 300.0, "", None, lower_is_better=True,
               note="wall clock includes other jobs on the shared cores"),
        Figure("nvs_scale_bench", f"NVS mount (CPU), {ll}", min(c for _, c in mounts), "ms",
               "ATE-by-ATE walk (CPU)", min(c for _, c in walks), "", None, lower_is_better=True),
    ]
    print(f"{a.rounds} interleaved rounds of {a.batch} writes per size ({a.ids} ids, {VAL}-byte "
          f"values); GC and mount times wall clock")
    print_figures(rows)
    if a.record:
        print("recorded:", record("nvs_scale_bench", rows, sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
