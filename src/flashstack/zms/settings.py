"""Zephyr Settings on ZMS: names hashed to ids, a linked list of nodes (docs/zephyr-zms.md).

Upstream: zephyr subsys/settings/src/settings_zms.c @057c1d65 (``settings_zms_save``,
``settings_zms_load``, ``settings_zms_load_one``, ``settings_zms_get_last_hash_ids``,
``settings_backend_init``), subsys/settings/include/settings/settings_zms.h @06758ff2 and
lib/hash/hash_func32_murmur3.c @0dde32b3. Each setting is three ZMS entries: its name at a
name id ``0x80000000 | hash bits | collision << 1``, its list node at name id + 1 and its
value at name id + 0x40000000; id 0x80000000 is the list head. With the fixes S1, S2 and S3.
"""

from __future__ import annotations

import errno as _errno
import struct
from collections.abc import Iterator

from ..errors import FlashError, InvalidArgument, NoSpace, NotFound, quoted
from .store import ZMSStore

__all__ = ["DATA_ID_OFFSET", "LL_HEAD_ID", "NAME_MAX", "ZMSSettings", "ZmsSettingsBackend",
           "decode_settings", "hash32", "name_id_of", "settings_geometry"]

LL_HEAD_ID = 0x80000000       # ZMS_LL_HEAD_HASH_ID
DATA_ID_OFFSET = 0x40000000   # ZMS_DATA_ID_OFFSET
NAME_MAX = 73                 # SETTINGS_MAX_NAME_LEN + SETTINGS_EXTRA_LEN
COLLISION_BITS = 4            # CONFIG_SETTINGS_ZMS_MAX_COLLISIONS_BITS
_M32 = 0xFFFFFFFF
_NODE = struct.Struct("<II")


def _mask(hi: int, lo: int) -> int:
    return ((1 << (hi + 1)) - 1) & ~((1 << lo) - 1)


HASH_MASK = _mask(29, COLLISION_BITS + 1)
COLLISIONS_MASK = _mask(COLLISION_BITS, 1)
MAX_COLLISIONS = (1 << COLLISION_BITS) - 1


def _scramble(k: int) -> int:
    k = (k * 0xCC9E2D51) & _M32
    k = ((k << 15) | (k >> 17)) & _M32
    return (k * 0x1B873593) & _M32


def hash32(data: bytes) -> int:
    """Zephyr ``sys_hash32_murmur3`` (seed 0): murmur3 x86_32 blocks, the 1..3 tail bytes
    folded most-significant first and scrambled even when empty. Bytes are unsigned (ARM)."""
    h = 0
    n = len(data) - len(data) % 4
    for (k,) in struct.iter_unpack("<I", data[:n]):
        h ^= _scramble(k)
        h = ((h << 13) | (h >> 19)) & _M32
        h = (h * 5 + 0xE6546B64) & _M32
    k = 0
    for b in data[n:]:
        k = ((k << 8) | b) & _M32
    h ^= _scramble(k)
    h ^= len(data) & _M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


def name_id_of(name: str | bytes, collision: int = 0) -> int:
    """ZMS id of ``name``'s name entry with collision number ``collision`` (node = +1,
    value = +0x40000000)."""
    raw = name.encode("utf-8") if isinstance(name, str) else name
    base = (hash32(raw) & HASH_MASK) | LL_HEAD_ID
    return (base & ~COLLISIONS_MASK) | ((collision << 1) & COLLISIONS_MASK)


def settings_geometry(area, sector_size_mult: int = 1) -> tuple[int, int]:
    """ZMS-36: ``(sector_size, sector_count)`` Zephyr uses for a settings partition."""
    size = sector_size_mult * area.sectors()[0].fs_size
    return size, area.size // size


class ZMSSettings:
    """Settings over a :class:`ZMSStore` (32-bit ids). ``init()`` mounts if needed and walks
    the list. Names are ``str``, values ``bytes``. Errors: the store's (EACCES, ENOSPC, ...),
    ENOSPC for more than 15 names sharing a hash, EINVAL for an empty or too long name.
    """

    def __init__(self, store: ZMSStore):
        self.store = store
        self.last_hash_id = LL_HEAD_ID
        self.second_to_last_hash_id = 0
        self.hash_collision_num = 0
        self.last_ids: dict[str, int] | None = None

    @classmethod
    def on_area(cls, area, sector_size_mult: int = 1) -> ZMSSettings:
        """Settings with Zephyr's default geometry on ``area``, initialised."""
        s, n = settings_geometry(area, sector_size_mult)
        self = cls(ZMSStore(area, s, n))
        self.init()
        return self

    # --- list state (ZMS-36) --------------------------------------------------------
    def init(self) -> None:
        """``settings_zms_backend_init``: mount (if needed), then walk the list."""
        if not self.store.mounted:
            self.store.mount()
        self.hash_collision_num = 0
        self._rebuild_list()

    def _node(self, id_: int) -> tuple[int, int]:
        n, raw = self.store.read_entry(id_, 0, _NODE.size)
        return _NODE.unpack(raw.ljust(_NODE.size, b"\0")[:_NODE.size]) if n else (0, 0)

    def _put_node(self, id_: int, prev: int, nxt: int) -> None:
        self.store.write(id_, _NODE.pack(prev, nxt))

    def _rebuild_list(self) -> None:
        """``settings_zms_get_last_hash_ids``; S5: the repair write's error is returned."""
        cur, prev = LL_HEAD_ID, 0
        self.hash_collision_num = 0
        while True:
            try:
                p, nxt = self._node(cur)
            except NotFound:
                if cur == LL_HEAD_ID:
                    self._put_node(LL_HEAD_ID, 0, 0)
                    self.last_hash_id, self.second_to_last_hash_id = LL_HEAD_ID, 0
                else:
                    self._put_node(self.last_hash_id, self.second_to_last_hash_id, 0)
                return
            if p != prev:  # a cut inside a delete: the previous node is gone
                self.store.delete(p)
                p = prev
                self._put_node(cur, p, nxt)
            prev = cur
            self.hash_collision_num = max(self.hash_collision_num,
                                          (cur & COLLISIONS_MASK) >> 1)
            self.last_hash_id, self.second_to_last_hash_id = cur, p
            if not nxt:
                return
            cur = nxt

    # --- names --------------------------------------------------------------------
    @staticmethod
    def _check_name(name: str) -> bytes:
        raw = name.encode("utf-8")
        if not raw or len(raw) > NAME_MAX or b"\0" in raw:
            raise InvalidArgument(f"settings name {quoted(name)}: 1..{NAME_MAX} bytes without NUL "
                                  "(S3)")
        return raw

    def _stored_name(self, id_: int) -> bytes | None:
        """The name at ``id_`` as load's 73-byte buffer receives it (a longer stored name
        arrives cut, as in the reference); None when missing."""
        try:
            return self.store.read_entry(id_, 0, NAME_MAX)[1]
        except NotFound:
            return None

    def _find(self, raw: bytes) -> tuple[int | None, int, int]:
        """Save's collision search: ``(found name id or None, lowest free i or -1,
        colliding names)``. Errors other than ENOENT propagate."""
        base = name_id_of(raw)
        free, collisions = -1, 0
        for i in range(self.hash_collision_num + 1):
            id_ = base + 2 * i
            try:
                n, got = self.store.read_entry(id_, 0, NAME_MAX + 1)
            except NotFound:
                if free < 0:
                    free = i
                continue
            if n <= NAME_MAX and got == raw:
                return id_, free, collisions
            collisions += 1
        return None, free, collisions

    # --- save / delete (ZMS-37) ---------------------------------------------------
    def save(self, name: str, value: bytes | None) -> None:
        """``settings_zms_save``: store ``value`` (empty or None deletes ``name``)."""
        raw = self._check_name(name)
        self.last_ids = None
        found, free, collisions = self._find(raw)
        base = name_id_of(raw)
        if found is not None:
            name_id = found
        elif collisions <= self.hash_collision_num:
            name_id = base + 2 * free
        else:
            if collisions > MAX_COLLISIONS:
                raise NoSpace(f"settings name {quoted(name)}: more than {MAX_COLLISIONS} names "
                              "share its hash")
            self.hash_collision_num = collisions
            name_id = base + 2 * collisions
        if not value:
            if found is not None:
                self._delete(name_id)
            return
        self.store.write(name_id + DATA_ID_OFFSET, bytes(value))
        if found is None:
            if self.last_hash_id < LL_HEAD_ID:
                self._rebuild_list()
            node = name_id | 1
            self._put_node(node, self.last_hash_id, 0)
            self._put_node(self.last_hash_id, self.second_to_last_hash_id, node)
            self.second_to_last_hash_id, self.last_hash_id = self.last_hash_id, node
            self.store.write(name_id, raw)
        self.last_ids = {"name": name_id, "node": name_id | 1, "value": name_id + DATA_ID_OFFSET}

    def delete(self, name: str) -> None:
        """Delete ``name`` (nothing happens when it is not stored)."""
        self.save(name, b"")

    def _delete(self, name_id: int) -> None:
        self.store.delete(name_id)
        self.store.delete(name_id + DATA_ID_OFFSET)
        self._unlink(name_id | 1)

    def _unlink(self, node: int) -> None:
        p, x = self._node(node)
        if p:
            pp, _ = self._node(p)
            if not x:
                self.second_to_last_hash_id = pp
            self._put_node(p, pp, x)
        self.store.delete(node)
        if x:
            _, xn = self._node(x)
            self._put_node(x, p, xn)
            if not xn:
                self.second_to_last_hash_id = p
        else:
            self.last_hash_id = p

    # --- load (ZMS-38, ZMS-39) ------------------------------------------------------
    def load(self) -> Iterator[tuple[str, bytes]]:
        """``settings_zms_load``: ``(name, value)`` in list order. Half-deleted settings are
        cleaned up on the way (a load may write); S1: the walk continues past them."""
        _, cur = self._node(LL_HEAD_ID)
        while cur:
            name_id = cur & ~1
            name = self._stored_name(name_id)
            try:
                length = self.store.get_data_length(name_id + DATA_ID_OFFSET)
            except NotFound:
                length = 0
            _, nxt = self._node(cur)
            if name is None or not length:
                self._delete(name_id)
            else:
                yield name.decode("utf-8", "surrogateescape"), \
                    self.store.read(name_id + DATA_ID_OFFSET)
            cur = nxt

    def get(self, name: str, hist: int = 0) -> bytes:
        """The value of ``name`` (history ``hist`` of its value id, 0 = current); ENOENT when
        not stored."""
        raw = self._check_name(name)
        base = name_id_of(raw)
        for i in range(self.hash_collision_num + 1):
            if self._stored_name(base + 2 * i) == raw:
                return self.store.read_hist(base + 2 * i + DATA_ID_OFFSET, hist)
        raise NotFound(f"settings name {quoted(name)} not stored (S2)")

    def load_one(self, name: str, buf_len: int) -> tuple[int, bytes]:
        """``settings_zms_load_one``: ``(rc, bytes)`` where rc is the stored length when the
        buffer was filled completely, else the bytes read. ENOENT when not stored (S2)."""
        raw = self._check_name(name)
        base = name_id_of(raw)
        for i in range(self.hash_collision_num + 1):
            if self._stored_name(base + 2 * i) != raw:
                continue
            n, data = self.store.read_entry(base + 2 * i + DATA_ID_OFFSET, 0, buf_len)
            return (n if len(data) == buf_len else len(data)), data
        raise NotFound(f"settings name {quoted(name)} not stored (S2)")

    def items(self) -> dict[str, bytes]:
        """Every setting, in list order (may clean up half-deleted ones, as a load does)."""
        return dict(self.load())


def decode_settings(items: dict[int, bytes]) -> dict[str, bytes] | None:
    """Settings names and values from a ZMS id -> value map (read-only), or None when the
    ids do not look like Settings on ZMS (no list head)."""
    if LL_HEAD_ID not in items or len(items[LL_HEAD_ID]) != _NODE.size:
        return None
    out: dict[str, bytes] = {}
    seen = set()
    cur = _NODE.unpack(items[LL_HEAD_ID])[1]
    while cur and cur not in seen:
        seen.add(cur)
        name_id = cur & ~1
        name, value = items.get(name_id), items.get(name_id + DATA_ID_OFFSET)
        if name is not None and value is not None:
            out[name.decode("utf-8", "surrogateescape")] = value
        node = items.get(cur)
        if node is None or len(node) != _NODE.size:
            break
        cur = _NODE.unpack(node)[1]
    return out


class ZmsSettingsBackend:
    """The Settings backend as Zephyr's core calls it: return codes instead of exceptions.

    ``init()`` is ``settings_backend_init`` on ``area`` (sector size = first erase page,
    count = area size // sector size); ``save`` / ``load`` / ``load_one`` as ``csi_save``,
    ``csi_load``, ``csi_load_one``. ``fs`` is the :class:`~flashstack.zms.capi.ZmsFs`.
    """

    def __init__(self, area, sector_size_mult: int = 1):
        from .capi import ZmsFs
        s, n = settings_geometry(area, sector_size_mult)
        self.fs = ZmsFs(area, 0, s, n)
        self.settings: ZMSSettings | None = None

    def init(self) -> int:
        """Mount and walk the list; 0 or -errno."""
        from .capi import zms_mount
        rc = zms_mount(self.fs)
        if rc:
            return rc
        assert self.fs.store is not None
        self.settings = ZMSSettings(self.fs.store)
        return _rc(self.settings.init)

    def save(self, name: str, value: bytes) -> int:
        """``csi_save``: 0 or -errno."""
        if self.settings is None:
            return -_errno.EACCES
        return _rc(self.settings.save, name, value)

    def load(self) -> list[tuple[str, bytes]]:
        """``csi_load``: what the load handler receives (errors end the load silently)."""
        out: list[tuple[str, bytes]] = []
        if self.settings is None:
            return out
        try:
            for item in self.settings.load():
                out.append(item)  # noqa: PERF402 - keep what was delivered before an error
        except FlashError:
            pass
        return out

    def load_one(self, name: str, buf_len: int) -> tuple[int, bytes]:
        """``csi_load_one``: ``(rc, bytes)``."""
        if self.settings is None:
            return -_errno.EACCES, b""
        try:
            return self.settings.load_one(name, buf_len)
        except FlashError as exc:
            return -(exc.errno or _errno.EIO), b""

    def state(self) -> dict:
        """The backend's RAM state as the vectors record it."""
        st = self.settings
        if st is None:
            return {}
        return {"last_hash_id": st.last_hash_id,
                "second_to_last_hash_id": st.second_to_last_hash_id,
                "hash_collision_num": st.hash_collision_num}

    def ids_of(self, name: str) -> dict | None:
        """ZMS ids of the last saved name (as the vectors' ``ids``)."""
        return self.settings.last_ids if self.settings else None


def _rc(fn, *args) -> int:
    try:
        fn(*args)
    except FlashError as exc:
        return -(exc.errno or _errno.EIO)
    return 0
