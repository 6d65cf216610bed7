"""The store registry: one place that knows every on-flash format flashstack reads or writes.

Jobs (build, inspect, torture, plan/wear) and the CLI ask the registry; they never switch on
store names. A format is one module defining a :class:`StoreKind` plus one ``register`` line
below (see docs/ARCHITECTURE.md, "Store registry")::

    from flashstack import stores
    kind = stores.lookup("zephyr-nvs")            # or an alias: "nvs"
    found = stores.detect_all(view)               # Detection(kind, confidence, params, sources)
    report = kind.describe(view, hint=None, details=False)
    store = kind.open(area, {"sector_size": 4096}, writable=False)   # never writes ``area``
"""

from .base import Detection, PartitionView, PlanAdapter, StoreKind, memory_copy, report
from .context import Param, Resolved, resolve
from .kv import KVKind
from .littlefs import LittleFSKind
from .llkernel import LLKernelKind
from .mcuboot import McubootKind
from .nvs import NVSKind
from .raw import ErasedKind, RawKind
from .registry import detect_all, find, kinds, lookup, names, register
from .zms import ZMSKind

__all__ = [
           "Detection",
           "Param",
           "PartitionView",
           "PlanAdapter",
           "Resolved",
           "StoreKind",
           "detect_all",
           "find",
           "kinds",
           "lookup",
           "memory_copy",
           "names",
           "register",
           "report",
           "resolve",
]

register(ErasedKind())
register(McubootKind())
register(ZMSKind())
register(KVKind())
register(NVSKind())
register(LLKernelKind())
register(LittleFSKind())
register(RawKind())
