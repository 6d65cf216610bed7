"""``python -m flashstack.fuzz TARGET|all [--minutes N] [--examples N] [--engine E]``.

Runs each target under the invariants of :mod:`flashstack.fuzz.invariants`; exit 0 when
nothing was found, 3 on a finding (printed with its input and a hypothesis reproduction
blob), 2 on a usage error. Example: ``python -m flashstack.fuzz nvs-mount --minutes 30``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from .engine import run_atheris, run_hypothesis
from .targets import TARGETS


def _progress(name: str, t0: float):
    """A status line every 5 s (also when piped)."""
    last = [t0]

    def progress(n: int) -> None:
        if time.monotonic() - last[0] >= 5:
            last[0] = time.monotonic()
            print(f"  {name}: {n} inputs, {time.monotonic() - t0:.0f} s", flush=True)
    return progress


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m flashstack.fuzz", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", help="a target name, or 'all': " + ", ".join(TARGETS))
    p.add_argument("--minutes", type=float, default=1.0, help="time budget per target")
    p.add_argument("--examples", type=int, default=200, help="examples per hypothesis batch")
    p.add_argument("--engine", choices=("hypothesis", "atheris"), default="hypothesis")
    p.add_argument("--memory-limit", type=int, default=4096, metavar="MIB",
                   help="address-space limit of this process (MemoryError is a finding)")
    a = p.parse_args(argv)
    names = list(TARGETS) if a.target == "all" else [a.target]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        p.error(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)} or all")
    limit = a.memory_limit << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    found = 0
    for name in names:
        target = TARGETS[name]
        t0, cpu0 = time.monotonic(), time.process_time()
        progress = _progress(name, t0)
        try:
            if a.engine == "atheris":
                run_atheris(target, a.minutes * 60)
                n = -1
            else:
                n = run_hypothesis(target, examples=a.examples, seconds=a.minutes * 60,
                                   progress=progress)
        except AssertionError as exc:
            found += 1
            print(f"FINDING {name}: {exc}", flush=True)
            continue
        print(f"{name} ({target.kind}): {n} inputs in {time.monotonic() - t0:.0f} s "
              f"({time.process_time() - cpu0:.0f} s CPU), nothing found", flush=True)
    return 3 if found else 0


if __name__ == "__main__":
    sys.exit(main())
