"""The one registry of store kinds: register once, look up by name or alias, detect in order."""

from __future__ import annotations

from ..errors import InvalidArgument, NotFound
from .base import Detection, PartitionView, StoreKind

__all__ = ["detect_all", "find", "kinds", "lookup", "names", "register"]

_KINDS: dict[str, StoreKind] = {}
_ALIASES: dict[str, str] = {}


def register(kind: StoreKind) -> StoreKind:
    """Add ``kind`` to the registry (its name and aliases); returns it. InvalidArgument
    (EINVAL) when the name or an alias is already taken by another kind."""
    if not kind.name:
        raise InvalidArgument(f"{kind!r}: a store kind needs a name")
    for n in (kind.name, *kind.aliases):
        owner = _ALIASES.get(n)
        if owner is not None and owner != kind.name:
            raise InvalidArgument(f"store kind name {n!r} is already registered by {owner!r}")
    _KINDS[kind.name] = kind
    for n in (kind.name, *kind.aliases):
        _ALIASES[n] = kind.name
    return kind


def find(name: str) -> StoreKind | None:
    """The kind registered under ``name`` (name or alias), or None."""
    key = _ALIASES.get(name)
    return None if key is None else _KINDS[key]


def lookup(name: str) -> StoreKind:
    """The kind registered under ``name`` (name or alias). NotFound (ENOENT) listing the
    registered names otherwise."""
    kind = find(name)
    if kind is None:
        raise NotFound(f"unknown store kind {name!r} (known: {', '.join(names())})")
    return kind


def kinds() -> list[StoreKind]:
    """Every registered kind, in detection order."""
    return sorted(_KINDS.values(), key=lambda k: k.order)


def names() -> list[str]:
    """Registry names, in detection order."""
    return [k.name for k in kinds()]


def detect_all(view: PartitionView, min_confidence: float = 0.0) -> list[Detection]:
    """Every kind that recognises ``view``, most confident first (detection order breaks ties)."""
    found = []
    for k in kinds():
        d = k.detect(view)
        if d is not None and d.confidence > min_confidence:
            found.append(d)
    return sorted(found, key=lambda d: -d.confidence)
