"""The verdicts of the geometry checks NVS and ZMS run at mount, before any write.

A store opened with another geometry than the one its bytes were written with (sector size,
ATE slot size, write block) would read valid entries as invalid and collect them away. Each
store counts the evidence its format gives (NVS: close ATEs and data ATE offsets,
docs/zephyr-nvs.md §10; ZMS: sector headers and data ATE offsets, ZMS-42); the thresholds and
the messages, which name both geometries, are the same and live here.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InvalidArgument

__all__ = ["layout_refusal", "write_block_refusal"]


def write_block_refusal(name: str, w: int, bad: int, data: int,
                        offsets: Iterable[int]) -> InvalidArgument | None:
    """EINVAL when ``bad`` of the ``data`` data ATEs have offsets that are not multiples of the
    write block ``w`` the store is opened with (at least two, and a quarter of them: a lone
    CRC-valid slot in damaged bytes does not count), else None. ``offsets``: the data ATEs'
    offsets, consumed only to name the write block written (the smallest power of two among
    them)."""
    if bad < 2 or 4 * bad < data:
        return None
    offs = [o for o in offsets if o]
    written = min(o & -o for o in offs) if offs else 1
    return InvalidArgument(f"{name}: opened with a {w}-byte write block, but {bad} of {data} "
                           "data ATEs have offsets that are not multiples of it: the store was "
                           f"written with a {written}-byte write block; nothing written")


def layout_refusal(name: str, opened: tuple[int, int, int], written: tuple[int, int],
                   evidence: str, detail: str = "") -> InvalidArgument:
    """EINVAL naming the geometry opened (``(sector size, ATE slot size, write block)``), the
    one written (``(sector size, ATE slot size)``) and what says so (``evidence``, e.g.
    "5 sectors hold close ATEs", and ``detail``, e.g. " (against 1 for ours)")."""
    s, a, w = opened
    t, b = written
    return InvalidArgument(f"{name}: opened with sector size {s:#x} and {a}-byte ATE slots "
                           f"(write block {w}), but {evidence} for sector size {t:#x} and "
                           f"{b}-byte ATE slots{detail}: the store was written with another geometry; "
                           "nothing written")
