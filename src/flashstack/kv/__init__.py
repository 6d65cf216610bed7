"""The AliOS-Things KV store, byte-compatible with the firmware (spec/alios-kv.md).

:class:`KVStore` over a FlashArea or a HAL partition, :class:`KVConfig`, the on-flash
format helpers, :func:`scan` (read-only analysis) and the ``aos_kv_*`` seed functions in
:mod:`flashstack.kv.aos`.
"""

from .aos import get_default_store, set_default_store
from .config import KVConfig
from .format import crc8, encode_record
from .scan import ScanReport, scan  # binds the function over the submodule attribute
from .store import KVStore

__all__ = ["KVStore", "KVConfig", "crc8", "encode_record", "set_default_store", "get_default_store",
           "scan", "ScanReport", "open_kv"]


def open_kv(hal, config: KVConfig | None = None, **kwargs) -> KVStore:
    """A store (not mounted) on HAL partition ``config.partition`` (default PARAMETER_2) of
    ``hal``, or on ``hal.span(*config.span)`` in multi-partition mode."""
    config = config or KVConfig()
    storage = hal.span(*config.span) if config.span else hal.partition(config.partition)
    return KVStore(storage, config, **kwargs)
