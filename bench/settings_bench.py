"""Zephyr Settings on NVS at 1,000 and 10,000 names: saves and loads per second against
littlefs-python (one file per name) and raw NVS writes/reads by id, interleaved in one run.

Each subject gets its own ``SimulatedFlash`` (4 KiB erase pages, write block 4; 1 MiB for
1,000 names, 4 MiB for 10,000) filled with every name first. Then, in ``--rounds`` rounds,
each subject in turn updates ``--batch`` names with a new 16-byte value (a save) and reads
``--batch`` names back (a load: ``NVSSettings.get``; a file read; ``NVSStore.read``). Times
are CPU seconds of this process (littlefs-python runs in-process), best batch of the rounds,
so other load on the machine affects every subject alike.

Goals (issue 14): settings saves and loads >= 50x littlefs-python and within 3x of raw NVS
(ratio settings / raw >= 1/3).

Usage: python bench/settings_bench.py [--names 1000 10000] [--rounds 5] [--batch 1000] [--record]
"""

from __future__ import annotations

import argparse
import sys
import time

from _figures import Figure, print_figures, record
from kv_bench import LittleFsKV

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSSettings, NVSStore

SECTOR = 4096
VAL = 16


def _store(size: int) -> NVSStore:
    dev = SimulatedFlash(size, erase_page_size=SECTOR, write_block_size=4, name="bench")
    st = NVSStore(FlashArea(0, 0, size, dev, label="storage"), SECTOR, size // SECTOR)
    st.mount()
    return st


def _value(rnd: int, i: int) -> bytes:
    return (f"r{rnd:03d}-{i:08d}-".encode() + b"v" * VAL)[:VAL]


class Settings:
    name = "settings"

    def __init__(self, size, names):
        self.s = NVSSettings(_store(size))
        self.s.init()
        self.names = names

    def save(self, i, v):
        self.s.save(self.names[i], v)

    def load(self, i):
        return self.s.get(self.names[i])


class RawNVS:
    name = "raw NVS"

    def __init__(self, size, names):
        self.st = _store(size)

    def save(self, i, v):
        self.st.write(i + 1, v)

    def load(self, i):
        return self.st.read(i + 1)


class LittleFs:
    name = "littlefs-python"

    def __init__(self, size, names):
        self.kv = LittleFsKV(size, SECTOR)
        self.files = [n.replace("/", ".") for n in names]

    def save(self, i, v):
        self.kv.set(self.files[i], v)

    def load(self, i):
        return self.kv.get(self.files[i])


def _batch(fn, ids) -> float:
    t0 = time.process_time()
    for i in ids:
        fn(i)
    return (time.process_time() - t0) / len(ids)


def measure(n: int, rounds: int, batch: int) -> dict[str, dict[str, float]]:
    size = (1 << 20) if n <= 1000 else (4 << 20)
    names = [f"app/cfg/{i:05d}" for i in range(n)]
    subjects = [cls(size, names) for cls in (Settings, RawNVS, LittleFs)]
    for s in subjects:
        for i in range(n):
            s.save(i, _value(0, i))
    best: dict[str, dict[str, float]] = {s.name: {"save": float("inf"), "load": float("inf")}
                                         for s in subjects}
    step = max(1, n // batch)
    for rnd in range(1, rounds + 1):
        ids = [(rnd + k * step) % n for k in range(min(batch, n))]
        for s in subjects:       # interleaved: every subject once per round
            t = _batch(lambda i, s=s, rnd=rnd: s.save(i, _value(rnd, i)), ids)
            best[s.name]["save"] = min(best[s.name]["save"], t)
            t = _batch(s.load, ids)
            best[s.name]["load"] = min(best[s.name]["load"], t)
            assert s.load(ids[-1]) == _value(rnd, ids[-1])
    return best


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--record", action="store_true", help="write bench/results/settings_bench.json")
    a = ap.parse_args(argv)
    rows: list[Figure] = []
    for n in a.names:
        best = measure(n, a.rounds, a.batch)
        st, raw, lfs = best["settings"], best["raw NVS"], best["littlefs-python"]
        for op in ("save", "load"):
            rate = 1 / st[op]
            rows.append(Figure("settings_bench", f"Settings {op}s/s, {n:,} names", rate, "/s",
                               "littlefs-python, one file per name", 1 / lfs[op], ">= 50x", 50))
            rows.append(Figure("settings_bench", f"Settings {op}s/s, {n:,} names", rate, "/s",
                               "raw NVS by id", 1 / raw[op], ">= 0.33x (within 3x)", 1 / 3))
    print(f"Settings on NVS, {a.rounds} interleaved rounds of {a.batch} ops per subject, CPU time")
    print_figures(rows)
    if a.record:
        print("recorded:", record("settings_bench", rows, sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
