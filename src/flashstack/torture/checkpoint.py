"""Checkpoints of a store's RAM state, taken with the flash left out.

A cut inside workload step *i* must start from the exact RAM state the store had before step
*i* (its indexes, write positions, pending flags), not from a remount, and it must not replay
steps 0..i-1. :func:`freeze` pickles the store with the device and its areas replaced by
persistent references; :func:`thaw` rebuilds an independent copy attached to the same
device. Stores that pickle cannot handle fall back to ``copy.deepcopy`` with the device and
areas pinned in the memo.
"""

from __future__ import annotations

import copy
import io
import pickle
import struct

__all__ = ["Frozen", "freeze", "thaw"]


class Frozen:
    """An immutable checkpoint: pickle bytes, or a private deep copy (fallback)."""

    __slots__ = ("blob", "copy")

    def __init__(self, blob: bytes | None, copy_: object = None):
        self.blob = blob
        self.copy = copy_


class _Pickler(pickle.Pickler):
    def __init__(self, f, pinned: dict[int, int]):
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self._pinned = pinned

    def persistent_id(self, obj):
        if type(obj) is struct.Struct:  # immutable, not picklable: rebuilt from its format
            return ("struct", obj.format)
        return self._pinned.get(id(obj))


def freeze(store, pinned: list) -> Frozen:
    """Checkpoint ``store``; objects in ``pinned`` (device, areas) are shared, not copied."""
    if store is None:
        return Frozen(None)
    ids = {id(o): i for i, o in enumerate(pinned)}
    buf = io.BytesIO()
    try:
        _Pickler(buf, ids).dump(store)
        return Frozen(buf.getvalue())
    except (pickle.PicklingError, TypeError, AttributeError):
        memo = {id(o): o for o in pinned}
        return Frozen(None, copy.deepcopy(store, memo))


def thaw(frozen: Frozen, pinned: list):
    """A fresh, independent store from a checkpoint, attached to the ``pinned`` objects."""
    if frozen.blob is None:
        if frozen.copy is None:
            return None
        memo = {id(o): o for o in pinned}
        return copy.deepcopy(frozen.copy, memo)
    up = pickle.Unpickler(io.BytesIO(frozen.blob))
    # pickle's documented hook: assign persistent_load on the unpickler instance
    up.persistent_load = lambda pid: struct.Struct(pid[1]) if type(pid) is tuple else pinned[pid]  # type: ignore[method-assign]
    return up.load()
