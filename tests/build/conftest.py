"""Fixtures for the build tests: manifests written into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def examples_dir() -> Path:
    return REPO / "examples"


@pytest.fixture
def project(tmp_path):
    """``project(manifest_text, files={name: bytes|str}) -> manifest path`` in ``tmp_path/src``."""
    def make(text: str, files: dict | None = None) -> Path:
        src = tmp_path / "src"
        src.mkdir(exist_ok=True)
        for name, content in (files or {}).items():
            p = src / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content.encode() if isinstance(content, str) else content)
        manifest = src / "manifest.toml"
        manifest.write_text(text)
        return manifest
    return make


@pytest.fixture(autouse=True)
def _wide_plain_output(monkeypatch):
    """Tables one row per line whatever the CI terminal says (pytest-xdist workers get
    COLUMNS=80), as for a pipe."""
    from flashstack.cli import common

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(common.console, "width", 200)
