"""The ``flashstack`` command group: lazily loaded subcommands and the one error policy.

Subcommands live in ``flashstack.cli.<name>`` modules written by each layer; :data:`COMMANDS`
maps a command name to ``"module:attribute"``. A module that does not exist yet is not
listed, and a module is imported only when its command (or the top ``--help``) needs it.

Error policy: a :class:`flashstack.errors.FlashError`, ``OSError`` or ``ValueError`` that
escapes a command becomes one red line ``error: <message>`` on stderr and exit status 1.
Any other exception is reported the same way as an internal error (set
``FLASHSTACK_DEBUG=1`` to get the traceback). Usage errors keep click's exit status 2.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import warnings

import click

from .. import __version__
from .common import CliError, describe_error, show_warning, widen_for_pipes

COMMANDS: dict[str, str] = {
    "board": "flashstack.cli.board:board",
    "image": "flashstack.cli.image:image",
    "flash": "flashstack.cli.flash:flash",
    "kv": "flashstack.cli.kv:kv",
    "feature": "flashstack.cli.feature:feature",
    "nvs": "flashstack.cli.nvs:nvs",
    "zms": "flashstack.cli.zms:zms",
    "hal": "flashstack.cli.hal:hal",
    "build": "flashstack.cli.build:build",
    "inspect": "flashstack.cli.inspect:inspect",
    "torture": "flashstack.cli.torture:torture",
    "plan": "flashstack.cli.plan:plan",
    "wear": "flashstack.cli.wear:wear",
    "report": "flashstack.cli.report:report",
}


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _unavailable(name: str, reason: str) -> click.Command:
    """A placeholder for a command whose module fails to import (e.g. a missing extra)."""
    def callback(**_):
        raise CliError(f"command {name!r} is unavailable: {reason}")
    return click.Command(name, callback=callback, help=f"(unavailable: {reason})",
                         short_help="(unavailable)", context_settings={"ignore_unknown_options": True},
                         params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)])


class LazyGroup(click.Group):
    """A click group that imports a subcommand module only when the command is used, and
    turns escaping errors into one line (see module docstring)."""

    def __init__(self, *args, lazy_commands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx):
        lazy = [n for n, target in self.lazy_commands.items()
                if _module_exists(target.partition(":")[0])]
        return sorted(set(super().list_commands(ctx)) | set(lazy))

    def get_command(self, ctx, name):
        if name in self.commands:
            return self.commands[name]
        target = self.lazy_commands.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        if not _module_exists(module_name):
            return None
        try:
            command = getattr(importlib.import_module(module_name), attr)
        except ImportError as exc:
            return _unavailable(name, f"{exc} (install the extra: pip install 'flashstack[all]')")
        self.commands[name] = command
        return command

    def invoke(self, ctx):
        with warnings.catch_warnings():
            # Warnings (unaligned partitions, overlaps...) as one line each, every time.
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show_warning
            return self._invoke(ctx)

    def _invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.exceptions.ClickException:
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # click handles a closed pipe (e.g. `| head`) quietly
            raise CliError(describe_error(exc)) from exc
        except Exception as exc:
            if os.environ.get("FLASHSTACK_DEBUG"):
                raise
            raise CliError(f"internal error: {type(exc).__name__}: {describe_error(exc)} "
                           f"(set FLASHSTACK_DEBUG=1 for the traceback)") from exc


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", "-V", prog_name="flashstack",
                      message="%(prog)s %(version)s")
def cli():
    """flashstack: the embedded flash storage stack on the host.

    Build, read, test and size real flash contents without a board: NOR flash
    devices, Zephyr flash map partitions, images, and the storage layers on top.

    Numbers are bytes, given in decimal or 0x hex (a K or M suffix multiplies by
    1024 or 1024*1024). Offsets given to `flash` commands are partition-relative.
    Every command takes --help with an example; errors print one line and exit 1.
    Exit status: 0 ok, 1 error, 2 usage error, 3 damage found or a difference
    from the build record (kv dump, nvs dump, inspect), or a torture campaign
    or replay that broke an invariant, so CI can gate on it.

    \b
    Quick start on the built-in board (flashstack-demo):
      flashstack board show                     # devices and partitions
      flashstack image create -o img/           # erased images, one per device
      flashstack flash write --image img/ -p storage_partition 0 --hex "de ad be ef"
      flashstack flash read  --image img/ -p storage_partition 0 16
      flashstack image info img/                # what is used, per partition
    """
    widen_for_pipes()


def main(argv=None) -> None:
    """Console-script entry point (``flashstack``)."""
    cli.main(args=argv, prog_name="flashstack")
