"""Seed functions ``aos_kv_*`` (docs/alios-kv.md §15.1): thin wrappers over :class:`KVStore`
with the original names, argument order and return codes (0 or negative errno).

They act on the default store (:func:`set_default_store`, the reference's single global
KV manager) or on the keyword-only ``store=``. ``PowerLoss`` propagates.
Upstream: AliOS-Things ``components/kv/src/kv_aos.c`` @ceff1e3c.
"""

from __future__ import annotations

import errno

from ..errors import InvalidArgument, NoDevice, call_with_errno, to_return_code
from .store import KVStore

__all__ = ["set_default_store", "get_default_store", "aos_kv_init", "aos_kv_deinit", "aos_kv_set",
           "aos_kv_get", "aos_kv_del", "aos_kv_del_by_prefix", "aos_kv_secure_set", "aos_kv_secure_get"]

_default: KVStore | None = None


def set_default_store(store: KVStore | None) -> None:
    """Install the store the seed functions use when no ``store=`` is given."""
    global _default
    _default = store


def get_default_store() -> KVStore | None:
    return _default


def _store(store):
    s = store if store is not None else _default
    if s is None:
        raise NoDevice("no KV store configured (flashstack.kv.set_default_store)")
    return s


def aos_kv_init(*, store: KVStore | None = None) -> int:
    """Mount the store; 0 (also when already mounted), -ENODEV without a store, -EIO."""
    return to_return_code(lambda: _store(store).mount())


def aos_kv_deinit(*, store: KVStore | None = None) -> None:
    """Drop the RAM state (no flash operation)."""
    s = store if store is not None else _default
    if s is not None:
        s.unmount()


def _set(method, key, value, len_, store) -> int:
    def run():
        s = _store(store)
        if key is None or value is None or len_ <= 0 or len_ > s.config.max_val_len or len(value) < len_:
            raise InvalidArgument(f"{method}: key {key!r}, len {len_}: value missing, shorter than len, "
                                  f"or len outside 1..{s.config.max_val_len}")
        getattr(s, method)(key, bytes(value[:len_]))
    return to_return_code(run)


def aos_kv_set(key, value, len, sync=1, *, store: KVStore | None = None) -> int:  # noqa: A002 - C name
    """Store ``value[:len]`` under ``key``; 0, -EINVAL, -ENOSPC, -EIO. ``sync`` is ignored."""
    return _set("set", key, value, len, store)


def aos_kv_secure_set(key, value, len, sync=1, *, store: KVStore | None = None) -> int:  # noqa: A002
    """As :func:`aos_kv_set`, encrypted; -ENOSYS when secure items are off, -EBUSY on provider failure."""
    return _set("secure_set", key, value, len, store)


def _get(method, key, buffer, buffer_len, store) -> tuple[int, int]:
    def run():
        s = _store(store)
        if key is None or buffer is None or buffer_len <= 0 or len(buffer) < buffer_len:
            raise InvalidArgument(f"{method}: key {key!r}: buffer missing or shorter than buffer_len {buffer_len}")
        return getattr(s, method)(key)
    rc, value = call_with_errno(run)
    if rc:
        return rc, buffer_len
    if len(value) > buffer_len:
        return -errno.ENOSPC, len(value)
    buffer[:len(value)] = value
    return 0, len(value)


def aos_kv_get(key, buffer, buffer_len, *, store: KVStore | None = None) -> tuple[int, int]:
    """Copy the value into ``buffer`` (a bytearray); ``(0, val_len)``, ``(-ENOENT, buffer_len)``,
    ``(-ENOSPC, val_len)`` when it does not fit, ``(-EINVAL, buffer_len)``."""
    return _get("get", key, buffer, buffer_len, store)


def aos_kv_secure_get(key, buffer, buffer_len, *, store: KVStore | None = None) -> tuple[int, int]:
    """As :func:`aos_kv_get`, decrypted."""
    return _get("secure_get", key, buffer, buffer_len, store)


def aos_kv_del(key, *, store: KVStore | None = None) -> int:
    """Delete ``key``; 0, -EINVAL, -ENOENT, -EIO."""
    return to_return_code(lambda: _store(store).delete(key))


def aos_kv_del_by_prefix(prefix, *, store: KVStore | None = None) -> int:
    """Delete every key starting with ``prefix``; 0 or -EINVAL."""
    return to_return_code(lambda: _store(store).delete_by_prefix(prefix))
