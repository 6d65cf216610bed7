"""Fixtures of the CLI tests: a click runner and erased images of the default board."""

import json

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli


class Cli:
    """Runs ``flashstack`` in-process; ``json()`` parses the output of a ``--json`` call."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args, ok=True):
        r = self.runner.invoke(cli, [str(a) for a in args])
        if ok:
            assert r.exit_code == 0, (r.output, r.exception)
        return r

    def json(self, *args):
        return json.loads(self(*args, "--json").stdout)

    def error(self, *args, code=1):
        """Run a failing command; check exit code, one line on stderr, no traceback."""
        r = self(*args, ok=False)
        assert r.exit_code == code, (r.output, r.exception)
        assert isinstance(r.exception, SystemExit), r.exception
        assert "Traceback" not in r.output
        if code == 1:
            lines = r.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
            return lines[0]
        return r.output


@pytest.fixture(autouse=True)
def _wide_plain_output(monkeypatch):
    """Tables one row per line whatever the CI terminal says (COLUMNS), as for a pipe."""
    from flashstack.cli import common

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(common.console, "width", 200)


@pytest.fixture
def run():
    return Cli()


@pytest.fixture
def demo_img(tmp_path, run):
    """A directory of erased flashstack-demo images (flash0.bin, qspi0.bin)."""
    out = tmp_path / "img"
    run("image", "create", "-o", out)
    return out
