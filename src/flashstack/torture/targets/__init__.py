"""Campaign targets: ``kv`` (AliOS KV), ``nvs`` (Zephyr NVS), ``settings`` (Settings on NVS),
``zms`` (Zephyr ZMS), ``settings-zms`` (Settings on ZMS), ``llkernel`` (MicroEJ feature
storage), and user targets loaded by ``"module:attribute"``."""

from __future__ import annotations

import importlib

from ...errors import InvalidArgument
from ..target import Target

__all__ = ["TARGETS", "target_class", "load_target"]

#: kind -> "module:class" (imported on use)
TARGETS = {
    "kv": "flashstack.torture.targets.kv:KVTarget",
    "nvs": "flashstack.torture.targets.nvs:NVSTarget",
    "settings": "flashstack.torture.targets.settings:SettingsTarget",
    "llkernel": "flashstack.torture.targets.llkernel:FeatureTarget",
    "zms": "flashstack.torture.targets.zms:ZMSTarget",
    "settings-zms": "flashstack.torture.targets.zms:ZMSSettingsTarget",
}


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


def target_class(kind: str) -> type:
    """The Target class of a built-in ``kind``; EINVAL for an unknown one."""
    if kind not in TARGETS:
        raise InvalidArgument(f"unknown torture target {kind!r}; choose from {', '.join(TARGETS)}")
    return _resolve(TARGETS[kind])


def load_target(ref: str) -> Target:
    """A user target: ``MODULE:ATTR`` naming a :class:`Target` instance, or a callable
    (class or factory) that returns one when called without arguments. EINVAL otherwise."""
    obj = _resolve(ref)
    if not isinstance(obj, Target) and callable(obj):
        obj = obj()
    if not isinstance(obj, Target):
        raise InvalidArgument(f"target {ref!r} is a {type(obj).__name__}, not a flashstack.torture.Target")
    return obj
