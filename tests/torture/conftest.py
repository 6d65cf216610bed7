"""Fixtures of the torture tests. The folder goes on sys.path so that the test store module
``torture_logkv`` is importable by name, also in spawned worker processes (multiprocessing
passes sys.path to its children) and by the CLI's ``--target torture_logkv:...``."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(scope="session")
def logkv():
    import torture_logkv
    return torture_logkv
