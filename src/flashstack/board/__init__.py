"""Boards: flash devices (geometry from a devicetree, a chip name or explicit) plus a flash map.

Entry points: :func:`load_board` (built-in name, board TOML, DTS or DTB), :class:`Board`
(``devices``, ``partitions``, ``to_json()``, ``open()``), :class:`OpenBoard` (live devices,
``flash_map``, ``area()``), :data:`BUILTIN_BOARDS`. The board TOML format is documented in
:mod:`flashstack.board.loader`.
"""

from ..flash_map.specs import DeviceSpec, PartitionSpec
from .loader import (
                     BUILTIN_BOARDS,
                     DEFAULT_BOARD,
                     board_from_devicetree,
                     builtin_path,
                     load_board,
                     load_board_toml,
)
from .model import Board, OpenBoard

__all__ = ["load_board", "load_board_toml", "board_from_devicetree", "builtin_path", "Board",
           "OpenBoard", "DeviceSpec", "PartitionSpec", "BUILTIN_BOARDS", "DEFAULT_BOARD"]
