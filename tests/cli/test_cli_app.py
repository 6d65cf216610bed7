"""The top group: lazy commands, --version, teaching --help, the one-line error policy."""

import click
import pytest
from click.testing import CliRunner

import flashstack
from flashstack.cli import app
from flashstack.errors import AccessDenied


def _run(*args):
    return CliRunner().invoke(app.cli, list(args))


def test_version():
    r = _run("--version")
    assert r.exit_code == 0
    assert r.output.strip() == f"flashstack {flashstack.__version__}"


def test_help_teaches_and_lists_only_existing_modules():
    r = _run("--help")
    assert r.exit_code == 0
    assert "flashstack image create -o img/" in r.output
    for name in ("board", "image", "flash"):
        assert f"  {name} " in r.output
    listed = app.cli.list_commands(click.Context(app.cli))
    for name, target in app.COMMANDS.items():
        assert (name in listed) == app._module_exists(target.partition(":")[0])


@pytest.mark.parametrize("path", [("board",), ("board", "show"), ("board", "list"), ("image",),
                                  ("image", "create"), ("image", "info"), ("flash",),
                                  ("flash", "read"), ("flash", "write"), ("flash", "erase")])
def test_every_command_help_has_an_example(path):
    r = _run(*path, "--help")
    assert r.exit_code == 0, r.output
    assert "Example" in r.output and "flashstack " + path[0] in r.output.split("Example", 1)[1]


def test_unknown_command_is_a_usage_error():
    r = _run("frobnicate")
    assert r.exit_code == 2
    assert "No such command" in r.output


def _group_with(exc):
    """A LazyGroup holding one command that raises ``exc``."""
    @click.group(cls=app.LazyGroup, lazy_commands={"nothere": "flashstack.cli.nothere:x"})
    def top():
        pass

    @top.command()
    def boom():
        raise exc
    return top


@pytest.mark.parametrize("exc, text", [
    (AccessDenied("write partition boot_partition (id 0) at 0x0 len 0x4: read-only"),
     "error: write partition boot_partition (id 0) at 0x0 len 0x4: read-only [EACCES]"),
    (FileNotFoundError(2, "No such file or directory", "/x/y.bin"),
     "error: No such file or directory: /x/y.bin"),
    (ValueError("bad manifest key 'foo'"), "error: bad manifest key 'foo'"),
    (TypeError("unsupported operand"),
     "error: internal error: TypeError: unsupported operand (set FLASHSTACK_DEBUG=1 for the traceback)"),
])
def test_errors_become_one_line_and_exit_1(exc, text, monkeypatch):
    monkeypatch.delenv("FLASHSTACK_DEBUG", raising=False)
    r = CliRunner().invoke(_group_with(exc), ["boom"])
    assert r.exit_code == 1
    assert isinstance(r.exception, SystemExit)      # handled, not an escaped exception
    assert r.stderr.splitlines() == [text]
    assert r.stdout == ""
    assert "Traceback" not in r.output


def test_debug_env_lets_the_traceback_through(monkeypatch):
    monkeypatch.setenv("FLASHSTACK_DEBUG", "1")
    r = CliRunner().invoke(_group_with(TypeError("x")), ["boom"])
    assert isinstance(r.exception, TypeError)


def test_missing_module_is_not_listed_and_not_found():
    top = _group_with(ValueError("unused"))
    assert top.list_commands(click.Context(top)) == ["boom"]
    assert _run_group(top, "nothere").exit_code == 2


def _run_group(group, *args):
    return CliRunner().invoke(group, list(args))


def test_module_failing_to_import_gives_an_unavailable_command(monkeypatch):
    monkeypatch.setattr(app, "_module_exists", lambda m: True)
    top = _group_with(ValueError("unused"))
    top.lazy_commands["broken"] = "flashstack.cli.no_such_module_xyz:cmd"
    r = _run_group(top, "broken", "--anything")
    assert r.exit_code == 1
    assert r.stderr.startswith("error: command 'broken' is unavailable:")
    assert len(r.stderr.splitlines()) == 1


def test_fail_prints_one_red_line_even_with_brackets():
    from flashstack.cli.common import fail

    @click.command()
    def cmd():
        fail("partition [storage]   has\nno room [ENOSPC]")
    r = CliRunner().invoke(cmd, [])
    assert r.exit_code == 1
    assert r.stderr == "error: partition [storage] has no room [ENOSPC]\n"
