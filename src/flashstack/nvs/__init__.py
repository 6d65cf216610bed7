"""Zephyr NVS, byte-compatible with Zephyr's nvs.c (spec/zephyr-nvs.md).

- :class:`NVSStore` — the store on a flash area (Pythonic API, raises ``flashstack.errors``).
- :mod:`flashstack.nvs.zephyr` — the seed functions ``nvs_mount``, ``nvs_write``, ... (C names,
  0 / length / negative errno).
- :mod:`flashstack.nvs.settings` — Zephyr Settings on NVS.
- :func:`scan`, :func:`looks_like_nvs` — read-only analysis for ``inspect``.
"""

from .format import ATE_SIZE, ID_MARKER, Ate, Geometry, NVSConfig, crc8_ccitt, data_crc
from .scan import NVSScan, detect_nvs, looks_like_nvs, mount_copy, scan
from .settings import NVSSettings
from .store import NVSStore

__all__ = ["ATE_SIZE", "ID_MARKER", "Ate", "Geometry", "NVSConfig", "crc8_ccitt", "data_crc",
           "NVSStore", "NVSScan", "NVSSettings", "detect_nvs", "looks_like_nvs", "mount_copy",
           "scan"]
