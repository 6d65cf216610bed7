"""Running campaign chunks on local worker processes or on a Dask cluster.

Local workers are forked where the platform can (Linux: a worker starts in milliseconds, so a
short campaign gains from a second core) and spawned elsewhere; either way each receives the
campaign by value and rebuilds its own device, so results never depend on inherited state. Dask
(``distributed``, extra ``dask``) is imported only when a scheduler is given: ``"local"`` starts
a ``LocalCluster`` of ``jobs`` single-threaded worker processes for the campaign; an address
(``tcp://HOST:PORT``, ``HOST:PORT``, ``tls://...``) is checked and probed first, so a malformed
or unreachable one fails within :data:`CONNECT_TIMEOUT_S` with one line.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import socket
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterator

from ..errors import FlashError, InvalidArgument, NotSupported

__all__ = ["CONNECT_TIMEOUT_S", "LOCAL", "MIN_PARALLEL", "check_scheduler", "cpu_count",
           "default_jobs", "execute"]

#: ``--scheduler`` value that starts a Dask ``LocalCluster`` for the campaign
LOCAL = "local"
#: seconds to wait for a scheduler to answer (probe and Dask handshake each)
CONNECT_TIMEOUT_S = 2.0
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
        yield from _dask(fn, campaign, tasks, scheduler, jobs)
        return
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)) or 1, mp_context=ctx) as pool:
        futures = [pool.submit(fn, campaign, *task) for task in tasks]
        for fut in as_completed(futures):
            yield fut.result()


def check_scheduler(scheduler: str, probe: bool = True) -> str:
    """The normalised address of a Dask scheduler (``tcp://`` added when no scheme is given),
    or :data:`LOCAL`. InvalidArgument (EINVAL) naming the address when it is malformed; with
    ``probe``, FlashError (the connect errno, e.g. ECONNREFUSED, or ETIMEDOUT) when nothing
    answers at a HOST:PORT within :data:`CONNECT_TIMEOUT_S`. Needs no Dask."""
    address, where = _parse_scheduler(scheduler)
    if probe and where is not None:
        _probe(address, where)
    return address


def _parse_scheduler(scheduler: str) -> tuple[str, tuple[str, int] | None]:
    if scheduler == LOCAL:
        return scheduler, None
    text = scheduler.strip()
    scheme, sep, loc = text.rpartition("://")
    scheme = scheme if sep else "tcp"
    if scheme not in ("tcp", "tls", "ws", "wss", "inproc", "ucx"):
        raise InvalidArgument(f"--scheduler {scheduler!r}: unknown scheme {scheme!r} "
                              "(tcp://HOST:PORT, tls://HOST:PORT or 'local')")
    if scheme in ("inproc", "ucx"):
        return f"{scheme}://{loc}", None
    host, colon, port = loc.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"--scheduler {scheduler!r}: expected HOST:PORT (e.g. "
                              "tcp://127.0.0.1:8786) or 'local'")
    return f"{scheme}://{loc}", (host, int(port))


def _probe(address: str, where: tuple[str, int]) -> None:
    """Fail fast (one TCP connect, :data:`CONNECT_TIMEOUT_S`) when nothing listens there."""
    try:
        socket.create_connection(where, timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        # a resolver failure (socket.gaierror) carries an EAI_* code, not an errno
        code = errno.EHOSTUNREACH if isinstance(exc, socket.gaierror) else exc.errno or errno.ETIMEDOUT
        why = exc.strerror or "timed out"
        raise FlashError(f"--scheduler {address}: cannot reach the Dask scheduler ({why})",
                         code) from None


def _client(scheduler: str, jobs: int):
    """A Dask client on ``scheduler`` (and the LocalCluster it owns, or None)."""
    address = check_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # optional extra
        raise NotSupported("--scheduler needs Dask distributed: pip install 'flashstack[dask]'") from exc
    if address != LOCAL:
        try:
            return Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT_S), None
        except OSError as exc:
            raise FlashError(f"--scheduler {address}: no Dask scheduler answered ({exc})",
                             errno.ETIMEDOUT) from None
    cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster, set_as_default=False), cluster


def _dask(fn: Callable, campaign, tasks: list, scheduler: str, jobs: int) -> Iterator:
    from distributed import as_completed as dask_completed
    client, cluster = _client(scheduler, jobs)
    try:
        with client.as_current():
            remote = client.scatter(campaign, broadcast=True)
            futures = [client.submit(fn, remote, *task, pure=False) for task in tasks]
            for fut in dask_completed(futures):
                yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
