"""ZMS benchmark (issue 17): flashstack's Zephyr ZMS against littlefs-python and Zephyr NVS.

Part 1, the workload of ``kv_bench.py``: 1,000 keys (16-byte keys, 32-byte values) x 10
updates, then read all keys, then remount; every store on a ``SimulatedFlash`` of 1 MiB (4 KiB
erase pages, write block 1) in the same run. ZMS and NVS address key i as id i + 1 (no key bytes
programmed); littlefs-python keeps one file per key (read/prog 16, cache 512, lookahead 32,
block_cycles 100). Printed: writes/s, reads/s, mount time (wall and CPU), bytes programmed /
(key+value), erases per 1,000 writes, then the ratios ZMS / littlefs-python (anchor; targets:
writes and reads >= 50x) and ZMS / NVS (same workload).

Part 2, the O(1) mount: 10,000 live ids (8-byte values, inline in the ATE) in 64 sectors of
4 KiB on an erase-less device (write block 16, the nRF54L RRAM geometry) and on NOR (write
block 4); mount time, best of ``--rounds`` (target < 100 ms), wall clock and CPU, against NVS
mounting the same 10,000 ids (anchor).

Usage: python bench/zms_bench.py [--rounds N] [--keys N] [--updates N] [--mount-ids N]
"""

from __future__ import annotations

import argparse
import time

from kv_bench import LittleFsKV, ZephyrNVS, best, device, fmt_row, workload

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea


class ZephyrZMS(ZephyrNVS):
    """Zephyr ZMS addressed by 32-bit id (key i -> id i + 1): ZMS stores no key bytes."""

    name = "zephyr-zms"

    def __init__(self, size: int, block: int):
        from flashstack.zms import ZMSStore
        self.dev = device(size)
        self.store = ZMSStore(FlashArea(0, 0, size, self.dev), sector_size=block,
                              sector_count=size // block)
        self.store.mount()
        self.ids: dict[str, int] = {}


def _ratio_row(label: str, a: dict, b: dict) -> str:
    return (f"{label:<16} {a['writes_per_s'] / b['writes_per_s']:>10.1f} "
            f"{a['reads_per_s'] / b['reads_per_s']:>10.1f} {b['mount_ms'] / a['mount_ms']:>9.2f} "
            f"{b['mount_cpu_ms'] / a['mount_cpu_ms']:>9.2f} {a['write_amp'] / b['write_amp']:>8.3f}")


def part1(a) -> None:
    names, values = workload(a.keys, a.updates)
    size, block = 1 << 20, 4096
    print(f"part 1: {a.keys} keys x {a.updates} updates (16-byte keys, 32-byte values), read all, "
          f"remount; 1 MiB, {size // block} x 4 KiB; best of {a.rounds} (littlefs: 1 run)")
    zms = best(ZephyrZMS, size, block, names, values, a.rounds)
    nvs = best(ZephyrNVS, size, block, names, values, a.rounds)
    lfs = best(LittleFsKV, size, block, names, values, 1)
    print(f"{'store':<16} {'writes/s':>10} {'reads/s':>10} {'mount ms':>9} {'mount cpu':>9} "
          f"{'prog/kv':>8} {'er/1000w':>9} {'e.max':>5} {'e.mean':>6}")
    for r in (zms, nvs, lfs):
        print(fmt_row(r))
    if any("error" in r for r in (zms, nvs, lfs)):
        print("a store did not complete the workload (see above): no ratios")
        return
    print(f"{'ratios':<16} {'writes':>10} {'reads':>10} {'mount':>9} {'mount cpu':>9} {'prog/kv':>8}")
    print(_ratio_row("zms / littlefs", zms, lfs))
    print(_ratio_row("zms / nvs", zms, nvs))
    w, r = zms["writes_per_s"] / lfs["writes_per_s"], zms["reads_per_s"] / lfs["reads_per_s"]
    print(f"targets (anchor littlefs-python): writes >= 50x: {'met' if w >= 50 else 'MISSED'} "
          f"({w:.0f}x); reads >= 50x: {'met' if r >= 50 else 'MISSED'} ({r:.0f}x)")


def _filled(kind: str, explicit: bool, n: int):
    """A store of ``kind`` with ``n`` live ids (8-byte values) and its area."""
    S, N = 4096, 64
    wbs = 4 if explicit else 16
    dev = SimulatedFlash(S * N, erase_page_size=S, write_block_size=wbs, explicit_erase=explicit,
                         name="bench")
    area = FlashArea(0, 0, S * N, dev, label="storage")
    if kind == "zms":
        from flashstack.zms import ZMSStore
        st = ZMSStore(area)
    else:
        from flashstack.nvs import NVSStore
        st = NVSStore(area)
    st.mount()
    for i in range(n):
        st.write(i + 1, (i * 2654435761 % (1 << 64)).to_bytes(8, "little"))
    return type(st), area


def mount_time(cls, area, rounds: int) -> tuple[float, float, int]:
    wall = cpu = float("inf")
    live = 0
    for _ in range(rounds):
        st = cls(area)
        t0, c0 = time.perf_counter(), time.process_time()
        st.mount()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
        live = len(st.ids())
    return wall * 1e3, cpu * 1e3, live


def part2(a) -> None:
    n = a.mount_ids
    print(f"\npart 2: mount of {n:,} live ids (8-byte values), 64 x 4 KiB sectors; best of "
          f"{a.rounds}; anchor: NVS mounting the same ids")
    print(f"{'store':<34} {'mount ms':>9} {'mount cpu':>9} {'live ids':>9}")
    rows = {}
    for label, kind, explicit in (("zephyr-zms, erase-less, wb 16", "zms", False),
                                  ("zephyr-zms, NOR, wb 4", "zms", True),
                                  ("zephyr-nvs, NOR, wb 4", "nvs", True)):
        cls, area = _filled(kind, explicit, n)
        rows[label] = mount_time(cls, area, a.rounds)
        wall, cpu, live = rows[label]
        print(f"{label:<34} {wall:>9.1f} {cpu:>9.1f} {live:>9,}")
    anchor = rows["zephyr-nvs, NOR, wb 4"]
    for label in ("zephyr-zms, erase-less, wb 16", "zephyr-zms, NOR, wb 4"):
        wall, cpu, _ = rows[label]
        print(f"{label + ' / nvs':<34} {anchor[0] / wall:>9.2f}x {anchor[1] / cpu:>8.2f}x "
              f"(faster when > 1)")
        print(f"  target mount < 100 ms: {'met' if wall < 100 else 'MISSED'} (wall), "
              f"{'met' if cpu < 100 else 'MISSED'} (CPU)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--updates", type=int, default=10)
    ap.add_argument("--mount-ids", type=int, default=10_000)
    a = ap.parse_args(argv)
    part1(a)
    part2(a)


if __name__ == "__main__":
    main()
