"""Replay one cut of a campaign: the reproducer behind ``flashstack torture replay``.

Re-runs the workload up to the step holding the cut, cuts it exactly as the campaign did
(same tear seed), remounts and checks, and keeps three images of the partition: just before
the cut operation, right after the cut, and after the remount (recovery writes included).
"""

from __future__ import annotations

import json
from typing import Callable
import os
from dataclasses import dataclass

from .checkpoint import freeze
from .engine import Campaign, Runner, plan, split_tear
from .report import reproducer
from .target import describe_op

__all__ = ["ReplayResult", "replay", "save_evidence"]


@dataclass
class ReplayResult:
    """One replayed cut. Images are the partition's bytes (partition-relative offset 0);
    ``cut_at`` is ``(kind, offset, length)`` of the interrupted write or erase."""

    index: int
    tear: str
    step: int
    k: int
    op: str
    power_loss: str
    cut_at: tuple
    violations: list
    notes: list
    image_before: bytes
    image_cut: bytes
    image_mounted: bytes
    dump: str
    reproducer: str
    saved: dict

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict:
        return {"cut": self.index, "tear": self.tear, "step": self.step, "k": self.k, "op": self.op,
                "power_loss": self.power_loss, "cut_at": list(self.cut_at), "violations": self.violations,
                "notes": self.notes, "ok": self.ok, "reproducer": self.reproducer, "saved": self.saved, "dump": self.dump}


def replay(campaign: Campaign, index: int, tear: str, save: str | os.PathLike | None = None) -> ReplayResult:
    """Replay cut ``index`` (1-based flash operation of the run) in mode ``tear`` (``clean``,
    ``prefix``, ``bits``, or a sampled variant such as ``prefix:3``).

    With ``save`` (a directory, created if missing) writes ``before.bin`` (just before the cut
    operation), ``after.bin`` (right after the cut), ``remounted.bin`` (after the remount) and
    ``cut.json``. EINVAL for an unknown tear mode or a cut outside the run.
    """
    split_tear(tear)  # EINVAL for an unknown mode
    p = plan(campaign)
    step, k = p.locate(index)
    r = Runner(campaign, p.steps)
    r.run_to(step)
    op = r.steps[step]
    image = r.dev.snapshot()
    frozen = freeze(r.store, r.pinned)
    before = r.model
    _, result = r.target.apply(r.store, r.area, op)
    after = r.target.model_apply(before, op, result)
    pre = r._cut(op, image, frozen, before, after, 0, k, "clean", keep=True)
    out = r._cut(op, image, frozen, before, after, index, k, tear, keep=True)
    dev, area = campaign.target.build()
    dev.restore(out.image_cut)
    try:
        dump = campaign.target.dump(area)
    except Exception as exc:  # the dump must not hide the finding
        dump = f"(dump failed: {type(exc).__name__}: {exc})"
    res = ReplayResult(index, tear, step, k, describe_op(op), out.power_loss, out.cut_at, out.violations,
                       out.notes, pre.image_cut, out.image_cut, out.image_mounted, dump,
                       reproducer(campaign, index, tear), {})
    if save is not None:
        res.saved = save_evidence(save, {"before.bin": res.image_before, "after.bin": res.image_cut,
                                         "remounted.bin": res.image_mounted},
                                  "cut.json", lambda saved: {**res.to_json(), "saved": saved})
    return res


def save_evidence(folder: str | os.PathLike, images: dict[str, bytes], meta_name: str,
                  meta: Callable[[dict[str, str]], dict]) -> dict[str, str]:
    """Write the non-empty ``images`` (file name -> bytes) into ``folder`` (created), then
    ``meta(saved images {name: path})`` as JSON under ``meta_name``; returns ``{file name:
    path}`` of everything written. OSError from the file system propagates."""
    os.makedirs(folder, exist_ok=True)
    saved: dict[str, str] = {}
    for name, data in images.items():
        if data:
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(data)
            saved[name] = path
    path = os.path.join(folder, meta_name)
    with open(path, "w") as f:
        json.dump(meta(dict(saved)), f, indent=2)
    saved[meta_name] = path
    return saved
