"""AliOS linuxhost partition files (docs/alios-hal.md §7, HAL-15).

AliOS runs its flash HAL on Linux with one file per partition, ``aos_partition_<pno>.bin``
(or ``aos_partition_<pid>_<pno>.bin``), created empty and grown on write (upstream
``platform/mcu/linux/main/hw.c`` @042d34cd). These functions move partition contents between a
:class:`HalFlash` and such a directory. Import writes through the flash map's privileged path
(HAL-5), so read-only partitions (bootloaders) can be filled too.
"""

from __future__ import annotations

import os

from ..errors import InvalidArgument
from ..flash_map import FlashArea
from .flash import HalFlash

__all__ = ["linuxhost_name", "linuxhost_plan", "export_linuxhost", "import_linuxhost"]


def linuxhost_name(partition: int, pid: int | None = None) -> str:
    """``aos_partition_<pno>.bin`` or ``aos_partition_<pid>_<pno>.bin``."""
    return f"aos_partition_{partition}.bin" if pid is None else f"aos_partition_{pid}_{partition}.bin"


def export_linuxhost(hal: HalFlash, directory: str, pid: int | None = None) -> list[str]:
    """Write every partition of ``hal`` to ``directory`` (full partition length); returns the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for p, area in sorted(hal.areas.items()):
        path = os.path.join(directory, linuxhost_name(p, pid))
        with open(path, "wb") as f:
            f.write(area.read(0, area.size))
        paths.append(path)
    return paths


def linuxhost_plan(hal: HalFlash, directory: str,
                   pid: int | None = None) -> list[tuple[int, FlashArea, str, bytes]]:
    """``(partition, area, path, bytes)`` for every regular ``aos_partition_*`` file of
    ``directory`` that names a partition of ``hal``, its bytes padded with 0xFF to the
    partition size; a file longer than its partition is refused (EINVAL naming the file)."""
    plan = []
    for p, area in sorted(hal.areas.items()):
        path = os.path.join(directory, linuxhost_name(p, pid))
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if len(data) > area.size:
            raise InvalidArgument(f"{path}: {len(data)} bytes, partition {hal._pname(p)} has {area.size}")
        plan.append((p, area, path, data + b"\xff" * (area.size - len(data))))
    return plan


def import_linuxhost(hal: HalFlash, directory: str, pid: int | None = None) -> list[int]:
    """Load every ``aos_partition_*`` file of ``directory`` that names a partition of ``hal``.

    A file shorter than its partition is padded with 0xFF; a longer one is refused (EINVAL naming
    the file) before anything is written (:func:`linuxhost_plan`). The covering erase pages are
    erased, then the data programmed. Returns the partitions loaded.
    """
    plan = linuxhost_plan(hal, directory, pid)
    for _p, area, _path, data in plan:
        priv = area.privileged()
        priv.flatten(0, area.size)
        priv.write(0, data)
    return [p for p, _, _, _ in plan]
