"""Zephyr ZMS (Zephyr Memory Storage), byte-compatible with Zephyr's zms.c (docs/zephyr-zms.md).

- :class:`ZMSStore` — the store on a flash area (Pythonic API, raises ``flashstack.errors``).
- :mod:`flashstack.zms.capi` — the seed functions ``zms_mount``, ``zms_write``, ... (C names,
  0 / length / negative errno).
"""

from .format import ATE_SIZE, Ate, Geometry, ZMSConfig
from .store import ZMSStore

__all__ = ["ATE_SIZE", "Ate", "Geometry", "ZMSConfig", "ZMSStore"]
