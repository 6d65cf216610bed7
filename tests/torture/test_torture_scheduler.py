"""``--scheduler``: 'local' starts a Dask LocalCluster; a malformed or unreachable address
fails fast with one line (every torture command, including ``torture c``)."""

import json
import socket
import time

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.errors import FlashError, InvalidArgument
from flashstack.torture import Campaign, run_campaign
from flashstack.torture.parallel import check_scheduler
from flashstack.torture.targets.nvs import NVSTarget


def _error_line(*args):
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 1, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    return lines[0]


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return port


@pytest.mark.parametrize("address", ["foo", "tcp://host:port", "bad://h:1", "h:70000"])
def test_malformed_address_is_einval(address):
    with pytest.raises(InvalidArgument, match="--scheduler"):
        check_scheduler(address)
    assert "[EINVAL]" in _error_line("torture", "nvs", "--ops", "10", "--scheduler", address)


def test_malformed_address_fails_in_torture_c_before_compiling(tmp_path):
    line = _error_line("torture", "c", "--api", "custom", "--source", str(tmp_path / "none.c"),
                       "--scheduler", "nonsense")
    assert "--scheduler 'nonsense'" in line and "[EINVAL]" in line


def test_address_without_scheme_is_tcp():
    assert check_scheduler("127.0.0.1:8786", probe=False) == "tcp://127.0.0.1:8786"
    assert check_scheduler("local") == "local"


def test_unreachable_scheduler_fails_within_5_seconds():
    port = _closed_port()
    t0 = time.monotonic()
    line = _error_line("torture", "nvs", "--ops", "10", "--scheduler", f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - t0 < 5
    assert f"127.0.0.1:{port}" in line and "cannot reach" in line
    with pytest.raises(FlashError):
        run_campaign(Campaign(NVSTarget(), ops=10), scheduler=f"127.0.0.1:{port}")


@pytest.mark.slow
def test_scheduler_local_starts_a_local_cluster():
    import distributed  # noqa: F401  # the dask extra (CI installs it: fail, never skip)
    res = CliRunner().invoke(cli, ["torture", "nvs", "--ops", "20", "--cuts", "15", "--jobs", "1",
                                   "--scheduler", "local", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    local = run_campaign(Campaign(NVSTarget(), ops=20, cuts=15), jobs=1)
    assert doc["executor"] == "dask:local" and doc["jobs"] == 1 and doc["ok"]
    assert doc["tried"] == dict(local.tried) and doc["cuts"] == local.cuts
