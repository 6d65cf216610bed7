"""One entry point for the CLI and jobs: a board from what the user gave.

``--board`` (name, TOML, DTS, DTB, or an importer's file), ``-I`` include directories,
``--build-dir`` (a Zephyr build folder: its ``zephyr/zephyr.dts`` is the board unless a board
is named) and ``--layout`` overrides (BL-4).
"""

from __future__ import annotations

import os
from typing import Iterable

from ..errors import InvalidArgument
from .model import Board


def split_layout_option(text: str) -> tuple[str | None, str]:
    """``"flash0=4x16K,1x64K"`` -> ``("flash0", "4x16K,1x64K")``; no ``=`` -> ``(None, text)``."""
    name, sep, layout = text.partition("=")
    return (name.strip(), layout.strip()) if sep else (None, text.strip())


def resolve_board(spec=None, include_dirs: Iterable = (), *, layouts: Iterable[str] = (),
                  build_dir=None) -> Board:
    """The board for ``spec`` (see :func:`flashstack.board.load_board`; None: the build
    folder's devicetree when ``build_dir`` is given, else the default board), with every
    ``--layout`` text of ``layouts`` applied (``[DEVICE=]COUNTxSIZE,...``).

    Errors: as :func:`~flashstack.board.load_board` and :meth:`Board.with_layout`;
    InvalidArgument (EINVAL) for a malformed layout or build folder."""
    from .loader import load_board

    if build_dir is not None:
        from .zephyr_build import board_from_build_dir

        board = board_from_build_dir(build_dir, spec, include_dirs)
    else:
        board = load_board(spec, tuple(include_dirs))
    for text in layouts:
        device, layout = split_layout_option(text)
        if not layout:
            raise InvalidArgument(f"--layout {text!r}: give [DEVICE=]COUNTxSIZE,... (e.g. 4x16K,1x64K)")
        board = board.with_layout(layout, device, source=f"--layout {text}")
    return board


def is_build_dir(path) -> bool:
    """A folder that holds a Zephyr build (``zephyr/zephyr.dts`` or sysbuild ``domains.yaml``)."""
    p = os.fspath(path)
    return os.path.isdir(p) and (os.path.isfile(os.path.join(p, "zephyr", "zephyr.dts"))
                                 or os.path.isfile(os.path.join(p, "domains.yaml")))
