"""Suite-wide settings. Hypothesis profile "ci" (derandomised: the same examples on every run;
failing examples printed with their reproduction blob) is loaded when HYPOTHESIS_PROFILE=ci or
CI is set; the default profile is hypothesis's own."""

import json
import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None, database=None)
if os.environ.get("HYPOTHESIS_PROFILE") == "ci" or os.environ.get("CI"):
    settings.load_profile("ci")

# --power-loss=none|sampled|exhaustive: store tests re-run under power cuts (README, Testing)
pytest_plugins = ["flashstack.torture.pytest_plugin"]


class Cli:
    """Runs ``flashstack`` in-process; ``json()`` parses the output of a ``--json`` call."""

    def __init__(self):
        from click.testing import CliRunner
        self.runner = CliRunner()

    def __call__(self, *args, ok=True):
        from flashstack.cli.app import cli
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


@pytest.fixture
def cli_run():
    """Run ``flashstack`` in-process: ``cli_run(*args)`` -> click Result (exit code checked),
    ``cli_run.json(*args)`` parses a ``--json`` call, ``cli_run.error(*args)`` -> the one line."""
    return Cli()


@pytest.fixture
def demo_img(tmp_path, cli_run):
    """A directory of erased flashstack-demo images (flash0.bin, qspi0.bin)."""
    out = tmp_path / "img"
    cli_run("image", "create", "-o", out)
    return out
