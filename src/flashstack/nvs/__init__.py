"""Zephyr NVS, byte-compatible with Zephyr's nvs.c (docs/zephyr-nvs.md).

- :class:`NVSStore` — the store on a flash area (Pythonic API, raises ``flashstack.errors``).
- :mod:`flashstack.nvs.capi` — the seed functions ``nvs_mount``, ``nvs_write``, ... (C names,
  0 / length / negative errno).
- :mod:`flashstack.nvs.settings` — Zephyr Settings on NVS.
- :func:`scan`, :func:`looks_like_nvs` — read-only analysis for ``inspect``.

Power-loss safety: every cut at any flash operation (clean, prefix-torn or torn at bit level),
on 0xFF- and 0x00-erased flash, leaves each id with its old or its new value after the next
mount, with one exception inherent to the format. Recovery differs from the reference only
in states the reference mishandles, by three **[fs]** rules beyond spec §15 (see
:meth:`flashstack.nvs.walk.Walker.recover_last` and ``NVSStore._startup``):

1. ``recover_last`` ends its scan at the first erased slot below the written ATEs: data written
   without its ATE is not read as ATE slots (on 0x00-erased flash the reference takes a value's
   tail plus erased bytes for a valid ATE and then fails every mount with EINVAL);
2. ``recover_last`` also examines the slot at the data end of the last valid ATE (a delete
   written into a full sector; the reference misses it after a torn close ATE and GC brings
   the deleted value back);
3. mount does not scan a write sector whose slot F is erased while the next sector is dirty
   (an interrupted GC whose first copy lost its ATE: the copied data holds no ATE).

**Known limit (N2):** an ATE is guarded by its CRC-8 alone. An ATE program torn by a power cut
(at bit level, or as a prefix: on 0xFF-erased flash only a prefix of 6 or 7 bytes can pass,
since erased length bytes make ``offset + len`` too large, on 0x00-erased flash any prefix)
whose kept bytes still match their CRC-8 by chance (about 1 in 256 such tears) is accepted
at mount as written (a data, delete or close ATE): the id then reads
a value that is neither its old nor its new one, or a phantom id appears. The reference behaves
the same; ``part`` cannot be required to be 0xFF because older Zephyr code programmed it
uninitialised (spec §15 item 10), and a stronger check would change the format. Torture
campaigns report these cases as failures.
"""

from .format import ATE_SIZE, ID_MARKER, Ate, Geometry, NVSConfig, crc8_ccitt, data_crc
from ._scan import NVSScan, detect_nvs, looks_like_nvs, mount_copy, scan
from .settings import NVSSettings
from .store import NVSStore

__all__ = ["ATE_SIZE", "ID_MARKER", "Ate", "Geometry", "NVSConfig", "crc8_ccitt", "data_crc",
           "NVSStore", "NVSScan", "NVSSettings", "detect_nvs", "looks_like_nvs", "mount_copy",
           "scan"]
