"""The README's first command in a fresh virtual environment: ``pip install flashstack[all]``
from this checkout, then ``flashstack build`` with no arguments (slow: installs packages)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_fresh_venv_flashstack_build(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    # install from a copy of the sources, so the build leaves nothing in the checkout
    src = tmp_path / "flashstack-src"
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy(REPO / name, src / name)
    pip = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", f"{src}[all]"],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = tmp_path / "work"
    work.mkdir()
    exe = str(bindir / "flashstack")
    run = subprocess.run([exe, "build"], cwd=work, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "flashstack build: board flashstack-demo" in run.stdout
    out = work / "build"
    assert sorted(p.name for p in out.iterdir()) == ["build.json", "flash0.bin", "image.hex", "qspi0.bin"]
    record = json.loads((out / "build.json").read_text())
    assert record["board"] == "flashstack-demo"
    # the manifest came from the installed package data, not from this checkout
    assert str(venv) in record["manifest"]
    assert (out / "flash0.bin").stat().st_size == 1 << 20 and (out / "qspi0.bin").stat().st_size == 16 << 20
    check = subprocess.run([exe, "inspect", "build", "--json"], cwd=work, capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stderr
    parts = {p["partition"]: p for p in json.loads(check.stdout)["partitions"]}
    assert parts["storage_partition"]["kind"] == "alios-kv"
    assert parts["lfs_partition"]["kind"] == "littlefs"
    assert all(p["matches_build"] for p in parts.values())
