"""Read-only importers: partition tables of other ecosystems as boards (docs/board-layouts.md IM-1..IM-6).

* Nordic Partition Manager ``partitions.yml`` / ``pm_static.yml`` (:mod:`.nordic_pm`);
* ESP-IDF ``partitions.csv`` and the binary partition table, alone or at its offset in a
  flash dump (:mod:`.esp_idf`);
* AliOS-Things ``hal_partitions[]`` C tables (:mod:`.alios`).

:func:`detect` tells which importer a file needs (None: not an importer's file);
:func:`load` returns the :class:`~flashstack.board.Board`. Every error names the file and line.
"""

from __future__ import annotations

import os

from ..model import Board


def detect(path) -> str | None:
    """``"nordic-pm"``, ``"esp-idf-csv"``, ``"esp-idf-bin"``, ``"alios"`` or None, from the
    file name and its first bytes (IM-1)."""
    p = os.fspath(path)
    name = os.path.basename(p).lower()
    if not os.path.isfile(p):
        return None
    if name.endswith((".yml", ".yaml")):
        return "nordic-pm" if name != "domains.yaml" else None
    if name.endswith(".csv"):
        return "esp-idf-csv"
    if name.endswith((".c", ".h")):
        with open(p, encoding="utf-8", errors="replace") as f:
            return "alios" if "hal_partitions" in f.read() else None
    if name.endswith((".bin", ".img", ".dump", ".raw")):
        from .esp_idf import find_binary_table

        return "esp-idf-bin" if find_binary_table(p) is not None else None
    return None


def load(path, kind: str | None = None, include_dirs=()) -> Board:
    """The board of an importer's file (``kind`` as :func:`detect`, found when None).
    Errors: InvalidArgument (EINVAL) naming file and line; NotSupported (ENOSYS) when an
    extra is missing."""
    from ...errors import InvalidArgument

    kind = kind or detect(path)
    if kind == "nordic-pm":
        from .nordic_pm import load_pm_yaml
        return load_pm_yaml(path)
    if kind == "esp-idf-csv":
        from .esp_idf import load_csv
        return load_csv(path)
    if kind == "esp-idf-bin":
        from .esp_idf import load_binary
        return load_binary(path)
    if kind == "alios":
        from .alios import load_hal_partitions
        return load_hal_partitions(path, include_dirs)
    raise InvalidArgument(f"{os.fspath(path)}: not a partition table flashstack can import "
                          "(Partition Manager YAML, ESP-IDF CSV/binary table, AliOS hal_partitions)")
