"""A RAM index of Settings names for id-addressed stores (NVS, and ZMS when it lands).

Zephyr's Settings backends find a name by reading stored names one id after another
(``settings_nvs_save`` scans every name id from ``last_name_id`` down). :class:`NameIndex`
answers the same questions in O(1): which id holds a name, which id is the lowest free one,
and whether an id could not be read. The backend owns the ids and the store; it tells the
index what each id holds (:meth:`put`, :meth:`free`, :meth:`bad`) after every change it
makes, and rebuilds the index from the store when the store was changed behind its back
(see ``NVSSettings``: it compares the store's ``generation`` counter).

The index knows nothing about a format: ids are ints, names are the stored bytes. A name
the backend can never match (longer than its buffer) is recorded with ``put(id, None)``:
the id is taken but holds no findable name.
"""

from __future__ import annotations

import bisect

__all__ = ["NameIndex"]


class NameIndex:
    """Name bytes -> ids holding them, plus the free and unreadable ids of a backend.

    Interface (all O(1) or O(log n), ``n`` = ids in use):

    * ``put(id, name)`` — ``id`` holds ``name`` (bytes), or an unmatchable name (None).
    * ``free(id)`` — ``id`` holds no name (never written, or deleted).
    * ``bad(id)`` — reading ``id`` failed (neither free nor matchable; the reference skips it).
    * ``forget(id)`` — ``id`` left the backend's range: no longer tracked at all.
    * ``find(name)`` — the highest id holding ``name``, or None.
    * ``lowest_free()`` — the lowest free id, or None.
    * ``has_bad`` / ``bad_at_or_above(id)`` — whether unreadable ids exist (at or above ``id``).

    An id is in exactly one state at a time; each call replaces the previous state of ``id``.
    """

    __slots__ = ("_bad", "_free", "_ids", "_name_of")

    def __init__(self) -> None:
        self._ids: dict[bytes, list[int]] = {}     # name -> ids holding it, ascending (few)
        self._name_of: dict[int, bytes | None] = {}
        self._free: list[int] = []                  # sorted ascending
        self._bad: set[int] = set()

    def __len__(self) -> int:
        """Ids tracked (holding a name, free or bad)."""
        return len(self._name_of) + len(self._free) + len(self._bad)

    def _clear_state(self, id_: int) -> None:
        if id_ in self._name_of:
            name = self._name_of.pop(id_)
            if name is not None:
                ids = self._ids[name]
                ids.remove(id_)
                if not ids:
                    del self._ids[name]
            return
        if id_ in self._bad:
            self._bad.discard(id_)
            return
        i = bisect.bisect_left(self._free, id_)
        if i < len(self._free) and self._free[i] == id_:
            del self._free[i]

    def put(self, id_: int, name: bytes | None) -> None:
        """``id_`` holds ``name`` (None: a name that can never match)."""
        self._clear_state(id_)
        self._name_of[id_] = name
        if name is not None:
            bisect.insort(self._ids.setdefault(name, []), id_)

    def free(self, id_: int) -> None:
        """``id_`` holds no name."""
        self._clear_state(id_)
        bisect.insort(self._free, id_)

    def bad(self, id_: int) -> None:
        """Reading ``id_`` failed."""
        self._clear_state(id_)
        self._bad.add(id_)

    def forget(self, id_: int) -> None:
        """Stop tracking ``id_``."""
        self._clear_state(id_)

    def find(self, name: bytes) -> int | None:
        """The highest id holding ``name``, or None."""
        ids = self._ids.get(name)
        return ids[-1] if ids else None

    def lowest_free(self) -> int | None:
        """The lowest free id, or None."""
        return self._free[0] if self._free else None

    @property
    def has_bad(self) -> bool:
        """True when some id could not be read."""
        return bool(self._bad)

    def bad_at_or_above(self, id_: int) -> bool:
        """True when an unreadable id ``>= id_`` exists."""
        return any(b >= id_ for b in self._bad)

    def state(self) -> dict[int, bytes | None | str]:
        """Every tracked id: its name bytes, None (unmatchable), ``"free"`` or ``"bad"``
        (for tests and reports)."""
        out: dict[int, bytes | None | str] = dict(self._name_of)
        out.update((i, "free") for i in self._free)
        out.update((i, "bad") for i in self._bad)
        return out
