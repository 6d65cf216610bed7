"""The default --jobs (torture.parallel.default_jobs): one job below 1,000 cuts, else the
cores not busy with other work, never more than the cores nor fewer than one."""

from __future__ import annotations

import pytest

from flashstack.torture import parallel


@pytest.mark.parametrize("cuts, cores, load, want", [
    (999, 8, 0.0, 1),          # short campaign: workers cost more than they save
    (1000, 8, 0.0, 8),         # idle machine: every core
    (5000, 2, 1.0, 2),         # this process's own load: both cores
    (5000, 2, 2.5, 1),         # other jobs use the cores: one job
    (5000, 2, 16.0, 1),
    (5000, 8, 3.2, 5),
])
def test_default_jobs(monkeypatch, cuts, cores, load, want):
    monkeypatch.setattr(parallel, "cpu_count", lambda: cores)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (load, load, load))
    assert parallel.default_jobs(cuts) == want


def test_default_jobs_without_load_average(monkeypatch):
    def unavailable():
        raise OSError("no load average")
    monkeypatch.setattr(parallel, "cpu_count", lambda: 4)
    monkeypatch.setattr(parallel.os, "getloadavg", unavailable)
    assert parallel.default_jobs(10_000) == 4
