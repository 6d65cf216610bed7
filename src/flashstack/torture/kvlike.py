"""Model, invariants and GC exercise shared by every key-value target (AliOS KV, NVS,
Settings, user stores).

The model is a plain dict ``key -> value``. After a cut inside operation *op*, with
``before``/``after`` the models before and after *op* completed uncut:

- every key holds ``before[key]`` or ``after[key]`` (an interrupted set: old or new value;
  a delete or prefix delete: each key old or deleted; keys *op* does not touch: unchanged;
  no key appears from nowhere);
- the store's own structure check (e.g. no duplicate live keys) is clean;
- then, on the selected cuts, a deeper structure check (the store's ``scan()``) is clean and
  the store accepts writes through a full GC cycle (every erase
  page of the partition erased at least once, or as the target defines it) and still holds
  every key, before and after one more remount.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import NoSpace, NotFound
from .target import CheckOutcome, Target

__all__ = ["DictTarget", "check_dict", "show_value"]

class _Absent:
    """The "key absent" marker. It pickles by name, so ``is _ABSENT`` still holds after the
    model crossed into a worker process (an ``object()`` would arrive as a stranger)."""

    __slots__ = ()

    def __reduce__(self):
        return "_ABSENT"

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


class Either:
    """The model value of a key after a refused write: equal to any of ``options`` (the old
    value, possibly absent, and the refused new one)."""

    __slots__ = ("options",)
    options: tuple
    __hash__ = None  # type: ignore[assignment]  # unhashable, as a class defining __eq__ is

    def __init__(self, *options):
        flat: list = []
        for o in options:
            flat.extend(o.options if isinstance(o, Either) else (o,))
        self.options = tuple(flat)

    def __eq__(self, other):
        if isinstance(other, Either):
            return any(o == other for o in self.options)
        return any(other is o or other == o for o in self.options)

    def __repr__(self) -> str:
        return " or ".join(show_value(o) for o in self.options)
_PATTERN = bytes(range(256)) * 260  # churn values: slices of a rotating byte ramp (<= 65 KiB)


def show_value(v) -> str:
    """Short text for a model value (``absent``, ``12 bytes 0a1b2c…``)."""
    if v is _ABSENT:
        return "absent"
    if isinstance(v, Either):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        h = bytes(v[:8]).hex()
        return f"{len(v)} bytes {h}{'…' if len(v) > 8 else ''}"
    return repr(v)


def check_dict(observed: dict, before: dict, after: dict, what: str = "key") -> list:
    """Per-key all-or-nothing rule (module docstring); one violation line per bad key."""
    out = []
    for k in sorted(set(observed) | set(before) | set(after), key=repr):
        o, b, a = observed.get(k, _ABSENT), before.get(k, _ABSENT), after.get(k, _ABSENT)
        if o == b or o == a:
            continue
        if b == a:
            out.append(f"{what} {k!r} changed although the operation did not touch it: "
                       f"expected {show_value(b)}, found {show_value(o)}")
        else:
            out.append(f"{what} {k!r} holds neither its old nor its new value: old {show_value(b)}, "
                       f"new {show_value(a)}, found {show_value(o)}{_first_diff(o, a)}")
    return out


def _first_diff(found, new) -> str:
    """Where a found value first departs from the new one (a torn value keeps a prefix)."""
    if not isinstance(found, (bytes, bytearray)) or not isinstance(new, (bytes, bytearray)):
        return ""
    n = next((i for i, (x, y) in enumerate(zip(found, new)) if x != y), min(len(found), len(new)))
    return f" (equal to the new value up to byte {n})" if n else ""


class DictTarget(Target):
    """Base of key-value targets. Subclasses provide :meth:`mount`, :meth:`observe`,
    :meth:`kv_set`, :meth:`kv_delete`, optionally :meth:`kv_delete_prefix` and
    :meth:`structure`, and :meth:`workload`. ``churn_key`` / ``churn_size`` drive the GC
    exercise; its writes are bounded by ``exercise_limit`` plus four partitions' worth."""

    what = "key"
    exercise_name = "GC-cycle exercise"
    churn_key: ClassVar[object] = "__torture_gc__"  # a key of the target's kind (id or name)
    churn_size: int = 256
    exercise_limit: int = 400

    # --- store access (override) ----------------------------------------------------------
    def observe(self, store) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    def kv_set(self, store, key, value) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def kv_delete(self, store, key) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def kv_delete_prefix(self, store, prefix) -> None:
        for key in [k for k in self.observe(store) if str(k).startswith(prefix)]:
            self.kv_delete(store, key)

    def structure(self, store) -> list:
        """Violations of the store's own structure (e.g. duplicate live keys); [] by default.
        Checked on every cut, so it should be cheap."""
        return []

    def deep_structure(self, store) -> list:
        """A thorough structure check (e.g. the store's read-only ``scan()``), run with the
        GC exercise; defaults to :meth:`structure`."""
        return self.structure(store)

    # --- operations and model -------------------------------------------------------------
    def apply_op(self, store, op: tuple):
        kind = op[0]
        try:
            if kind == "set":
                self.kv_set(store, op[1], op[2])
            elif kind == "del":
                self.kv_delete(store, op[1])
            elif kind == "delp":
                self.kv_delete_prefix(store, op[1])
            else:
                raise ValueError(f"unknown operation {kind!r}")
        except NoSpace:
            return "ENOSPC"
        except NotFound:
            return "ENOENT"
        return "ok"

    def model_apply(self, model: dict, op: tuple, result):
        kind = op[0]
        if kind == "set" and result == "ENOSPC":
            # refused, yet it may have landed (Zephyr Settings writes value and name before the
            # name counter, NVS-32, and loses them at the next boot): old or new from now on
            return {**model, op[1]: Either(model.get(op[1], _ABSENT), bytes(op[2]))}
        if result != "ok" or kind in ("mount", "reboot"):
            return model
        new = dict(model)
        if kind == "set":
            new[op[1]] = bytes(op[2])
        elif kind == "del":
            new.pop(op[1], None)
        elif kind == "delp":
            new = {k: v for k, v in new.items() if not str(k).startswith(op[1])}
        return new

    def check(self, store, before, after, op) -> CheckOutcome:
        observed = self.observe(store)
        return CheckOutcome(check_dict(observed, before, after, self.what) + self.structure(store),
                            [], observed)

    def check_state(self, store, model) -> list:
        return check_dict(self.observe(store), model, model, self.what) + self.structure(store)

    # --- GC exercise ------------------------------------------------------------------------
    def gc_cycle_done(self, erased: list) -> bool:
        """Whether the erases since the exercise began (one count per erase page of the
        partition) make a full GC cycle. Default: every page erased at least once (stores
        that collect round-robin: NVS, logs). Stores that only collect blocks holding garbage
        override it."""
        return all(erased)

    def exercise(self, store, area, observed: dict) -> list:
        """Write until a full GC cycle happened (:meth:`gc_cycle_done`), then check that the
        contents survived (live, and after a remount)."""
        deep = self.deep_structure(store)
        if deep:
            return deep
        dev = area.device
        pages = [p.index for p in area.erase_pages()]
        base = [dev.stats.erase_cycles[i] for i in pages]
        expected = dict(observed)
        key = self.churn_key
        # enough writes to rewrite the partition several times over, whatever its size
        limit = self.exercise_limit + 4 * area.size // self.churn_size
        for n in range(limit):
            if self.gc_cycle_done([dev.stats.erase_cycles[i] - b for i, b in zip(pages, base)]):
                break
            start = n * 37 % 256  # a different value every write
            value = _PATTERN[start:start + self.churn_size]
            try:
                self.kv_set(store, key, value)
                expected[key] = value
            except NoSpace:
                expected[key] = Either(expected.get(key, _ABSENT), value)  # see model_apply
                victims = sorted((k for k in expected if k != key), key=repr)
                if not victims:
                    return [f"GC exercise: ENOSPC writing {self.churn_size} bytes to an otherwise "
                            "empty store"]
                self.kv_delete(store, victims[0])  # the store is full: make room, keep checking
                del expected[victims[0]]
        else:
            return [f"GC exercise: {limit} writes of {self.churn_size} bytes did not "
                    f"complete a GC cycle (erases per page: "
                    f"{[dev.stats.erase_cycles[i] - b for i, b in zip(pages, base)]})"]
        out = [f"GC exercise: {v}" for v in check_dict(self.observe(store), expected, expected, self.what)]
        if not out:
            again = self.mount(area)
            out = [f"GC exercise, after remount: {v}"
                   for v in check_dict(self.observe(again), expected, expected, self.what)]
            out += self.structure(again)
        return out
