"""Campaign results: :class:`Failure` (one broken cut), :class:`Report` (a campaign) and the
one-line reproducer command of a cut."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import Campaign

__all__ = ["Failure", "Report", "reproducer"]


@dataclass
class Failure:
    """One cut whose remounted store broke an invariant."""

    index: int
    tear: str
    step: int
    k: int
    op: str
    violations: list
    reproducer: str = ""


def reproducer(campaign, index: int, tear: str) -> str:
    """The one-line command that replays cut ``index`` in mode ``tear``."""
    args = ["flashstack", "torture", "replay", *campaign.target.cli_args(),
            "--workload", campaign.workload, "--ops", str(campaign.ops), "--seed", str(campaign.seed),
            "--cut", str(index), "--tear", tear]
    if campaign.gc_check < 1.0:
        args += ["--gc-check", str(campaign.gc_check)]
    return " ".join(shlex.quote(a) for a in args)


@dataclass
class Report:
    """Outcome of a campaign (``campaign`` is the :class:`~flashstack.torture.Campaign`).
    ``failures`` are sorted by cut point and tear mode; ``reused`` counts cuts whose post-cut
    image equalled an earlier cut's of the same step (verdict shared, not re-checked)."""

    campaign: Campaign
    steps: int
    flash_ops: int
    points: int
    tried: dict
    failed: dict
    failures: list
    notes: dict
    gc_checked: int
    reused: int
    run_violations: list
    elapsed_s: float
    jobs: int
    executor: str

    @property
    def cuts(self) -> int:
        return sum(self.tried.values())

    @property
    def ok(self) -> bool:
        return not self.failures and not self.run_violations

    @property
    def cuts_per_s(self) -> float:
        return self.cuts / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict:
        c = self.campaign
        return {
            "target": c.target.kind, "target_args": c.target.cli_args(), "workload": c.workload,
            "ops": c.ops, "seed": c.seed, "cuts_selection": "all" if c.cuts is None else c.cuts,
            "tears": list(c.tears), "tear_samples": c.tear_samples, "gc_check": c.gc_check,
            "steps": self.steps,
            "flash_ops": self.flash_ops, "points": self.points, "cuts": self.cuts,
            "tried": dict(self.tried), "failed": dict(self.failed), "gc_checked": self.gc_checked,
            "images_checked": self.cuts - self.reused,
            "notes": dict(self.notes), "run_violations": list(self.run_violations),
            "failures": [asdict(f) for f in self.failures], "ok": self.ok,
            "elapsed_s": round(self.elapsed_s, 3), "cuts_per_s": round(self.cuts_per_s, 1),
            "jobs": self.jobs, "executor": self.executor,
        }


