"""Board ``hal_partitions`` tables: the ``[hal]`` section of a board TOML, the mapping from
devicetree partition labels, the MK3060 example table (docs/alios-hal.md §2, §8).

``[hal]`` format (kept by the board loader in ``board.extra["hal"]``)::

    [hal]
    generation = "v3"                      # "v2" | "v3" | "board"
    owners = { EMBEDDED = "flash0", QSPI = "qspi0" }   # hal_flash_t -> device name (optional)
    [hal.partitions]                       # hal_partition_t -> devicetree/flash-map partition
    PARAMETER_2 = "storage_partition"
    BOOTLOADER = "boot_partition"
    [[hal.table]]                          # or explicit rows (absolute start address)
    partition = "PARAMETER_3"
    owner = "EMBEDDED"
    description = "PARAMETER3"
    start = 0x12000
    length = 0x1000
    options = ["READ_EN", "WRITE_EN"]      # or an int mask

A mapped partition gets owner from the device, description = its label, start = device
base address + offset, length = size, options READ_EN plus WRITE_EN unless read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidArgument, NotFound
from .flash import HalFlash
from .types import (HalFlashType, HalLogicPartition, PAR_OPT_READ_EN, PAR_OPT_WRITE_EN,
                    parse_options, parse_owner, parse_partition, partition_enum, partition_name)

__all__ = ["HalPartitionRow", "DEFAULT_LABEL_MAP", "hal_partitions_from_board", "hal_from_board",
           "MK3060_TABLE", "mk3060_hal"]

#: Devicetree node labels mapped to partitions when a board has no ``[hal]`` section.
DEFAULT_LABEL_MAP = {
    "BOOTLOADER": "boot_partition",
    "APPLICATION": "slot0_partition",
    "OTA_TEMP": "slot1_partition",
    "PARAMETER_2": "storage_partition",
}


@dataclass(frozen=True)
class HalPartitionRow:
    """One ``hal_partitions[]`` entry of a board, plus the device that holds it."""

    partition: int
    info: HalLogicPartition
    device: str

    def to_json(self, generation: str = "v3") -> dict:
        d = {"partition": partition_name(self.partition, generation), "value": self.partition,
             "device": self.device}
        d.update(self.info.to_json())
        return d


def _extra_hal(board) -> dict | None:
    extra = getattr(board, "extra", None) or {}
    return extra.get("hal") if isinstance(extra, dict) else None


def _owner_of(board, dev_name: str, owners: dict) -> int:
    for owner, name in owners.items():
        if name == dev_name:
            return int(owner)
    names = [d.name for d in board.devices]
    if names and dev_name == names[0]:
        return int(HalFlashType.HAL_FLASH_EMBEDDED)
    return int(HalFlashType.HAL_FLASH_QSPI if "qspi" in dev_name.lower() else HalFlashType.HAL_FLASH_SPI)


def _device(board, name: str):
    for d in board.devices:
        if d.name == name:
            return d
    raise NotFound(f"board {board.name}: no device {name!r}")


def _find_partition(board, name: str):
    for p in board.partitions:
        if name in (p.node_labels or ()) or p.label == name:
            return p
    raise NotFound(f"board {board.name}: no partition {name!r} for the HAL table")


def hal_partitions_from_board(board) -> tuple[list[HalPartitionRow], str]:
    """``(rows, generation)`` of ``board``: its ``[hal]`` section, else :data:`DEFAULT_LABEL_MAP`
    applied to the labels the board has. Raises InvalidArgument / NotFound naming the row."""
    preset = getattr(board, "hal_partitions", None)
    if preset and all(isinstance(r, HalPartitionRow) for r in preset):
        return list(preset), (_extra_hal(board) or {}).get("generation", "v3")
    sect = _extra_hal(board) or {}
    generation = sect.get("generation", "v3")
    partition_enum(generation)
    owners = {parse_owner(k): v for k, v in (sect.get("owners") or {}).items()}
    rows: list[HalPartitionRow] = []
    mapping = sect.get("partitions")
    if mapping is None and not sect.get("table"):
        mapping = {k: v for k, v in DEFAULT_LABEL_MAP.items()
                   if any(v in (p.node_labels or ()) or p.label == v for p in board.partitions)}
    for pname, label in (mapping or {}).items():
        value = parse_partition(pname, generation)
        p = _find_partition(board, label)
        dev = _device(board, p.device)
        base = dev.base_address or 0
        opts = PAR_OPT_READ_EN | (0 if p.read_only else PAR_OPT_WRITE_EN)
        info = HalLogicPartition(_owner_of(board, dev.name, owners), p.label or label,
                                 base + p.offset, p.size, opts)
        rows.append(HalPartitionRow(value, info, dev.name))
    for i, row in enumerate(sect.get("table") or ()):
        try:
            value = parse_partition(row["partition"], generation)
            owner = parse_owner(row.get("owner", "EMBEDDED"))
            dev_name = owners.get(owner) or (board.devices[0].name if owner == 0 else None)
            if dev_name is None:
                raise InvalidArgument(f"owner {owner.name} has no device (set [hal.owners])")
            info = HalLogicPartition(int(owner), str(row.get("description", pname_of(value, generation))),
                                     int(row["start"]), int(row["length"]),
                                     parse_options(row.get("options", PAR_OPT_READ_EN | PAR_OPT_WRITE_EN)))
        except KeyError as e:
            raise InvalidArgument(f"board {board.name}: [[hal.table]] row {i + 1}: missing {e.args[0]!r}") from None
        except InvalidArgument as e:
            raise InvalidArgument(f"board {board.name}: [[hal.table]] row {i + 1}: {e.strerror}") from None
        rows.append(HalPartitionRow(value, info, dev_name))
    seen = set()
    for r in rows:
        if r.partition in seen:
            raise InvalidArgument(f"board {board.name}: HAL partition "
                                  f"{partition_name(r.partition, generation)} defined twice")
        seen.add(r.partition)
    return rows, generation


def pname_of(value: int, generation: str) -> str:
    return partition_name(value, generation)


def hal_from_board(open_board, board=None) -> HalFlash:
    """A :class:`HalFlash` over an ``OpenBoard`` (``board.open(...)``): its devices and the rows of
    :func:`hal_partitions_from_board`."""
    board = board if board is not None else open_board.board
    rows, generation = hal_partitions_from_board(board)
    owners = {}
    for r in rows:
        dev = open_board.devices[r.device]
        spec = _device(board, r.device)
        owners[r.info.partition_owner] = (dev, spec.base_address or 0)
    return HalFlash({r.partition: r.info for r in rows}, owners, generation=generation)


_RW = PAR_OPT_READ_EN | PAR_OPT_WRITE_EN
#: ``board/mk3060/board.c`` @000af8d2, board-era enum (docs/alios-hal.md §8).
MK3060_TABLE = {
    0: HalLogicPartition(0, "Bootloader", 0x000000, 0x10000, PAR_OPT_READ_EN),
    8: HalLogicPartition(0, "PARAMETER4", 0x00D000, 0x1000, _RW),
    5: HalLogicPartition(0, "PARAMETER1", 0x010000, 0x1000, _RW),
    6: HalLogicPartition(0, "PARAMETER2", 0x011000, 0x1000, _RW),
    7: HalLogicPartition(0, "PARAMETER3", 0x012000, 0x1000, _RW),
    13: HalLogicPartition(0, "Recovery", 0x013000, 0x5000, _RW),
    1: HalLogicPartition(0, "Application", 0x018000, 0xE8000, _RW),
    3: HalLogicPartition(0, "OTA Storage", 0x100000, 0xE8000, _RW),
}


def mk3060_hal(device=None) -> HalFlash:
    """The MK3060 HAL over ``device`` (default: a fresh 2 MiB in-memory NOR, 4 KiB erase pages,
    multi-program so the KV can run on it)."""
    if device is None:
        from ..device import SimulatedFlash
        device = SimulatedFlash(0x200000, erase_page_size=4096, allow_double_writes=True, name="mk3060")
    return HalFlash(MK3060_TABLE, {0: (device, 0)}, generation="board")
