"""pytest option ``--power-loss=none|sampled|exhaustive``: every test that mounts a store runs
again under power cuts (littlefs runs its suite this way).

With ``sampled`` or ``exhaustive``, each test that passes is followed by a power-loss check of
every store session it recorded (:mod:`.recording`): the torture engine replays the test's
store operations from the image the store was mounted on and cuts them at
:data:`~.recording.MODES` ``["sampled"]`` seeded flash operations per session (seed: the test
id, so CI cuts the same places every run; tears clean, prefix and bits) or at every flash
operation (``exhaustive``, with the GC exercise after each cut). A broken invariant fails the
test with the cut, the operation and the violation. ``none`` (the default) records nothing.

Use: ``pytest --power-loss=sampled tests/nvs`` (this project's conftest loads the plugin), or
``pytest -p flashstack.torture.pytest_plugin --power-loss=sampled`` elsewhere.
"""

from __future__ import annotations

from collections import Counter

import pytest

from .recording import MODES, StoreRecorder, check_session

_STATS: Counter = Counter()
#: Sessions checked per test in sampled mode (hypothesis tests mount a store per example).
SAMPLED_SESSIONS = 3


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "power_loss_known(reason): a defect the power-loss run finds in this test and "
        "that is not fixed yet; the test is reported as xfail with the reason, never hidden")


def pytest_addoption(parser) -> None:
    parser.getgroup("flashstack").addoption(
        "--power-loss", choices=tuple(MODES), default="none",
        help="re-run every store session a test records under power cuts: none (default), "
             "sampled (a few seeded cuts per session, CI) or exhaustive (every flash operation)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    mode = item.config.getoption("--power-loss", "none")
    if mode == "none":
        return (yield)
    rec = StoreRecorder()
    rec.start()
    try:
        result = yield
    finally:
        rec.stop()
    _check(item, rec, mode)
    return result


def _check(item, rec: StoreRecorder, mode: str) -> None:
    sessions = [s for s in rec.sessions if s.ops or s.image != s.last]
    if mode == "sampled" and len(sessions) > SAMPLED_SESSIONS:
        step = len(sessions) / SAMPLED_SESSIONS  # spread over the test: first, middle, last
        sessions = [sessions[int(i * step)] for i in range(SAMPLED_SESSIONS)]
    problems = []
    for i, s in enumerate(sessions):
        res = check_session(s, MODES[mode], seed=f"{item.nodeid}#{i}",
                            gc_check=1.0 if mode == "exhaustive" else 0.0)
        if res.report is None:
            _STATS["not replayable"] += 1
            continue
        _STATS["sessions"] += 1
        _STATS["cuts"] += sum(res.report.tried.values())
        problems += [f"{s.kind} session {i} ({len(s.ops)} operations): {f}" for f in res.failures]
    if problems:
        _STATS["failed"] += 1
        known = item.get_closest_marker("power_loss_known")
        if known is not None:
            pytest.xfail(f"{known.kwargs.get('reason', known.args[0] if known.args else '')}: "
                         f"{problems[0]}")
        pytest.fail("power loss broke the store:\n  " + "\n  ".join(problems[:10]), pytrace=False)


def pytest_terminal_summary(terminalreporter, config) -> None:
    if config.getoption("--power-loss", "none") == "none" or not _STATS:
        return
    terminalreporter.write_line(
        f"power loss ({config.getoption('--power-loss')}): {_STATS['sessions']} store sessions "
        f"cut {_STATS['cuts']} times, {_STATS['failed']} tests failed under cuts, "
        f"{_STATS['not replayable']} sessions not replayable (skipped)")
