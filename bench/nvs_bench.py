"""Read cost of Zephyr NVS lookups: the RAM index against the reference's ATE walk (spec
zephyr-nvs §13, NVS-24).

For stores with more and more live ids (8 sectors of 4 KiB, write block 4) it prints the
CPU time per ``read`` through ``NVSStore`` (index lookup plus one flash read) and per read
done the reference's way (walk ATEs from ``ate_wra`` until the id's newest valid entry, then
read the data), with the ratio against that anchor. It also prints device reads per lookup.

Usage: python bench/nvs_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import random
import time

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.nvs import Ate, NVSStore


def build(live_ids: int, seed: int = 1) -> NVSStore:
    dev = SimulatedFlash(8 * 4096, erase_page_size=4096, write_block_size=4)
    st = NVSStore(FlashArea(0, 0, 8 * 4096, dev, label="storage"))
    st.mount()
    rng = random.Random(seed)
    for i in range(live_ids * 3):       # three generations: history and superseded entries
        st.write(i % live_ids, rng.randbytes(8 + i % 24))
    return st


def walk_read(st: NVSStore, id_: int) -> bytes:
    """The reference's lookup: step ATE by ATE (one 8-byte flash read each, ``nvs_prev_ate``)
    from ``ate_wra`` to the first valid ATE of ``id_``, then read its data."""
    geo = st.geo
    pos = st.ate_wra
    while True:
        raw, nxt = st.step(pos)
        a = Ate.unpack(raw)
        if a.id == id_ and geo.valid(a):
            return st.area.read(pos - pos % geo.S + a.offset, a.len)
        if nxt == st.ate_wra:
            raise LookupError(id_)
        pos = nxt


def per_read(fn, st, ids, rounds) -> tuple[float, float]:
    best = float("inf")
    dev = st.area.device
    reads0 = dev.stats.flash_read_calls
    for _ in range(rounds):
        t0 = time.process_time()
        for i in ids:
            fn(st, i)
        best = min(best, time.process_time() - t0)
    calls = (dev.stats.flash_read_calls - reads0) / (rounds * len(ids))
    return best / len(ids), calls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"{'live ids':>8} {'index us/read':>14} {'walk us/read':>13} {'ratio':>7} "
          f"{'dev reads (index)':>18} {'dev reads (walk)':>17}")
    for n in (10, 50, 150, 300):
        st = build(n)
        ids = list(range(n))
        t_idx, c_idx = per_read(lambda s, i: s.read(i), st, ids, args.rounds)
        t_walk, c_walk = per_read(walk_read, st, ids, args.rounds)
        print(f"{n:>8} {t_idx * 1e6:>14.1f} {t_walk * 1e6:>13.1f} {t_idx / t_walk:>7.3f} "
              f"{c_idx:>18.1f} {c_walk:>17.1f}")
    print("anchor: the reference walk (ratio = index time / walk time; lower is better)")


if __name__ == "__main__":
    main()
