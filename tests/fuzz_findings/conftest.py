"""Shared helpers for the fuzz-finding regression tests (inputs in tests/data/fuzz-findings)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "fuzz-findings"


@pytest.fixture
def finding():
    """``finding(name)``: the bytes of a copied reproducer input."""
    return lambda name: (DATA / name).read_bytes()
