"""Driving a target: hypothesis (mutations of the target's seeds, or plain bytes) for a number
of examples or a time budget; atheris (coverage-guided) when installed and asked for."""

from __future__ import annotations

import time
from typing import Callable

from .targets import FuzzTarget

__all__ = ["inputs", "run_hypothesis", "run_atheris"]

_OPS = ("flip", "set", "insert", "delete", "dup", "cut")


def _mutate(seed: bytes, edits) -> bytes:
    b = bytearray(seed)
    for op, pos, val, n in edits:
        p = pos % (len(b) + 1)
        if op == "flip" and b:
            b[p % len(b)] ^= val or 1
        elif op == "set" and b:
            b[p % len(b)] = val
        elif op == "insert":
            b[p:p] = bytes([val]) * n
        elif op == "delete":
            del b[p:p + n]
        elif op == "dup":
            b[p:p] = b[p:p + n * 8]
        elif op == "cut":
            del b[p:]
    return bytes(b)


def inputs(target: FuzzTarget):
    """The hypothesis strategy of a target's inputs: a seed with up to 8 edits, or any bytes."""
    from hypothesis import strategies as st
    edit = st.tuples(st.sampled_from(_OPS), st.integers(0, 1 << 20), st.integers(0, 255),
                     st.integers(1, 64))
    mutated = st.builds(_mutate, st.sampled_from(target.seeds()), st.lists(edit, max_size=8))
    return st.one_of(mutated, mutated, st.binary(max_size=4096))


def run_hypothesis(target: FuzzTarget, *, examples: int = 100, seconds: float | None = None,
                   derandomize: bool = False, progress: Callable[[int], None] | None = None) -> int:
    """Run ``target`` for ``examples`` (or batches of them until ``seconds`` have passed);
    returns the number of examples run. A broken invariant raises (shrunk by hypothesis)."""
    from hypothesis import HealthCheck, given, settings
    run_count = 0

    @settings(max_examples=examples, deadline=None, derandomize=derandomize, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(data=inputs(target))
    def one(data: bytes) -> None:
        nonlocal run_count
        run_count += 1
        target.run(data)

    end = None if seconds is None else time.monotonic() + seconds
    while True:
        one()
        if progress:
            progress(run_count)
        if end is None or time.monotonic() >= end:
            return run_count


def run_atheris(target: FuzzTarget, seconds: float) -> None:
    """Coverage-guided fuzzing with atheris (``pip install atheris``) for ``seconds``."""
    import sys

    import atheris  # type: ignore[import-untyped]  # noqa: PLC0415 - optional extra

    def one(data: bytes) -> None:
        target.run(data)
    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}"], one)
    atheris.Fuzz()
