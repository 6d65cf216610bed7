"""Progress of long runs (issue 10): a rich bar on a terminal; otherwise one status line on
stderr at most every few seconds (fake clock here), never on stdout."""

import io
import json

import pytest
from click.testing import CliRunner

from flashstack.cli import progress as progress_mod
from flashstack.cli.app import cli
from flashstack.cli.progress import StatusLine, progress


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_status_line_is_throttled_and_ends_with_the_final_state():
    clock, out = Clock(), io.StringIO()
    line = StatusLine("torture", "cuts", out, clock, interval=5)
    for done in range(0, 5001, 100):        # 0.3 s per 100 cuts: 15 s in all
        line.update(done, 5000, done // 1700)
        clock.t += 0.3
    line.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "torture: 1700/5000 cuts, 1 failure, 5 s"
    assert lines[-1] == "torture: 5000/5000 cuts, 2 failures, 15 s"
    assert len(lines) == 3                   # at 5, 10 and 15 s (the last showed the end)
    line.update(5000, 5000, 3)               # a late change: close() shows the final state
    line.close()
    assert out.getvalue().splitlines()[3:] == ["torture: 5000/5000 cuts, 3 failures, 15 s"]


def test_a_short_run_prints_nothing():
    clock, out = Clock(), io.StringIO()
    with progress("wear", "updates", terminal=False, stream=out, clock=clock, interval=5) as update:
        for n in range(10):
            update(n, 10)
            clock.t += 0.1
    assert out.getvalue() == ""


def test_without_total_or_failures():
    clock, out = Clock(), io.StringIO()
    with progress("fuzz", "inputs", terminal=False, stream=out, clock=clock, interval=2) as update:
        clock.t += 2
        update(40)
    assert out.getvalue() == "fuzz: 40 inputs, 2 s\n"


@pytest.mark.parametrize("args, title, complete", [
    (["torture", "kv", "--ops", "20", "--cuts", "10", "-j", "1", "--json"], "torture kv mixed: ", True),
    (["wear", "--store", "zephyr-nvs", "--size", "0x3000", "--unit-size", "0x1000", "--keys", "4",
      "--samples", "600", "--json"], "wear zephyr-nvs: ", True),
    # plan stops at the first size that meets the target
    (["plan", "--store", "zephyr-nvs", "--keys", "4", "--samples", "100", "--max-size", "0x4000",
      "--json"], "plan zephyr-nvs: ", False),
])
def test_piped_commands_print_status_lines_on_stderr(monkeypatch, args, title, complete):
    monkeypatch.setattr(progress_mod, "INTERVAL_S", 0.0)   # every update is "a few seconds later"
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    json.loads(res.stdout)                                   # stdout is the JSON alone
    status = [ln for ln in res.stderr.splitlines() if ln.startswith(title)]
    assert status, res.stderr
    done, total = map(int, status[-1].removeprefix(title).split()[0].split("/"))
    assert 0 < done <= total and (done == total) == complete
