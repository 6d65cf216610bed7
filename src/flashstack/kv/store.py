"""``KVStore``: the AliOS-Things KV, byte-compatible with the firmware (docs/alios-kv.md).

Same records, states, CRC-8, recovery and garbage collection as AliOS-Things
``components/kv/src/kv.c`` @8690e33f ("version A"), and the same sequence of program and
erase operations; GC runs inside the call that makes it pending (KV-25); a RAM index makes
``get`` O(1) (KV-27). Positions are bytes relative to the start of the KV area.
"""

from __future__ import annotations

from typing import Iterator

from ..errors import DeviceIOError, InvalidArgument, NoSpace, NotFound, quoted
from . import format as fmt
from .config import KVConfig, validate_storage
from .engine import NO_SPACE, KVEngine

__all__ = ["KVStore", "shadow_area"]


class KVStore(KVEngine):
    """The KV store on ``storage`` (a FlashArea, HAL partition view or span; partition-relative).

    ``KVStore(storage, config=KVConfig())`` validates the geometry (KV-1, EINVAL); call
    :meth:`mount` before use. Errors carry the errno of spec §15.2: InvalidArgument (EINVAL),
    NotFound (ENOENT), NoSpace (ENOSPC), DeviceIOError (EIO: storage failure, unmounted or failed
    store), NotSupported (ENOSYS, secure items off). ``PowerLoss`` propagates and leaves the
    store failed until the next :meth:`mount`.

    :attr:`reason` says why the store issues its current flash operations; to see them, put
    the store on a recording area: ``area, rec = area.recorded(note=lambda: store.reason)``
    (:class:`~flashstack.device.RecordingFlash`).

    Upstream: AliOS-Things ``components/kv/src/kv.c`` @8690e33f (``kv_item_set``,
    ``kv_item_get``, ``kv_item_delete``, ``kv_item_delete_by_prefix``) and ``kv_secure.c``.
    """

    # ------------------------------------------------------------------ argument rules (§10.1)
    def _check(self) -> None:
        if not self.mounted:
            raise DeviceIOError(f"KV on {getattr(self.storage, 'name', 'storage')} is not mounted")
        if self.failed:
            raise DeviceIOError("KV store failed after a storage error or power loss; mount again")

    def _key(self, key, what: str = "key", *, for_set: bool = False, allow_empty: bool = False) -> bytes:
        """KV-16 key rules. A set refuses keys longer than ``max_key_len`` and keys holding a
        0xFF byte (§14 item 15); a lookup (get, delete, prefix) of a longer key simply finds
        nothing, as in the reference (``kv_item_get``/``kv_item_delete`` do not check the length)."""
        if isinstance(key, str):
            k = key.encode("utf-8", "surrogateescape")  # undecodable argv bytes round-trip
        elif isinstance(key, (bytes, bytearray, memoryview)):
            k = bytes(key)
        else:
            raise InvalidArgument(f"KV {what} must be str or bytes, not {type(key).__name__}")
        if not k and not allow_empty:
            raise InvalidArgument(f"KV {what} is empty")
        if 0 in k:
            raise InvalidArgument(f"KV {what} {quoted(k)} contains a NUL byte")
        if for_set:
            if len(k) > self.config.max_key_len:
                raise InvalidArgument(f"KV {what} {quoted(k[:32])}... is {len(k)} bytes; max_key_len is "
                                      f"{self.config.max_key_len}")
            if 0xFF in k:
                raise InvalidArgument(f"KV key {quoted(k)} contains a 0xFF byte (reserved: torn records)")
        return k

    def _missing(self, k: bytes) -> str:
        if len(k) > self.config.max_key_len:
            return (f"KV key {quoted(k[:32])}... not found: {len(k)} bytes, longer than max_key_len "
                    f"{self.config.max_key_len}")
        return f"KV key {quoted(k)} not found"

    def _value(self, key: bytes, value) -> bytes:
        if isinstance(value, str):
            raise InvalidArgument(f"KV value of {quoted(key)} must be bytes, not str")
        v = bytes(value)
        if not 1 <= len(v) <= self.config.max_val_len:
            raise InvalidArgument(f"KV value of {quoted(key)} is {len(v)} bytes; 1..{self.config.max_val_len} "
                                  "allowed")
        return v

    # ------------------------------------------------------------------ operations (§10)
    def set(self, key, value) -> None:
        """``kv_item_set``: store ``value`` (1..max_val_len bytes) under ``key`` (§10.2).

        Errors: EINVAL (arguments), ENOSPC (no room after GC and one retry), EIO, PowerLoss.
        """
        self._check()
        k = self._key(key, for_set=True)
        v = self._value(k, value)
        if self.config.secure_level >= 2:
            v = self._crypt(k, v)
        self._set_raw(k, v)

    def _set_raw(self, k: bytes, v: bytes) -> None:
        if self._set_once(k, v) == NO_SPACE:
            self._finish()
            if self._set_once(k, v) == NO_SPACE:
                self._finish()
                raise NoSpace(f"KV set of key {quoted(k)}: no room for a {self.config.record_len(len(k), len(v))}"
                              f"-byte record after garbage collection")
        self._finish()

    def _set_once(self, k: bytes, v: bytes) -> int:
        self._reason = f"set {quoted(k)}"
        copies = self.index.get(k)
        vl = len(v)
        if copies:
            p0, vl0 = copies[0]
            if vl0 == vl and self._read(p0 + self.HDR + len(k), vl) == v:
                return 0
            rec = fmt.encode_record(k, v, p0, pos32=self.config.pos32, align=self.config.align)
            p = self._store(rec)
            if p == NO_SPACE:
                return p
            for c, _ in copies:
                self._delete_at(c)
        else:
            rec = fmt.encode_record(k, v, 0, pos32=self.config.pos32, align=self.config.align)
            p = self._store(rec)
            if p == NO_SPACE:
                return p
        self.index[k] = [(p, vl)]
        return 0

    def get(self, key) -> bytes:
        """``kv_item_get``: the value of the first live copy (never writes flash; CRC not checked).

        Errors: EINVAL (empty key, NUL byte), ENOENT (no such key; also a key longer than
        ``max_key_len``, as the reference, which does not check the length here), EIO.
        """
        self._check()
        k = self._key(key)
        v = self._get_raw(k)
        return self._crypt(k, v) if self.config.secure_level >= 2 else v

    def _get_raw(self, k: bytes) -> bytes:
        copies = self.index.get(k)
        if not copies:
            raise NotFound(self._missing(k))
        p, vl = copies[0]
        return self._read(p + self.HDR + len(k), vl)

    def delete(self, key) -> None:
        """``kv_item_delete``: delete every live copy of ``key`` (KV-17). EINVAL (empty key, NUL),
        ENOENT (no such key, over-long keys included), EIO."""
        self._check()
        k = self._key(key)
        copies = self.index.get(k)
        if not copies:
            raise NotFound(self._missing(k))
        self._reason = f"delete {quoted(k)}"
        del self.index[k]
        for p, _ in copies:
            self._delete_at(p)
        self._finish()

    def delete_by_prefix(self, prefix) -> int:
        """``kv_item_delete_by_prefix``: delete every live record whose key starts with ``prefix``
        (``""`` = all), in search order (KV-18). Returns the number of keys deleted. EINVAL, EIO."""
        self._check()
        if prefix is None:
            raise InvalidArgument("KV delete_by_prefix: prefix is None")
        pre = self._key(prefix, "prefix", allow_empty=True)
        keys = [k for k in self.index if k.startswith(pre)]
        positions = sorted(p for k in keys for p, _ in self.index[k])
        for k in keys:
            del self.index[k]
        self._reason = f"delete_by_prefix {quoted(pre)}"
        for p in positions:
            self._delete_at(p)
        self._finish()
        return len(keys)

    delete_prefix = delete_by_prefix

    # ------------------------------------------------------------------ secure items (§10.5)
    def _crypt(self, k: bytes, data: bytes) -> bytes:
        from .secure import ofb_crypt
        return ofb_crypt(data, self.secure_key, self.secure_iv, key_name=k)

    def secure_set(self, key, value) -> None:
        """``kv_secure_set``: set of AES-256-OFB(value) with the caller's key and IV (KV-20).

        Errors: ENOSYS (secure_level 0 or ``cryptography`` missing), EBUSY (provider), as :meth:`set`.
        """
        self._check()
        self._secure_enabled()
        k = self._key(key, for_set=True)
        self._set_raw(k, self._crypt(k, self._value(k, value)))

    def secure_get(self, key) -> bytes:
        """``kv_secure_get``: the decrypted value. ENOSYS, EBUSY, as :meth:`get`."""
        self._check()
        self._secure_enabled()
        k = self._key(key)
        return self._crypt(k, self._get_raw(k))

    def _secure_enabled(self) -> None:
        if self.config.secure_level == 0:
            from ..errors import NotSupported
            raise NotSupported("KV secure items are off (secure_level 0)")

    # ------------------------------------------------------------------ queries
    def __contains__(self, key) -> bool:
        try:
            k = self._key(key)
        except InvalidArgument:
            return False
        return bool(self.index.get(k))

    def __len__(self) -> int:
        return len(self.index)

    def _ordered(self) -> list[tuple[bytes, list]]:
        return sorted(self.index.items(), key=lambda kv: kv[1][0][0])

    def keys(self) -> list[bytes]:
        """Live keys (bytes) in search order."""
        self._check()
        return [k for k, _ in self._ordered()]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.keys())

    def items(self) -> list[tuple[bytes, bytes]]:
        """``(key, value)`` of the first live copy of every key, in search order (raw stored bytes)."""
        self._check()
        return [(k, self._read(c[0][0] + self.HDR + len(k), c[0][1])) for k, c in self._ordered()]

    def stats(self) -> dict:
        """Per block: state, used, free, live and dead bytes; store: live keys, live bytes,
        reclaimable bytes, CLEAN blocks, write position, gc pending (§15.3)."""
        self._check()
        B = self.B
        live = [0] * self.N
        for k, copies in self.index.items():
            for p, vl in copies:
                live[p // B] += self.config.record_len(len(k), vl)
        blocks = []
        for b in range(self.N):
            used = B - fmt.BLK_HDR_SIZE - self.space[b]
            blocks.append({"index": b, "offset": b * B, "state": fmt.BLOCK_STATE_NAMES.get(self.state[b], "?"),
                           "used": used, "free": self.space[b], "live": live[b], "dead": max(0, used - live[b])})
        return {"blocks": blocks, "live_keys": len(self.index), "live_bytes": sum(live),
                "reclaimable_bytes": sum(x["dead"] for x in blocks if x["state"] == "DIRTY"),
                "free_bytes": self.space[self.write_pos // B] if self.write_pos // B < self.N else 0,
                "clean_blocks": self.clean, "write_pos": self.write_pos, "gc_pending": self.gc_pending}

    def scan(self):
        """Read-only analysis of the image (KV-32): see :func:`flashstack.kv.scan`."""
        from ._scan import scan
        return scan(self.storage, self.config)

    @classmethod
    def mount_readonly(cls, storage, config: KVConfig | None = None) -> "KVStore":
        """The store mounted on an in-memory copy of ``storage`` (:func:`shadow_area`: a
        FlashArea's :meth:`~flashstack.flash_map.FlashArea.memory_copy`, or a copy of a HAL
        partition view): ``storage`` is only read, never written, whatever mount repairs.
        EINVAL for a geometry that breaks KV-1; mount errors propagate."""
        config = config or KVConfig()
        store = cls(shadow_area(storage, config), config)
        store.mount()
        return store

    def __repr__(self) -> str:
        return (f"KVStore({getattr(self.storage, 'name', 'storage')}, {self.N}x{self.B:#x}, "
                f"{'mounted' if self.mounted else 'unmounted'})")


def shadow_area(storage, config: KVConfig):
    """An in-memory copy of the KV area of ``storage`` as a FlashArea (erase page = block size,
    multi-program), for read-only analysis and dry runs that must never write the original."""
    from ..device import SimulatedFlash
    from ..flash_map import FlashArea
    config.validate()
    validate_storage(config, storage, writing=False)  # geometry of the real storage, not the copy
    if isinstance(storage, FlashArea):
        return storage.memory_copy(config.total_size, name="shadow")
    # A HAL partition or span: validate_storage made every segment write block 1, erase value
    # 0xFF, block boundaries on erase pages, so blocks are the copy's erase pages.
    B = config.block_size
    dev = SimulatedFlash(config.total_size, erase_page_size=B, write_block_size=1, erase_value=0xFF,
                         allow_double_writes=True, name="shadow")
    dev.restore(b"".join(storage.read(b * B, B) for b in range(config.blocks)))
    return FlashArea(0, 0, config.total_size, dev, label="shadow")
