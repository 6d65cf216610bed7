"""What the importers share: one flash device per region, partitions from rows (IM-2)."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import InvalidArgument
from ...flash_map.specs import DeviceSpec, PartitionSpec, check_partitions
from ..model import Board


@dataclass(frozen=True)
class Row:
    """One imported partition: ``name``, ``offset``/``size`` bytes on ``device``, ``line``
    of the source file, ``read_only``, ``label`` (the table's own type or description),
    ``address`` (absolute, None when the table has none)."""

    name: str
    offset: int
    size: int
    device: str
    line: int
    read_only: bool = False
    label: str | None = None
    address: int | None = None
    path: str | None = None  # "/container/name" when the table nests partitions


def device_size(end: int) -> int:
    """Smallest power of two (at least 64 KiB) holding ``end`` bytes (IM-2): the tables do
    not give the flash size, flash parts come in powers of two."""
    size = 1 << 16
    while size < end:
        size <<= 1
    return size


def board_from_rows(name: str, source: str, rows: list[Row], *, page: int, wbs: int,
                    layout_source: str, base: dict[str, int | None] | None = None,
                    extra: dict | None = None, description: str = "") -> Board:
    """A Board with one device per distinct ``Row.device`` (size per :func:`device_size`,
    pages of ``page`` bytes) and the rows as partitions, IDs in row order. Overlaps that are
    not nesting warn (as every board); a row past the device is impossible by construction."""
    if not rows:
        raise InvalidArgument(f"{source}: no partitions")
    devices = []
    for dev in dict.fromkeys(r.device for r in rows):
        end = max(r.offset + r.size for r in rows if r.device == dev)
        size = device_size(end)
        size += -size % page
        devices.append(DeviceSpec(name=dev, size=size, layout=((size // page, page),),
                                  write_block_size=wbs, base_address=(base or {}).get(dev),
                                  layout_source=f"{layout_source}; size: smallest power of two "
                                  "holding every partition"))
    parts = [PartitionSpec(id=i, label=r.label, node_labels=(r.name,), offset=r.offset,
                           size=r.size, read_only=r.read_only, device=r.device,
                           address=r.address, path=r.path, source=f"{source}:{r.line}")
             for i, r in enumerate(rows)]
    check_partitions(parts, {d.name: d for d in devices})
    return Board(name=name, devices=devices, partitions=parts, source=source,
                 description=description, extra=dict(extra or {}))
