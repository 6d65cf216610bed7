"""Fixtures of the CLI tests: ``run`` (the suite's ``cli_run``) and plain wide output; erased
images of the default board are the suite's ``demo_img``."""

import pytest


@pytest.fixture(autouse=True)
def _wide_plain_output(monkeypatch):
    """Tables one row per line whatever the CI terminal says (COLUMNS), as for a pipe."""
    from flashstack.cli import common

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(common.console, "width", 200)


@pytest.fixture
def run(cli_run):
    """The suite's in-process ``flashstack`` runner (tests/conftest.py ``cli_run``)."""
    return cli_run
