"""Sizing and lifetime planning for a key-value partition (the architect's job).

Given a chip (erase page, write block, rated erase cycles) and a write pattern (live keys,
key and value sizes, updates per day), :func:`plan` measures rather than guesses: it runs the
real store (AliOS KV or Zephyr NVS) on a :class:`~flashstack.device.SimulatedFlash` with the
chip's geometry, for each candidate partition size, and extrapolates the per-page erase rate
of the most worn page to a lifetime.
"""

from .lifetime import Candidate, PlanReport, Workload, measure, plan

__all__ = ["Candidate", "PlanReport", "Workload", "measure", "plan"]
