"""The AliOS-Things KV store, byte-compatible with the firmware (docs/alios-kv.md).

:class:`KVStore` over a FlashArea or a HAL partition, :class:`KVConfig`, the on-flash
format helpers, :func:`scan` (read-only analysis) and the ``aos_kv_*`` seed functions in
:mod:`flashstack.kv.capi`.

Power-loss safety: every cut at any flash operation (clean, prefix-torn or torn at bit level)
leaves each key with its old or its new value after the next mount, with one exception that
is inherent to the format. **Known limit:** a record's CRC-8 covers ``key || value`` and nothing
else guards a value, so a record write torn inside its value (or key) whose CRC-8 still matches
by chance, about 1 in 256 torn record writes, is accepted at mount as a valid record; for an
update the interrupted-update rule then deletes the old record, so the key ends with a value
that is neither its old nor its new one (a prefix of the new value followed by 0xFF bytes, or a
bit-torn variant). The reference firmware behaves the same; a fix would need a stronger check
and thus a different on-flash format. Torture campaigns report these cases as failures. Torn
states finer than a byte are described in :mod:`flashstack.kv.engine`.
"""

from .capi import get_default_store, set_default_store
from .config import KVConfig
from .format import crc8, encode_record
from ._scan import ScanReport, scan
from .store import KVStore

__all__ = ["KVStore", "KVConfig", "crc8", "encode_record", "set_default_store", "get_default_store",
           "scan", "ScanReport", "open_kv"]


def open_kv(hal, config: KVConfig | None = None, **kwargs) -> KVStore:
    """A store (not mounted) on HAL partition ``config.partition`` (default PARAMETER_2) of
    ``hal``, or on ``hal.span(*config.span)`` in multi-partition mode."""
    config = config or KVConfig()
    storage = hal.span(*config.span) if config.span else hal.partition(config.partition)
    return KVStore(storage, config, **kwargs)
