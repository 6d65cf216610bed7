"""Speed of the simulated flash device (issue 2, "Speed"; docs/device.md §4).

Prints a table: 32-byte program operations per second and 4 KiB read throughput of
``SimulatedFlash``, in memory and file-backed (mmap), with every check and counter on:
W25Q128JV timing model, write-block alignment and double-write checks, aligned-read check,
thresholds, a power cut armed in count-only mode, endurance enforcement ("eio"). Each figure
is compared with its anchor, the target of issue 2: 500,000 programs/s and 1 GB/s.

Usage: python bench/device_bench.py [--size-mib N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from flashstack.device import Endurance, SimulatedFlash

PROGRAM_TARGET_OPS = 500_000
READ_TARGET_GBPS = 1.0


def make_device(size: int, backing) -> SimulatedFlash:
    dev = SimulatedFlash(chip="w25q128jv", size=size, erase_page_size=4096, backing=backing,
                         allow_double_writes=False, unaligned_read=False,
                         endurance=Endurance(rated_cycles=100_000, mode="eio"), name="bench")
    dev.arm_power_cut(after=None)  # count every operation, never cut
    return dev


def _best(run, rounds: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``rounds`` calls of ``run()`` (the machine is
    shared: CPU time shows the code's own speed when other processes compete)."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def bench_program(dev: SimulatedFlash, rounds: int) -> tuple[float, float]:
    """32-byte programs per second over the whole (erased) device: (wall, CPU)."""
    data = bytes(range(32))
    offsets = range(0, dev.size, 32)
    write = dev.write

    def run():
        dev.erase(0, dev.size)  # one erase per 131,072 programs (4 MiB): negligible
        for off in offsets:
            write(off, data)

    wall, cpu = _best(run, rounds)
    assert dev.stats.double_writes == 0 and dev.read(dev.size - 32, 32) == data
    return len(offsets) / wall, len(offsets) / cpu


def bench_read(dev: SimulatedFlash, rounds: int) -> tuple[float, float]:
    """4 KiB read throughput in GB/s (10^9 bytes/s): (wall, CPU)."""
    offsets = range(0, dev.size, 4096)
    read = dev.read

    def run():
        for off in offsets:
            read(off, 4096)

    wall, cpu = _best(run, rounds)
    return dev.size / wall / 1e9, dev.size / cpu / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    size = args.size_mib << 20
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, backing in (("memory", None), ("file (mmap)", os.path.join(tmp, "bench.bin"))):
            with make_device(size, backing) as dev:
                ops = bench_program(dev, args.rounds)
                gbps = bench_read(dev, args.rounds)
                counted = dev.ops_since_arm
                busy_s = dev.stats.busy_time_us / 1e6
            rows.append((label, "32 B program", f"{ops[0]:,.0f} ops/s", f"{ops[1]:,.0f} ops/s",
                         f"{PROGRAM_TARGET_OPS:,} ops/s", ops[0] / PROGRAM_TARGET_OPS,
                         ops[1] / PROGRAM_TARGET_OPS))
            rows.append((label, "4 KiB read", f"{gbps[0]:.2f} GB/s", f"{gbps[1]:.2f} GB/s",
                         f"{READ_TARGET_GBPS:g} GB/s", gbps[0] / READ_TARGET_GBPS,
                         gbps[1] / READ_TARGET_GBPS))
    print(f"SimulatedFlash speed, {args.size_mib} MiB device, best of {args.rounds} rounds, "
          f"all checks and counters on")
    print(f"(last device: {counted:,} operations counted for power cuts, "
          f"{busy_s:,.1f} s simulated busy time; load average {os.getloadavg()[0]:.2f})\n")
    head = ("backing", "operation", "wall clock", "CPU time", "anchor: issue 2 target", "ratio wall",
            "ratio CPU")
    cells = [list(r[:5]) + [f"{r[5]:.2f}x", f"{r[6]:.2f}x"] for r in rows]
    widths = [max(len(c[i]) for c in cells + [list(head)]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(x.ljust(w) for x, w in zip(c, widths)))


if __name__ == "__main__":
    main()
