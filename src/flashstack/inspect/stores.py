"""The store probes of earlier releases, now living in the store registry
(:mod:`flashstack.stores`): these names stay importable from here."""

from __future__ import annotations

from ..kv.format import BLOCK_STATE_NAMES
from ..llkernel.header import REMOVED_MAGIC, USED_MAGIC
from ..stores import lookup
from ..stores.base import PartitionView
from ..stores.kv import kv_block_header, kv_block_size
from ..stores.llkernel import llkernel_geometry, llkernel_headers

__all__ = ["probe_kv", "probe_nvs", "probe_llkernel", "kv_block_size", "kv_block_header",
           "llkernel_geometry", "llkernel_headers", "KV_STATES", "LLK_USED", "LLK_REMOVED"]

KV_STATES = BLOCK_STATE_NAMES
LLK_USED, LLK_REMOVED = USED_MAGIC, REMOVED_MAGIC


def probe_kv(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    """The ``alios-kv`` kind's report (:meth:`flashstack.stores.kv.KVKind.describe`)."""
    return lookup("alios-kv").describe(v, hint, details)


def probe_nvs(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    """The ``zephyr-nvs`` kind's report."""
    return lookup("zephyr-nvs").describe(v, hint, details)


def probe_llkernel(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    """The ``llkernel`` kind's report."""
    return lookup("llkernel").describe(v, hint, details)
