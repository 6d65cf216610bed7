"""Seeded workloads: lists of operations, the same for a given (name, parameters, ops, seed).

Names take optional parameters: ``"mixed:keys=40,delete=0.3,vmax=200"``. Operations are tuples:

- key-value stores: ``("set", key, value)``, ``("del", key)``, ``("delp", prefix)``,
  ``("reboot",)``;
- feature storage: ``("install", rom_size, ram_size, content_seed)``, ``("remove", nth)``
  (the ``nth`` installed Feature, modulo the count, in slot order), ``("reboot",)``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from ..errors import InvalidArgument

__all__ = ["DICT_WORKLOADS", "FEATURE_WORKLOADS", "DictSpace", "parse_workload", "dict_workload",
           "feature_workload", "feature_content"]

#: name -> (description, default parameters)
DICT_WORKLOADS: dict[str, tuple[str, dict[str, float]]] = {
    "mixed": ("random sets, updates, deletes, prefix deletes and reboots over a small key set",
              dict(keys=24, vmin=1, vmax=48, delete=0.15, prefix=0.02, reboot=0.02, same=0.03)),
    "hotkey": ("update storm on a few hot keys (forces GC again and again), a few cold keys",
               dict(keys=12, hot=2, vmin=24, vmax=96, cold=0.05, delete=0.01, prefix=0.0,
                    reboot=0.01, same=0.0)),
    "fill": ("new keys until the store is full (ENOSPC), then deletes and more fills",
             dict(vmin=32, vmax=128, delete=0.12, prefix=0.0, reboot=0.01, same=0.0)),
}

FEATURE_WORKLOADS: dict[str, tuple[str, dict[str, float]]] = {
    "churn": ("install/remove churn of Features of random ROM/RAM sizes",
              dict(remove=0.4, reboot=0.05, rom_min=64, rom_fill=0.9, ram_max=4096)),
}


def parse_workload(spec: str, table: dict) -> tuple[str, dict]:
    """``"name:k=v,..."`` → ``(name, parameters)`` merged over the defaults of ``table[name]``.

    InvalidArgument (EINVAL) for an unknown name or parameter, or a value that is not a number.
    """
    name, _, rest = spec.partition(":")
    if name not in table:
        raise InvalidArgument(f"unknown workload {name!r}; choose from {', '.join(table)}")
    params = dict(table[name][1])
    for item in filter(None, (x.strip() for x in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or key not in params:
            raise InvalidArgument(f"workload {name}: unknown parameter {item!r} "
                                  f"(known: {', '.join(params)})")
        try:
            params[key] = type(params[key])(float(value)) if isinstance(params[key], int) \
                else float(value)
        except ValueError:
            raise InvalidArgument(f"workload {name}: {key}={value!r} is not a number") from None
    return name, params


@dataclass(frozen=True)
class DictSpace:
    """How a key-value target names keys and bounds values.

    ``key(i)`` names key number ``i``; ``prefixes`` are the groups a prefix delete may name
    (empty: the store has no prefix delete); ``max_val`` the largest value accepted.
    """

    key: Callable[[int], object]
    max_val: int
    prefixes: tuple = ()


def dict_workload(spec: str, ops: int, seed: int, space: DictSpace) -> list:
    """The operations of workload ``spec`` (see :data:`DICT_WORKLOADS`) for a key space."""
    name, p = parse_workload(spec, DICT_WORKLOADS)
    rng = random.Random(seed)
    vmax = max(1, min(int(p["vmax"]), space.max_val))
    vmin = max(1, min(int(p["vmin"]), vmax))
    shadow: dict = {}
    out: list = []
    fresh = 0

    def value(key):
        if key in shadow and rng.random() < p["same"]:
            return shadow[key]
        return rng.randbytes(rng.randint(vmin, vmax))

    while len(out) < ops:
        r = rng.random()
        if r < p["reboot"]:
            out.append(("reboot",))
            continue
        r -= p["reboot"]
        if space.prefixes and r < p["prefix"]:
            pre = rng.choice(space.prefixes)
            out.append(("delp", pre))
            shadow = {k: v for k, v in shadow.items() if not str(k).startswith(pre)}
            continue
        r -= p["prefix"] if space.prefixes else 0
        if r < p["delete"] and shadow:
            key = rng.choice(sorted(shadow, key=str))
            out.append(("del", key))
            shadow.pop(key)
            continue
        if name == "fill":
            key = space.key(fresh)
            fresh += 1
        elif name == "hotkey" and rng.random() >= p["cold"]:
            key = space.key(rng.randrange(int(p["hot"])))
        else:
            key = space.key(rng.randrange(int(p["keys"])))
        v = value(key)
        out.append(("set", key, v))
        shadow[key] = v
    return out


def feature_content(seed: int, n: int) -> bytes:
    """The ``n`` content bytes of a Feature installed with ``content_seed`` ``seed``."""
    return random.Random(seed).randbytes(n)


def feature_workload(spec: str, ops: int, seed: int, max_features: int, slot_size: int,
                     ram_size: int) -> list:
    """Install/remove churn (see :data:`FEATURE_WORKLOADS`); ROM sizes fit a slot."""
    _, p = parse_workload(spec, FEATURE_WORKLOADS)
    rng = random.Random(seed)
    rom_max = max(int(p["rom_min"]), int((slot_size - 32) * p["rom_fill"]))
    ram_max = max(0, min(int(p["ram_max"]), ram_size // max(1, max_features)))
    count = 0
    out: list[tuple] = []
    while len(out) < ops:
        r = rng.random()
        if r < p["reboot"] and out:
            out.append(("reboot",))
        elif count and (count >= max_features or r < p["reboot"] + p["remove"]):
            out.append(("remove", rng.randrange(count)))
            count -= 1
        else:
            out.append(("install", rng.randint(int(p["rom_min"]), rom_max), rng.randint(0, ram_max),
                        rng.getrandbits(32)))
            count += 1
    return out
