"""Identify what a partition holds and summarise it, through the store registry.

Every registered kind (:mod:`flashstack.stores`) describes the partition in detection order
— erased, MCUboot, AliOS KV, Zephyr NVS, LLKERNEL, littlefs, then any kind registered later —
and the first that recognises the bytes wins; otherwise the partition is "unknown data" with
its byte statistics (the ``raw`` kind). A hint (the partition's entry in a build record, or
what the user says) runs the named kind first and passes its configuration.

Report dict (all offsets partition-relative): ``kind``, ``summary`` (one line), ``health``
("ok", "warning", "error"), ``problems`` (list of strings), plus kind-specific fields.
"""

from __future__ import annotations

from ..stores.base import PartitionView, report

__all__ = ["PartitionView", "identify", "kinds"]

_report = report   # the name the probes of earlier releases used


def kinds() -> tuple[str, ...]:
    """Report kinds, in detection order (``unknown`` last)."""
    from .. import stores
    return tuple(k.name for k in stores.kinds() if k.name != "raw") + ("unknown",)


def __getattr__(name: str):
    if name == "KINDS":   # computed: kinds registered after import are included
        return kinds()
    raise AttributeError(name)


def identify(v: PartitionView, hint: dict | None = None, details: bool = False) -> dict:
    """Run the registered kinds (the hinted kind first) and return the first report; never
    raises for content problems (they go into ``problems``)."""
    from .. import stores

    order = [k for k in stores.kinds() if k.name != "raw"]
    hinted = stores.find((hint or {}).get("type") or "")
    if hinted is not None and hinted in order:
        order.remove(hinted)
        order.insert(0, hinted)
    for k in order:
        rep = k.describe(v, hint if k is hinted else None, details)
        if rep is not None:
            return rep
    raw = stores.lookup("raw")
    rep = raw.describe(v, hint if hinted is raw else None, details)
    if rep is None:   # the raw kind describes any bytes
        raise AssertionError("the raw store kind declined a partition")
    return rep
