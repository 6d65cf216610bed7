"""Nordic Partition Manager ``partitions.yml`` / ``pm_static.yml`` (IM-5).

Format source: nRF Connect SDK ``scripts/partition_manager/partition_manager.py`` and the
"Partition Manager" documentation (deprecated in NCS 3.3 in favour of devicetree partitions,
still in the field). A top-level mapping of partition name to: ``address`` (bytes), ``size``,
optional ``end_address`` (= address + size), ``region`` (``flash_primary`` by default;
``external_flash``, ``sram_primary``, …), and for containers ``span`` (the names it covers).
Only flash regions (names containing ``flash``) become devices; RAM and OTP regions are
skipped. The generated ``partitions.yml`` also has ``placement``, ``orig_span``,
``sharers``, ``inside``; they describe how the layout was computed and are not needed to read
it.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from ...errors import InvalidArgument, NotSupported
from ..model import Board
from ..soc_layouts import KiB
from ._common import Row, board_from_rows

_LAYOUT = "nRF52/53/91 flash 4 KiB pages (zephyr soc_flash_nrf.c), assumed for every PM region"


def _yaml_nodes(path: str):
    try:
        import yaml
    except ImportError:
        raise NotSupported(f"{path}: reading Partition Manager YAML needs PyYAML: "
                           "install flashstack[yaml]") from None
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise InvalidArgument(f"{where}: invalid YAML: {getattr(e, 'problem', None) or e}") from None
    except UnicodeDecodeError as e:
        raise InvalidArgument(f"{path}: not UTF-8 text ({e.reason})") from None
    if not isinstance(data, dict) or root is None:
        raise InvalidArgument(f"{path}:1: a Partition Manager file is a mapping of partition names")
    lines = {k.value: k.start_mark.line + 1 for k, _ in root.value if hasattr(k, "value")}
    return data, lines


def _number(entry: dict, key: str, where: str) -> int | None:
    v = entry.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidArgument(f"{where}: {key} {v!r} is not an integer")
    if v < 0:
        raise InvalidArgument(f"{where}: {key} {v:#x} is negative")
    return v


def load_pm_yaml(path) -> Board:
    """A board from a Partition Manager file. Errors: InvalidArgument (EINVAL) naming
    ``file:line`` for an entry without address or size, an ``end_address`` that disagrees
    with ``address + size``, a ``span`` naming an unknown partition or not covering it."""
    path = os.fspath(path)
    data, lines = _yaml_nodes(path)
    rows: list[Row] = []
    entries: dict[str, tuple[dict[str, Any], int]] = {}
    for name, entry in data.items():
        line = lines.get(name, 1)
        where = f"{path}:{line}: {name}"
        if not isinstance(entry, dict):
            raise InvalidArgument(f"{where}: expected a mapping with address and size")
        region = entry.get("region", "flash_primary")
        if not isinstance(region, str):
            raise InvalidArgument(f"{where}: region {region!r} is not a name")
        if "flash" not in region:
            continue  # sram_primary, otp, …: not flash
        address = _number(entry, "address", where)
        size = _number(entry, "size", where)
        end = _number(entry, "end_address", where)
        if address is None or (size is None and end is None):
            raise InvalidArgument(f"{where}: needs address and size (or end_address)")
        if size is None:
            size = (end or 0) - address
        if end is not None and end != address + size:
            raise InvalidArgument(f"{where}: end_address {end:#x} is not address {address:#x} "
                                  f"+ size {size:#x}")
        if size <= 0:
            raise InvalidArgument(f"{where}: size must be positive")
        entries[name] = (entry, line)
        rows.append(Row(name, address, size, region, line,
                        address=address if region == "flash_primary" else None))
    parents = _check_spans(path, rows, entries)
    rows = [_with_path(r, parents) for r in rows]
    # address order, a container before what it spans (larger first at one address)
    rows.sort(key=lambda r: (r.device != "flash_primary", r.device, r.offset, -r.size,
                             (r.path or "").count("/"), r.line))
    stem = os.path.basename(path).rsplit(".", 1)[0]
    return board_from_rows(stem, path, rows, page=4 * KiB, wbs=4, layout_source=_LAYOUT,
                           base={"flash_primary": 0},
                           description="imported from Nordic Partition Manager YAML")


def _with_path(row: Row, parents: dict[str, str]) -> Row:
    """A node path for nesting: containers above their spanned partitions (no overlap warning)."""
    chain = [row.name]
    while chain[-1] in parents and len(chain) < 16:
        chain.append(parents[chain[-1]])
    return dataclasses.replace(row, path="/" + "/".join(reversed(chain)))


def _check_spans(path: str, rows: list[Row], entries: dict) -> dict[str, str]:
    """Check every ``span``; return child -> the smallest container spanning it."""
    by_name = {r.name: r for r in rows}
    parents: dict[str, str] = {}
    for r in rows:
        entry, line = entries[r.name]
        span = entry.get("span")
        if span is None:
            continue
        names = span if isinstance(span, list) else [span]
        for n in names:
            child = by_name.get(n) if isinstance(n, str) else None
            if child is None:
                raise InvalidArgument(f"{path}:{line}: {r.name}: span names unknown partition {n!r}")
            if child.device != r.device or child.offset < r.offset or \
                    child.offset + child.size > r.offset + r.size:
                raise InvalidArgument(f"{path}:{line}: {r.name} ({r.offset:#x}+{r.size:#x}) does "
                                      f"not cover {n} ({child.offset:#x}+{child.size:#x})")
            old = parents.get(n)
            if old is None or by_name[old].size > r.size:
                parents[n] = r.name
    return parents
