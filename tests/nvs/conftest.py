"""Fixtures for the Zephyr NVS tests: devices, areas and the reference vectors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea

VECTOR_DIR = Path(__file__).resolve().parents[1] / "data" / "zephyr-nvs"


def vector_names() -> list[str]:
    return sorted(p.name[:-len(".json.gz")] for p in VECTOR_DIR.glob("*.json.gz"))


def load_vector(name: str) -> dict:
    with gzip.open(VECTOR_DIR / f"{name}.json.gz", "rt") as f:
        return json.load(f)


def load_vector_bin(name: str) -> bytes:
    with gzip.open(VECTOR_DIR / f"{name}.gz", "rb") as f:
        return f.read()


def make_area(sector_size=1024, sector_count=3, wbs=4, erase_value=0xFF, page=None,
              allow_double_writes=False, extra=0):
    """A SimulatedFlash of ``sector_count`` sectors (+ ``extra`` bytes) and an area over it."""
    size = sector_size * sector_count + extra
    dev = SimulatedFlash(size, erase_page_size=page or sector_size, write_block_size=wbs,
                         erase_value=erase_value, allow_double_writes=allow_double_writes)
    return dev, FlashArea(0, 0, sector_size * sector_count, dev, label="storage")


@pytest.fixture
def area_factory():
    return make_area


def pytest_generate_tests(metafunc):
    """Parametrize ``vector_name`` over every copied reference case (quirk cases included:
    the test decides what to assert for them)."""
    if "vector_name" in metafunc.fixturenames:
        metafunc.parametrize("vector_name", vector_names())


@pytest.fixture
def vectors():
    """Loader helpers: ``vectors.load(name)``, ``vectors.bin(name)``, ``vectors.names()``."""
    class _V:
        load = staticmethod(load_vector)
        bin = staticmethod(load_vector_bin)
        names = staticmethod(vector_names)
    return _V


@pytest.fixture
def cli_run():
    """Run ``flashstack`` in-process: ``cli_run(*args)`` -> click Result (exit code checked),
    ``cli_run.json(*args)`` parses a ``--json`` call, ``cli_run.error(*args)`` -> the one line."""
    import json as _json

    from click.testing import CliRunner

    from flashstack.cli.app import cli

    class _Run:
        runner = CliRunner()

        def __call__(self, *args, ok=True):
            r = self.runner.invoke(cli, [str(a) for a in args])
            if ok:
                assert r.exit_code == 0, (r.output, r.exception)
            return r

        def json(self, *args):
            return _json.loads(self(*args, "--json").stdout)

        def error(self, *args):
            r = self(*args, ok=False)
            assert r.exit_code == 1 and "Traceback" not in r.output, (r.output, r.exception)
            lines = r.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
            return lines[0]
    return _Run()


@pytest.fixture
def nvs_img(tmp_path, cli_run):
    """A directory of erased flashstack-demo images."""
    out = tmp_path / "img"
    cli_run("image", "create", "-o", out)
    return out
