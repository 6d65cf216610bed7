"""Shared pieces of the ``flashstack`` commands: options, board opening, input parsing, output.

Every command module imports from here so that options, number syntax, hexdumps, JSON and
error lines look the same everywhere. click and rich are imported only inside ``flashstack.cli``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, Callable, Mapping

import click
from rich.console import Console
from rich.text import Text

from ..board import DEFAULT_BOARD  # re-exported: the --board default
from ..errors import InvalidArgument

__all__ = [
    "DEFAULT_BOARD", "CliError", "INT", "add_plain_row", "board_options", "console", "describe_error", "emit",
    "err_console", "fail", "hexdump", "human_size", "json_option", "load_board_from",
    "open_board", "parse_int", "parse_value",
]


#: stdout console for rendered output (tables, summaries). rich looks up ``sys.stdout`` at
#: print time, so click's test runner captures it too.
console = Console(highlight=False)
#: stderr console for the one-line error messages.
err_console = Console(stderr=True, highlight=False)


def widen_for_pipes(width: int = 200) -> None:
    """Render wide tables (no folded cells) when stdout is not a terminal and COLUMNS is unset,
    so output captured in files, pipes and tests keeps one row per line."""
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = width


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` replacement: one yellow ``warning: ...`` line on stderr."""
    err_console.print(Text(f"warning: {message}", style="yellow"), soft_wrap=True)


# --- errors -----------------------------------------------------------------------
class CliError(click.ClickException):
    """A user-facing failure: printed as one red ``error: ...`` line on stderr, exit status 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # noqa: D401 - click hook
        # Text (not markup) so "[EINVAL]" in a message is not taken for a rich tag;
        # soft_wrap keeps it on one line whatever the terminal width.
        err_console.print(Text(f"error: {self.message}", style="bold red"), soft_wrap=True)


def fail(message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
    """Stop the command: print ``error: <message>`` (one red line on stderr) and exit 1."""
    raise CliError(" ".join(str(message).split()))


def describe_error(exc: BaseException) -> str:
    """One line for an exception: FlashError messages as is, OSError as ``reason: path``."""
    from ..errors import FlashError

    if isinstance(exc, FlashError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = str(exc)
    return text if text else type(exc).__name__


# --- numbers and values -----------------------------------------------------------
_SUFFIXES = {"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20}


def parse_int(text: str | int) -> int:
    """A byte count or offset: decimal (``4096``), hex (``0x1000``), optional ``K``/``M``
    (x1024, x1024**2) suffix (``4K``, ``0x10K``). InvalidArgument (EINVAL) otherwise."""
    if isinstance(text, int):
        return text
    raw = str(text).strip().replace("_", "")
    low = raw.lower()
    scale = 1
    for suffix in ("kib", "mib", "k", "m"):  # 'k', 'm' and 'i' are never hex digits
        if low.endswith(suffix):
            scale, low = _SUFFIXES[suffix], low[: -len(suffix)].strip()
            break
    try:
        value = int(low, 16) if low.startswith("0x") else int(low, 10)
    except ValueError:
        raise InvalidArgument(f"{text!r} is not a number (use decimal, 0x hex, or a K/M suffix)") from None
    return value * scale


class _IntType(click.ParamType):
    """click parameter type over :func:`parse_int` (usage error naming the parameter)."""

    name = "INT"

    def convert(self, value, param, ctx):
        try:
            return parse_int(value)
        except InvalidArgument as exc:
            self.fail(exc.strerror, param, ctx)


INT = _IntType()


def parse_value(text: str | None = None, hex: str | None = None, file: str | None = None) -> bytes:
    """Exactly one of: ``text`` (UTF-8 bytes), ``hex`` (pairs of hex digits; spaces, ``:``,
    ``_`` and a leading ``0x`` allowed), ``file`` (raw bytes; ``-`` reads stdin).
    InvalidArgument (EINVAL) when none or several are given or the hex is malformed."""
    given = [name for name, v in (("--data", text), ("--hex", hex), ("--file", file)) if v is not None]
    if len(given) != 1:
        raise InvalidArgument("give exactly one of --data, --hex, --file"
                              + (f" (got {', '.join(given)})" if given else ""))
    if text is not None:
        return text.encode("utf-8")
    if hex is not None:
        from ..build.manifest import parse_hex  # the manifest's hex syntax, one parser

        try:
            return parse_hex(hex)
        except ValueError:
            raise InvalidArgument(f"--hex {hex!r}: not whole bytes of hex digits") from None
    if file == "-":
        return sys.stdin.buffer.read()
    assert file is not None, "exactly one source was given"
    with open(file, "rb") as f:
        return f.read()


# --- output ------------------------------------------------------------------------
def human_size(n: int) -> str:
    """Exact short size: ``4096`` -> ``"4 KiB"``, ``1536`` -> ``"1.5 KiB"``,
    ``0x1fff00`` -> ``"2047.75 KiB"``, ``100`` -> ``"100 B"`` (never rounded)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            for digits in (0, 1, 2):
                if round(n / scale, digits) * scale == n:
                    return f"{n / scale:.{digits}f} {unit}"
    return f"{n} B"


def hexdump(data: bytes, base_offset: int = 0, width: int = 16) -> str:
    """Canonical hex+ASCII dump (``hexdump -C`` style), offsets starting at ``base_offset``.

    Runs of identical lines collapse to ``*``; the last line is always shown, followed by a
    line holding the end offset.
    """
    lines: list[str] = []
    previous = None
    starred = False
    for i in range(0, len(data), width):
        row = data[i:i + width]
        if row == previous and i + width < len(data):
            if not starred:
                lines.append("*")
                starred = True
            continue
        previous, starred = row, False
        cells = [f"{b:02x}" for b in row] + ["  "] * (width - len(row))
        half = width // 2
        hexpart = " ".join(cells[:half]) + "  " + " ".join(cells[half:])
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        lines.append(f"{base_offset + i:08x}  {hexpart}  |{text}|")
    lines.append(f"{base_offset + len(data):08x}")
    return "\n".join(lines)


def add_plain_row(table, *cells, style=None) -> None:
    """``table.add_row`` with every ``str`` cell taken literally (names from devicetrees and
    files are data, not rich markup)."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells), style=style)


def emit(obj: Any, as_json: bool, render_fn: Callable[[Any], None]) -> None:
    """Print ``obj`` as JSON (``json.dumps(obj, indent=2)``) when ``as_json``, else ``render_fn(obj)``.

    JSON has no infinity or NaN: such floats (e.g. the lifetime of a store that wore no page
    during the sample) are written as ``null`` so that strict parsers (jq) read the output."""
    if as_json:
        click.echo(json.dumps(_finite(obj), indent=2, allow_nan=False))
    else:
        render_fn(obj)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print machine-readable JSON instead of a table.")


# --- boards ------------------------------------------------------------------------
def _decorate(image: bool, image_required: bool):
    def deco(fn):
        if image:
            fn = click.option("--partition-image", "partition_image", is_flag=True, expose_value=False,
                              callback=_remember,
                              help="IMG holds only the partition (-p), e.g. the after.bin of "
                                   "'torture replay --save'.")(fn)
            fn = click.option("--image", "image", metavar="IMG", required=image_required,
                              help="Directory of <device>.bin files, one device image (.bin), "
                                   "or an Intel HEX file (edited in place).")(fn)
        fn = click.option("--include-dir", "-I", "include_dir", multiple=True, metavar="DIR",
                          help="Include directory for a raw DTS (repeatable).")(fn)
        fn = board_source_options(fn)
        fn = click.option("--board", "-b", "board", default=DEFAULT_BOARD, show_default=True,
                          metavar="B", help="Built-in board name, board TOML, DTS or DTB file.")(fn)
        return fn
    return deco


def board_options(fn=None, *, image: bool = True, image_required: bool = False):
    """Decorator adding ``--board/-b B``, ``--include-dir/-I DIR`` (repeatable) and, unless
    ``image=False``, ``--image IMG``. Use bare (``@board_options``) or configured
    (``@board_options(image_required=True)``). The command receives ``board``,
    ``include_dir`` (tuple) and ``image`` keyword arguments."""
    deco = _decorate(image, image_required)
    return deco(fn) if fn is not None else deco


def _params(ctx_or_kwargs) -> Mapping[str, Any]:
    if isinstance(ctx_or_kwargs, click.Context):
        return ctx_or_kwargs.params
    return ctx_or_kwargs


def _remember(ctx: click.Context, param: click.Parameter, value):
    if value:
        ctx.meta[f"flashstack.{param.name}"] = value
    return value


def board_source_options(fn):
    """``--layout [DEVICE=]COUNTxSIZE,...`` (repeatable) and ``--build-dir DIR``, kept in the
    click context (no extra keyword arguments); :func:`load_board_from` applies them."""
    fn = click.option("--layout", "layout", multiple=True, expose_value=False, callback=_remember,
                      metavar="[DEV=]LAYOUT",
                      help='Erase layout override, e.g. "4x16K,1x64K,7x128K" (repeatable).')(fn)
    return click.option("--build-dir", "build_dir", expose_value=False, callback=_remember,
                        metavar="DIR", type=click.Path(file_okay=False),
                        help="Zephyr build folder (zephyr/zephyr.dts, .config).")(fn)


def board_source() -> dict:
    """``{"layouts": (...), "build_dir": DIR or None}`` given by :func:`board_source_options`."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    return {"layouts": tuple(meta.get("flashstack.layout", ())),
            "build_dir": meta.get("flashstack.build_dir")}


def load_board_from(ctx_or_kwargs, spec=None):
    """The :class:`flashstack.board.Board` named by ``spec`` or ``--board``/``-I``, with
    ``--build-dir`` and ``--layout`` applied (a Context or kwargs). Without an explicit
    ``--board``, the build record beside ``--image`` (``build.json``) names the board; an
    explicit one that contradicts the record is an error naming both
    (:func:`flashstack.cli.context.board_from_record`)."""
    from ..board.resolve import resolve_board
    from .context import board_from_record

    p = _params(ctx_or_kwargs)
    src = board_source()
    name = spec or p.get("board")
    if src["build_dir"] is not None and name == DEFAULT_BOARD:
        name = None  # the build folder names the board
    include = tuple(p.get("include_dir") or ())
    check = source = None
    if spec is None and src["build_dir"] is None:
        name, include, check, source = board_from_record(p.get("image"), name, include, _board_given())
    board = resolve_board(name or (None if src["build_dir"] else DEFAULT_BOARD), include, **src)
    if check is not None:
        check(board)
    _note_board_source(board.name, source or (
        f"build folder {src['build_dir']}" if src["build_dir"] is not None
        else "flag --board" if spec is not None or _board_given() else "default"))
    return board


def _note_board_source(name: str, source: str) -> None:
    # read back by cli.context when a store command lists its parameters
    from ..stores.context import Param
    from .context import BOARD_SOURCE
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[BOARD_SOURCE] = Param(name, source)


def _board_given() -> bool:
    """True when ``--board`` was typed (not its default)."""
    from click.core import ParameterSource
    ctx = click.get_current_context(silent=True)
    if ctx is None or "board" not in ctx.params:
        return True
    return ctx.get_parameter_source("board") not in (ParameterSource.DEFAULT, None)


def open_board(ctx_or_kwargs, readonly: bool = False, create: bool = False, board=None,
               **sim_kwargs):
    """Load the board (or use ``board``) and open its devices over ``--image`` (in memory
    when no image): a directory of ``<device>.bin``, one device image, an Intel HEX file
    (loaded in memory, written back on close when changed) or, with ``--partition-image``, a
    file holding just the ``--partition`` (:func:`flashstack.cli.context.open_image`).
    ``create=False`` (the default) refuses a missing image file rather than silently making
    an erased one. ``sim_kwargs`` go to every SimulatedFlash (e.g.
    ``allow_double_writes=True``). Returns an OpenBoard (a context manager).
    """
    from .context import open_image

    p = _params(ctx_or_kwargs)
    board = board if board is not None else load_board_from(p)
    meta = click.get_current_context(silent=True)
    whole = bool(meta is not None and meta.meta.get("flashstack.partition_image"))
    return open_image(board, p.get("image"), readonly=readonly, create=create,
                      partition=p.get("partition") if whole else None, partition_image=whole,
                      **sim_kwargs)


# --- plots and wear files (plan, wear) ----------------------------------------------
def plot_options(plot_what: str, wear_what: str):
    """``--plot FILE.svg|.png`` and ``--save-wear FILE.json`` for a sizing command."""
    def deco(fn):
        fn = click.option("--save-wear", "save_wear", default=None, metavar="FILE.json",
                          type=click.Path(dir_okay=False),
                          help=f"Write {wear_what} as a wear file (for `flashstack report --wear`).")(fn)
        return click.option("--plot", "plot", default=None, metavar="FILE.svg|.png",
                            type=click.Path(dir_okay=False),
                            help=f"Draw {plot_what} (needs the report extra).")(fn)
    return deco


def write_plots(doc: dict, plot: str | None, wear_doc: dict | None, save_wear: str | None,
                plotter: str) -> None:
    """Write ``--plot`` (``flashstack.report.plots.<plotter>`` of ``doc``) and ``--save-wear``
    (``wear_doc``: a candidate with ``page_cycles``). EINVAL when there is nothing to save."""
    if plot:
        from ..report import plots

        getattr(plots, plotter)(doc, plot)
    if save_wear:
        if not wear_doc or not wear_doc.get("page_cycles"):
            raise InvalidArgument("--save-wear: no measured candidate, so no wear to save")
        tmp = save_wear + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(wear_doc, f, indent=1)
        os.replace(tmp, save_wear)
