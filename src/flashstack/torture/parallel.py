"""Running campaign chunks on local worker processes or on a Dask cluster.

Local workers are forked where the platform can (Linux: a worker starts in milliseconds, so a
short campaign gains from a second core) and spawned elsewhere; either way each receives the
campaign by value and rebuilds its own device, so results never depend on inherited state. Dask
(``distributed``, extra ``dask``) is imported only when a scheduler address is given.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterator

from ..errors import NotSupported

__all__ = ["cpu_count", "default_jobs", "execute", "MIN_PARALLEL"]

#: Campaigns of fewer cuts run in this process by default: starting and feeding workers costs
#: more than a second core saves (bench/torture_bench.py measures both ways).
MIN_PARALLEL = 1000


def cpu_count() -> int:
    """Cores this process may use (scheduler affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_jobs(cuts: int) -> int:
    """Worker processes for a campaign of ``cuts`` cuts when ``--jobs`` is not given: 1 below
    :data:`MIN_PARALLEL` cuts; else the cores not busy with other work, ``floor(cores - load
    average) + 1`` (the +1 is this process's own share of the load), between 1 and the cores.
    A second worker on a core another job already uses makes the campaign slower, not faster."""
    if cuts < MIN_PARALLEL:
        return 1
    cores = cpu_count()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):     # not available on this platform
        load = 0.0
    return max(1, min(cores, int(cores - load) + 1))


def execute(fn: Callable, campaign, tasks: list, jobs: int, scheduler: str | None) -> Iterator:
    """Yield ``fn(campaign, *task)`` for every task (a tuple), in completion order."""
    if scheduler is not None:
        yield from _dask(fn, campaign, tasks, scheduler)
        return
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)) or 1, mp_context=ctx) as pool:
        futures = [pool.submit(fn, campaign, *task) for task in tasks]
        for fut in as_completed(futures):
            yield fut.result()


def _dask(fn: Callable, campaign, tasks: list, scheduler: str) -> Iterator:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError as exc:  # optional extra
        raise NotSupported("--scheduler needs Dask distributed: pip install 'flashstack[dask]'") from exc
    client = Client(scheduler, set_as_default=False)
    try:
        with client.as_current():
            remote = client.scatter(campaign, broadcast=True)
            futures = [client.submit(fn, remote, *task, pure=False) for task in tasks]
            for fut in dask_completed(futures):
                yield fut.result()
    finally:
        client.close()
