"""The installed console script, run as a real process (entry point, exit codes, stderr)."""

import json
import shutil
import subprocess
import sys


def _command():
    exe = shutil.which("flashstack")
    return [exe] if exe else [sys.executable, "-m", "flashstack.cli"]


def _run(*args):
    return subprocess.run(_command() + [str(a) for a in args], capture_output=True, text=True,
                          timeout=120)


def test_console_script_end_to_end(tmp_path):
    r = _run("--version")
    assert r.returncode == 0 and r.stdout.startswith("flashstack ")

    r = _run("board", "show", "--json")
    assert r.returncode == 0, r.stderr
    parts = json.loads(r.stdout)["partitions"]
    assert [p["node_label"] for p in parts][:2] == ["boot_partition", "storage_partition"]

    img = tmp_path / "img"
    assert _run("image", "create", "-o", img).returncode == 0
    r = _run("flash", "write", "--image", img, "-p", "storage_partition", 0, "--hex", "c0ffee")
    assert r.returncode == 0, r.stderr
    r = _run("flash", "read", "--image", img, "-p", "storage_partition", 0, 4)
    assert "c0 ff ee ff" in r.stdout

    # an error: exit 1, one line on stderr, no traceback
    r = _run("flash", "write", "--image", img, "-p", "storage_partition", 0, "--hex", "c0ffee", "--force")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ") and "double write" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_python_dash_m_flashstack():
    r = subprocess.run([sys.executable, "-m", "flashstack", "--help"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "Usage: flashstack" in r.stdout
