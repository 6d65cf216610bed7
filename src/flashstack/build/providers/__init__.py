"""Partition content providers, by manifest ``type``: the store registry
(:mod:`flashstack.stores`) names each kind's provider (``StoreKind.provider``); a manifest
``type`` is a kind's name or alias (``file`` is the ``raw`` kind). A provider module is
imported only when a manifest uses it.
"""

from __future__ import annotations

import importlib

from ..manifest import ManifestError, PartitionEntry
from .base import Options, Provider

__all__ = ["PROVIDERS", "Options", "Provider", "make_provider", "providers"]

def providers() -> dict[str, str]:
    """Manifest ``type`` -> ``"module:Class"``: every registered kind that can be built, under
    its build name (``file`` for the raw kind, else the kind's name)."""
    from ...stores import kinds
    return {("file" if k.name == "raw" else k.name): k.provider for k in kinds() if k.provider}

def __getattr__(name: str):
    if name == "PROVIDERS":   # computed: kinds registered later are included
        return providers()
    raise AttributeError(name)

def make_provider(entry: PartitionEntry) -> Provider:
    """The provider for ``entry.type`` with its options parsed. ManifestError (EINVAL) for an
    unknown type or bad options."""
    from ...stores import find
    kind = find(entry.type)
    target = kind.provider if kind is not None else None
    if target is None:
        raise ManifestError(f"{entry.where('type')}: unknown type {entry.type!r} "
                            f"(known: {', '.join(providers())})")
    module, _, name = target.partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(entry)
