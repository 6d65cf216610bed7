"""Campaign targets: every target a registered store kind names (:mod:`flashstack.stores`,
``StoreKind.targets``: ``kv`` AliOS KV, ``nvs`` Zephyr NVS, ``settings`` Settings on NVS,
``zms`` Zephyr ZMS, ``settings-zms`` Settings on ZMS, ``llkernel`` MicroEJ feature storage,
...), and user targets loaded by ``"module:attribute"``."""

from __future__ import annotations

import importlib

from ...errors import InvalidArgument
from ..target import Target

__all__ = ["TARGETS", "targets", "store_kind", "target_class", "load_target"]


def targets() -> dict[str, str]:
    """Target name -> ``"module:Class"`` (imported on use), from the store registry."""
    from ...stores import kinds
    return {name: ref for k in kinds() for name, ref in k.targets.items()}


def store_kind(target: str):
    """The store kind that registered torture target ``target`` (EINVAL when none did)."""
    from ...stores import kinds
    for k in kinds():
        if target in k.targets:
            return k
    raise InvalidArgument(f"unknown torture target {target!r}; choose from {', '.join(targets())}")


def __getattr__(name: str):
    if name == "TARGETS":   # computed: kinds registered later are included
        return targets()
    raise AttributeError(name)


def _resolve(ref: str):
    mod, _, attr = ref.partition(":")
    if not mod or not attr:
        raise InvalidArgument(f"target {ref!r}: expected MODULE:ATTRIBUTE")
    try:
        obj = importlib.import_module(mod)
    except ImportError as exc:
        raise InvalidArgument(f"target {ref!r}: cannot import {mod}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InvalidArgument(f"target {ref!r}: {mod} has no attribute {attr}") from None
    return obj


def target_class(kind: str) -> type[Target]:
    """The Target class of a built-in ``kind``; EINVAL for an unknown one."""
    return _resolve(store_kind(kind).targets[kind])


def load_target(ref: str) -> Target:
    """A user target: ``MODULE:ATTR`` naming a :class:`Target` instance, or a callable
    (class or factory) that returns one when called without arguments. EINVAL otherwise."""
    obj = _resolve(ref)
    if not isinstance(obj, Target) and callable(obj):
        obj = obj()
    if not isinstance(obj, Target):
        raise InvalidArgument(f"target {ref!r} is a {type(obj).__name__}, not a flashstack.torture.Target")
    return obj
