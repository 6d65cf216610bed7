"""Partition content providers, by manifest ``type``.

The store-backed providers (``alios-kv``, ``llkernel``, ``zephyr-nvs``) and ``littlefs`` are
imported only when a manifest uses them.
"""

from __future__ import annotations

import importlib

from ..manifest import ManifestError, PartitionEntry
from .base import Options, Provider

__all__ = ["PROVIDERS", "Options", "Provider", "make_provider"]

#: manifest ``type`` -> "module:class" (relative to this package)
PROVIDERS: dict[str, str] = {
    "file": ".raw:FileProvider",
    "erased": ".raw:ErasedProvider",
    "littlefs": ".littlefs:LittleFSProvider",
    "alios-kv": ".kv:KVProvider",
    "llkernel": ".llkernel:LLKernelProvider",
    "zephyr-nvs": ".nvs:NVSProvider",
    "mcuboot": ".mcuboot:McubootProvider",
    "zephyr-zms": ".zms:ZMSProvider",
}


def make_provider(entry: PartitionEntry) -> Provider:
    """The provider for ``entry.type`` with its options parsed. ManifestError (EINVAL) for an
    unknown type or bad options."""
    target = PROVIDERS.get(entry.type)
    if target is None:
        raise ManifestError(f"{entry.where('type')}: unknown type {entry.type!r} "
                            f"(known: {', '.join(PROVIDERS)})")
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module, __name__), name)
    return cls(entry)
