"""Zephyr Settings on NVS: named settings with Zephyr's id scheme (docs/zephyr-nvs.md §17).

Upstream: zephyr subsys/settings/src/settings_nvs.c @44fb3feb (``settings_nvs_save``,
``settings_nvs_load``, ``settings_nvs_backend_init``) and
subsys/settings/include/settings/settings_nvs.h @cab0bb78. Each setting is two NVS entries:
its name (ASCII, no NUL) at a name id in 0x8001..0xBFFF and its value at name id + 0x4000;
id 0x8000 holds ``last_name_id`` (u16 LE). Ids below 0x8000 stay free for direct NVS use.

The reference finds a name by reading every name id; flashstack keeps a
:class:`~flashstack.nvs._settings_index.NameIndex` of what each name id holds, so ``save`` and
``get`` cost O(1). It is rebuilt by one such scan when the store's ``generation`` shows a
change this object did not make; ``scan_name`` keeps the reference's scan as its oracle.
"""

from __future__ import annotations

import errno
import struct
from typing import Iterator

from ..errors import FlashError, InvalidArgument, NoMemory, NotFound, quoted
from ._settings_index import NameIndex
from .store import NVSStore

__all__ = ["NAMECNT_ID", "NAME_ID_OFFSET", "NAME_MAX", "NVSSettings", "decode_settings",
           "settings_geometry"]

NAMECNT_ID = 0x8000       # NVS_NAMECNT_ID
NAME_ID_OFFSET = 0x4000   # NVS_NAME_ID_OFFSET
NAME_MAX = 73             # SETTINGS_MAX_NAME_LEN + SETTINGS_EXTRA_LEN: longest name that fits
_FIRST_FREE_LIMIT = NAMECNT_ID + NAME_ID_OFFSET  # 0xC000: no name ids left
_NAME_BUF = NAME_MAX + 1  # rdname[SETTINGS_MAX_NAME_LEN + SETTINGS_EXTRA_LEN + 1]
_RESERVED = 0xBFFF        # [fs] its value id would be the marker id 0xFFFF (§15 item 5)


def settings_geometry(area, sector_size_mult: int = 1, sector_count: int = 8) -> tuple[int, int]:
    """Zephyr's default ``(sector_size, sector_count)`` for a settings partition (NVS-31):
    ``CONFIG_SETTINGS_NVS_SECTOR_SIZE_MULT`` × the first sector, at most
    ``CONFIG_SETTINGS_NVS_SECTOR_COUNT`` sectors. EDOM (as InvalidArgument) above 0xFFFF."""
    first = area.sectors()[0].fs_size
    size = sector_size_mult * first
    if size > 0xFFFF:
        raise InvalidArgument(f"partition {area.name}: settings sector size {size} > 0xffff",
                              errno.EDOM)
    return size, min(sector_count, area.size // size)


class NVSSettings:
    """Settings over an :class:`NVSStore`. ``init()`` mounts the store if needed and reads
    ``last_name_id``. Names are ``str`` (ASCII/UTF-8), values ``bytes``.

    Errors: those of the store (EACCES, ENOSPC, EIO, ...), ENOMEM when no name id is left,
    EINVAL for an empty or too long name.
    """

    def __init__(self, store: NVSStore):
        self.store = store
        self.last_name_id = NAMECNT_ID
        self.names = NameIndex()      # what ids 0x8001..last_name_id hold
        self._names_gen: int | None = None  # store.generation the index matches (None: stale)
        self._has_gen = hasattr(store, "generation")

    @classmethod
    def on_area(cls, area, sector_size_mult: int = 1, sector_count: int = 8,
                data_crc: bool = False) -> "NVSSettings":
        """Settings with Zephyr's default geometry on ``area``, initialised."""
        s, n = settings_geometry(area, sector_size_mult, sector_count)
        self = cls(NVSStore(area, s, n, data_crc))
        self.init()
        return self

    def init(self) -> None:
        """``settings_nvs_backend_init``: mount, then ``last_name_id`` from id 0x8000."""
        if not self.store.mounted:
            self.store.mount()
        self._names_gen = None
        try:
            self.last_name_id = _last_name_id(self.store.read(NAMECNT_ID))
        except NotFound:
            self.last_name_id = NAMECNT_ID

    # --- helpers ------------------------------------------------------------------
    def _read_name(self, name_id: int) -> str | None:
        """The name at ``name_id`` read into a 74-byte buffer as the reference does; None for a
        name longer than 73 bytes. Raises NotFound and the store's other errors."""
        n, raw = self.store.read_entry(name_id, 0, _NAME_BUF)
        if n > NAME_MAX:  # [fs] the reference overflows its buffer here (NVS-34)
            return None
        return raw.decode("utf-8", "surrogateescape")

    def _store_last(self) -> None:
        self.store.write(NAMECNT_ID, struct.pack("<H", self.last_name_id))

    @staticmethod
    def _check_name(name: str) -> bytes:
        raw = name.encode("utf-8", "surrogateescape")
        if not raw or len(raw) > NAME_MAX or b"\0" in raw:
            raise InvalidArgument(f"setting name {quoted(name)}: 1..{NAME_MAX} bytes without NUL")
        return raw

    # --- name index ----------------------------------------------------------
    def _index(self) -> NameIndex:
        """The name index, rebuilt by one pass over the name ids when the store changed
        behind the Settings' back (another writer, a remount, an interrupted call)."""
        gen = self.store.generation if self._has_gen else None  # none: always rebuild
        if gen is None or self._names_gen != gen:
            idx = NameIndex()
            for name_id in range(NAMECNT_ID + 1, self.last_name_id + 1):
                self._probe(idx, name_id)
            self.names = idx
            self._names_gen = gen
        return self.names

    def _probe(self, idx: NameIndex, name_id: int) -> None:
        """Record what ``name_id`` holds, read as both scans of the reference read it."""
        try:
            stored = self._read_name(name_id)
            if stored is None:
                self.store.read(name_id)   # get() reads long names whole: may fail there
        except NotFound:
            idx.free(name_id)
            return
        except FlashError:
            idx.bad(name_id)
            return
        idx.put(name_id, None if stored is None else stored.encode("utf-8", "surrogateescape"))

    def _synced(self) -> None:
        """The index matches the store again after this object's own writes."""
        self._names_gen = self.store.generation if self._has_gen else None

    def scan_name(self, raw_name: bytes) -> tuple[int | None, int]:
        """The reference's scan (``settings_nvs_save``): ``(id holding the name or None,
        free id)`` reading every name id from ``last_name_id`` down; the index's oracle."""
        free_id = self.last_name_id + 1
        for name_id in range(self.last_name_id, NAMECNT_ID, -1):
            try:
                stored = self._read_name(name_id)
            except NotFound:
                free_id = name_id   # scanning down: the lowest free id wins
                continue
            except FlashError:      # another read error: skip this id, as the reference
                continue
            if stored is not None and stored.encode("utf-8", "surrogateescape") == raw_name:
                return name_id, free_id
        return None, free_id

    def _lookup(self, raw_name: bytes) -> tuple[int | None, int]:
        """``scan_name`` answered by the index."""
        idx = self._index()
        found = idx.find(raw_name)
        if found is not None:
            return found, self.last_name_id + 1    # the free id is unused when found
        low = idx.lowest_free()
        return None, self.last_name_id + 1 if low is None else low

    # --- API -----------------------------------------------------------------------
    def save(self, name: str, value: bytes | None) -> None:
        """``settings_nvs_save``: store ``value`` under ``name``; None or empty deletes."""
        raw_name = self._check_name(name)
        idx = self._index()
        found = idx.find(raw_name)
        if value and found is not None and found < _RESERVED:  # common: a known name
            self.store.write(found + NAME_ID_OFFSET, value)
            self._synced()
            return
        found, free_id = self._lookup(raw_name)
        if not value:
            if found is None:
                return
            if found == self.last_name_id:
                self.last_name_id -= 1
                self._store_last()
            self.store.delete(found)
            self.store.delete(found + NAME_ID_OFFSET)
            if found <= self.last_name_id:
                idx.free(found)
            else:
                idx.forget(found)
            self._synced()
            return
        name_id = found if found is not None else free_id
        if name_id in (_FIRST_FREE_LIMIT, _RESERVED):
            raise NoMemory(f"settings: no name id left for {quoted(name)} (ids 0x8001..0xbffe in use)")
        self.store.write(name_id + NAME_ID_OFFSET, bytes(value))
        if found is None:
            self.store.write(name_id, raw_name)
        if name_id > self.last_name_id:
            self.last_name_id = name_id
            self._store_last()
        idx.put(name_id, raw_name)
        self._synced()

    def delete(self, name: str) -> None:
        """Delete ``name`` (no error when missing)."""
        self.save(name, None)

    def get(self, name: str, hist: int = 0) -> bytes:
        """The value of ``name``; with ``hist`` > 0 an older value: NVS history ``hist`` of
        its value id (``nvs_read_hist``; a delete entry counts, NVS-19, and garbage
        collection keeps only the newest entry). NotFound (ENOENT) when the name is missing or
        that history entry does not exist or is a delete; EINVAL for a negative ``hist``;
        EIO when a name id above the match cannot be read (as the reference's scan)."""
        raw_name = self._check_name(name)
        if hist < 0:
            raise InvalidArgument(f"settings: {quoted(name)}: history {hist} (0 = current value)")
        idx = self._index()
        found = idx.find(raw_name)
        if idx.has_bad and idx.bad_at_or_above(NAMECNT_ID + 1 if found is None else found):
            found = self._get_scan(raw_name)   # the scan raises that id's read error
        if found is None:
            raise NotFound(f"settings: no setting named {quoted(name)}")
        try:
            return self.store.read_hist(found + NAME_ID_OFFSET, hist)
        except NotFound:
            raise NotFound(f"settings: {quoted(name)} (value id {found + NAME_ID_OFFSET:#x}) "
                           f"has no history entry {hist}") from None

    def _get_scan(self, raw_name: bytes) -> int | None:
        """The reference's lookup for ``get``: full reads from ``last_name_id`` down."""
        for name_id in range(self.last_name_id, NAMECNT_ID, -1):
            try:
                stored = self.store.read(name_id)
            except NotFound:
                continue
            if stored == raw_name:
                return name_id
        return None

    def load(self) -> Iterator[tuple[str, bytes]]:
        """``settings_nvs_load``: ``(name, value)`` from the newest name id down, cleaning up
        half-written pairs as the reference does (that writes to flash). Names longer than
        73 bytes are skipped [fs]."""
        out = []
        for name_id in range(self.last_name_id, NAMECNT_ID, -1):
            name = self._try(name_id, _NAME_BUF)
            # the reference reads the value into a 1-byte buffer: only its length matters
            value = self._try(name_id + NAME_ID_OFFSET, 1)
            if name is None and value is None:
                continue
            if name is None or value is None:
                if name_id == self.last_name_id:
                    self.last_name_id -= 1
                    self._store_last()
                self.store.delete(name_id)
                self.store.delete(name_id + NAME_ID_OFFSET)
                continue
            if name[0] > NAME_MAX:
                continue
            full = self.store.read(name_id + NAME_ID_OFFSET)
            out.append((name[1].decode("utf-8", "surrogateescape"), full))
        return iter(out)

    def items(self) -> dict[str, bytes]:
        """The settings ``load()`` would report, as a dict, without its clean-up writes."""
        content = dict(self.store.items())
        content[NAMECNT_ID] = struct.pack("<H", self.last_name_id)
        return decode_settings(content) or {}

    def _try(self, nvs_id: int, buf_len: int):
        """``(length, bytes)`` or None for any read error (the reference tests ``rc <= 0``)."""
        try:
            return self.store.read_entry(nvs_id, 0, buf_len)
        except FlashError:
            return None


def _last_name_id(raw: bytes | None) -> int:
    """The u16 counter stored at id 0x8000 (0x8000 itself when missing or shorter than 2 bytes)."""
    return struct.unpack("<H", raw[:2])[0] if raw and len(raw) >= 2 else NAMECNT_ID


def decode_settings(items: dict[int, bytes]) -> dict[str, bytes] | None:
    """The settings a Zephyr device would load from live NVS content (id -> bytes), without
    writing: name ids 0x8001..``last_name_id`` (the u16 at 0x8000) holding both a name and a
    value. None when the ids do not look like Settings (no counter and no pair)."""
    raw_last = items.get(NAMECNT_ID)
    last = _last_name_id(raw_last)
    pairs = {}
    for name_id in sorted((i for i in items if NAMECNT_ID < i <= last), reverse=True):
        name = items[name_id]
        value = items.get(name_id + NAME_ID_OFFSET)
        if value is not None and 0 < len(name) <= NAME_MAX:
            pairs[name.decode("utf-8", "surrogateescape")] = value
    if not pairs and raw_last is None:
        return None
    return pairs
