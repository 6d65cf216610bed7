"""Campaign targets: every target a registered store kind names (:mod:`flashstack.stores`,
``StoreKind.targets``: ``kv`` AliOS KV, ``nvs`` Zephyr NVS, ``settings`` Settings on NVS,
``zms`` Zephyr ZMS, ``settings-zms`` Settings on ZMS, ``llkernel`` MicroEJ feature storage,
...), and user targets loaded by ``"module:attribute"``."""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from ...errors import InvalidArgument
from ..target import Target

__all__ = ["TARGETS", "build_target", "targets", "store_kind", "target_class", "load_target",
           "variant_names"]


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


def variant_names() -> set[str]:
    """Targets reached through another target's option (``settings --backend zms``)."""
    return {t for name in targets() for o in target_class(name).cli_options for t in o.variants.values()}


def build_target(name: str, values: Mapping[str, Any], board: str | None = None,
                 partition: str | None = None, geometry: str | None = None) -> Target:
    """The registry target ``name`` built from its options: ``values`` maps each
    :class:`~flashstack.torture.target.TargetOption` name (``block_size``, ``backend``...)
    to its value (missing: the default). A variant option may pick another target
    (``backend="zms"``). ``board``/``partition`` put it on a board partition (default: the
    store kind's default partition of :data:`flashstack.board.DEFAULT_BOARD`), ``geometry``
    (``SIZE:PAGE[:WB[:E]]``) on a bare partition. InvalidArgument (EINVAL) for an option the
    chosen target does not take or for a board together with a geometry; NotFound (ENOENT)
    for an unknown partition."""
    base = cls = target_class(name)
    for o in base.cli_options:
        choice = o.parse(values.get(o.name, o.default))
        if choice in o.variants:
            cls = target_class(o.variants[choice])
    have, extra = cls.option_fields(), {}
    for o in base.cli_options:
        if not o.field:
            continue
        value = o.parse(values.get(o.name, base.option_default(o)))
        if o.field in have:
            extra[o.field] = value
        elif value != base.option_default(o):
            hint = [f"{v.flag} {c}" for v in base.cli_options for c, t in v.variants.items()
                    if o.field in target_class(t).option_fields()]
            raise InvalidArgument(f"{o.flag} does not apply to torture target {name}"
                                  + (f" (it needs {' or '.join(hint)})" if hint else ""))
    return cls.at_location(name, board, partition, geometry, store_kind(name).default_partition,
                           **extra)
