"""Power-loss campaigns of C code (``flashstack torture c``): cuts per second per core.

Anchor: 500 cuts/s per core (issue 18) on an 8 KiB store (2 x 4 KiB erase pages, write block
4) with a 200-operation mixed workload, every cut, three tear modes. The C store is the test
log store of tests/native/c behind the nvs_* API (32-bit helper); beside it, on the same
geometry and workload, flashstack's own Python NVS target and the Python twin of the log store
(byte-identical flash operations). "wall cuts/s" is the figure the anchor is about: the bench
pins itself and its C helpers to one CPU (what one --jobs worker gets; --no-pin to let the
system place them), so it is wall-clock per core; the load average printed beside it says how
much of that core other work took. "cpu cuts/s" divides by the CPU time of this process plus
every C helper process (each adds its own time when it ends): what a dedicated core would give.

    nice python bench/native_bench.py [--ops 200] [--seed 0] [--repeat 2] [--no-pin] [--record]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from _figures import Figure, print_figures, record  # noqa: I001 - bench/ is on sys.path

from flashstack.native import compiler_problem
from flashstack.native.build import BuildSpec
from flashstack.native.machine import c_cpu_seconds
from flashstack.native.targets import CNVSTarget
from flashstack.torture import Campaign, run_campaign
from flashstack.torture.target import Geometry
from flashstack.torture.targets.nvs import NVSTarget

ROOT = Path(__file__).resolve().parent.parent
C = ROOT / "tests" / "native" / "c"
sys.path.insert(0, str(ROOT / "tests" / "native"))
from logstore_twin import LogTwinTarget  # noqa: E402

TARGET = 500.0  # cuts/s per core
GEOMETRY = Geometry.uniform(8192, 4096, write_block_size=4)


def measure(campaign: Campaign, repeat: int) -> dict:
    """Best of ``repeat`` runs (wall and CPU seconds taken separately), jobs=1."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu0, c0, t0 = time.process_time(), c_cpu_seconds(), time.perf_counter()
        r = run_campaign(campaign, jobs=1)
        wall = time.perf_counter() - t0
        gc.collect()  # the campaign's helper processes end and add their CPU time
        walls.append(wall)
        cpus.append(time.process_time() - cpu0 + c_cpu_seconds() - c0)
    return {"cuts": r.cuts, "images": r.cuts - r.reused, "wall": min(walls), "cpu": min(cpus),
            "failures": len(r.failures) + len(r.run_violations)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2, help="best of N runs per row")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    ap.add_argument("--record", action="store_true", help="write bench/results/native_bench.json")
    a = ap.parse_args()
    if not a.no_pin:  # one core: the helpers started below inherit the affinity
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    load0 = os.getloadavg()[0]
    problem = compiler_problem(32)
    if problem:
        raise SystemExit(f"cannot build the C store: {problem}")
    spec = BuildSpec("zephyr-nvs", sources=(str(C / "logstore.c"), str(C / "logstore_nvs.c")),
                     includes=(str(C / "include"), str(C)))
    c_store = CNVSTarget(geometry=GEOMETRY, build_spec=spec)
    rows = []
    for gc_check, label in ((0.0, "no GC exercise"), (1.0, "GC exercise every cut")):
        for name, target in (("C log store (nvs_* API, -m32)", c_store),
                             ("Python twin of the log store", LogTwinTarget(geometry=GEOMETRY)),
                             ("flashstack NVS (Python)", NVSTarget(geometry=GEOMETRY))):
            campaign = Campaign(target, workload="mixed", ops=a.ops, seed=a.seed, gc_check=gc_check)
            rows.append((f"{name}, {label}", measure(campaign, max(1, a.repeat))))
    pinned = "not pinned" if a.no_pin else f"pinned to CPU {min(os.sched_getaffinity(0))}"
    print(f"8 KiB (2 x 4 KiB, write block 4), mixed x{a.ops}, seed {a.seed}, every cut x 3 tears, "
          f"1 job, {pinned}; load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after "
          f"({os.cpu_count()} CPUs)")
    print(f"{'campaign':52} {'cuts':>6} {'images':>6} {'fail':>5} {'wall s':>7} {'wall cuts/s':>11} "
          f"{'vs 500':>6} {'cpu cuts/s':>10} {'vs 500':>6}")
    for name, m in rows:
        wall_rate = m["cuts"] / m["wall"]
        cpu_rate = m["cuts"] / m["cpu"]
        print(f"{name:52} {m['cuts']:6d} {m['images']:6d} {m['failures']:5d} {m['wall']:7.2f} "
              f"{wall_rate:11.0f} {wall_rate / TARGET:6.2f} {cpu_rate:10.0f} {cpu_rate / TARGET:6.2f}")
    print("(cpu = this process + the C helper processes; each cut of the C store forks a checkpoint "
          "copy and a fresh boot)")
    c_row, py_row = rows[0][1], rows[2][1]
    where = f"{pinned}, load average {load0:.1f} on {os.cpu_count()} CPUs"
    figures = [
        Figure("native_bench", f"C store cuts/s per core (wall), 8 KiB, mixed x{a.ops}",
               c_row["cuts"] / c_row["wall"], "/s", "issue 18 target", TARGET, ">= 500/s", 1.0,
               note=where),
        Figure("native_bench", "C store cuts/s per core (CPU: Python + C helpers)",
               c_row["cuts"] / c_row["cpu"], "/s", "issue 18 target", TARGET, note=where),
        Figure("native_bench", "C store cuts/s (wall)", c_row["cuts"] / c_row["wall"], "/s",
               "flashstack NVS (Python) target, same run", py_row["cuts"] / py_row["wall"],
               note=where),
    ]
    print_figures(figures)
    if a.record:
        print("recorded:", record("native_bench", figures, sys.argv[1:]))


if __name__ == "__main__":
    main()
