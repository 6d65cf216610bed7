"""The invariants every fuzz call is held to (issue 11):

- only ``flashstack.errors`` exceptions escape (never KeyError, TypeError, RecursionError, ...);
- no call uses more than :data:`TIME_LIMIT_S` seconds of CPU, nor waits more than
  :data:`WAIT_LIMIT_S` seconds of wall-clock time (a blocked read: a FIFO, a device file).
  CPU time, because long runs share the machine: a call slowed down by other work is not a
  finding, a call that computes for seconds is;
- memory stays bounded: the process's peak resident size grows by at most
  :data:`MEMORY_LIMIT` bytes over a call;
- what a target declares read-only is unchanged afterwards, and a writer that fails leaves
  its image byte-identical (each target checks its own state; see :mod:`.targets`).
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Callable

from ..errors import FlashError

__all__ = ["TIME_LIMIT_S", "WAIT_LIMIT_S", "MEMORY_LIMIT", "Finding", "check_call"]

TIME_LIMIT_S = 5.0            # CPU seconds per call
WAIT_LIMIT_S = 60.0           # wall-clock seconds per call (catches blocking, not slowness)
MEMORY_LIMIT = 512 << 20      # bytes of peak RSS growth per call


class Finding(AssertionError):
    """An invariant broken by one input (an AssertionError, so hypothesis shrinks it)."""


def _peak_rss() -> int:
    """Peak resident set size of this process in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def check_call(name: str, fn: Callable[[], object]) -> object:
    """Run ``fn()`` under the invariants; a flashstack error is a valid outcome (returned as
    the exception object). Raises :class:`Finding` naming ``name`` otherwise."""
    peak0 = _peak_rss()
    t0, c0 = time.monotonic(), time.process_time()
    try:
        result: object = fn()
    except FlashError as exc:
        result = exc
    except Finding:
        raise
    except RecursionError:
        raise Finding(f"{name}: RecursionError escaped") from None
    except MemoryError:
        raise Finding(f"{name}: MemoryError escaped") from None
    except Exception as exc:  # the invariant: nothing else may escape
        raise Finding(f"{name}: {type(exc).__name__} escaped: {exc}") from exc
    cpu, elapsed = time.process_time() - c0, time.monotonic() - t0
    if cpu > TIME_LIMIT_S:
        raise Finding(f"{name}: call took {cpu:.1f} s of CPU (limit {TIME_LIMIT_S} s)")
    if elapsed > WAIT_LIMIT_S:
        raise Finding(f"{name}: call took {elapsed:.1f} s (wall-clock limit {WAIT_LIMIT_S} s)")
    grown = _peak_rss() - peak0
    if grown > MEMORY_LIMIT:
        raise Finding(f"{name}: peak memory grew by {grown >> 20} MiB (limit "
                      f"{MEMORY_LIMIT >> 20} MiB)")
    return result
