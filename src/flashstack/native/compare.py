"""``--compare-model``: the same workload through the C code and through flashstack's own
store for that API, comparing the partition image after every step, and after every cut (the
torn image, then the image after the remount). The first difference is reported, with both
images saved: a byte-compatibility oracle for a team that changes or upgrades its C.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from ..torture.engine import Campaign, Runner, _by_step, plan, select_points
from ..torture.replay import save_evidence
from ..torture.target import describe_op

__all__ = ["CompareResult", "Difference", "compare_model"]


@dataclass
class Difference:
    """The first place the two images differ: ``where`` (e.g. ``"after step 12"`` or
    ``"cut 40 (prefix) in step 12, after the remount"``), the first differing partition offset
    (None when only the flash operation counts differ) and the saved images."""

    where: str
    step: int
    op: str
    offset: int | None
    c_byte: int | None
    model_byte: int | None
    detail: str = ""
    saved: dict = field(default_factory=dict)


@dataclass
class CompareResult:
    """Outcome of a comparison: ``steps`` and ``cuts`` compared, the first ``difference``."""

    c_target: list
    model: str
    workload: str
    ops: int
    seed: int
    steps: int = 0
    cuts: int = 0
    difference: Difference | None = None

    @property
    def ok(self) -> bool:
        return self.difference is None

    def to_json(self) -> dict:
        d = self.difference
        return {"c_target": self.c_target, "model": self.model, "workload": self.workload,
                "ops": self.ops, "seed": self.seed, "steps_compared": self.steps,
                "cuts_compared": self.cuts, "ok": self.ok,
                "difference": None if d is None else {
                    "where": d.where, "step": d.step, "op": d.op, "offset": d.offset,
                    "c_byte": d.c_byte, "model_byte": d.model_byte, "detail": d.detail,
                    "saved": d.saved}}


def _first_diff(a: bytes, b: bytes) -> int | None:
    if a == b:
        return None
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def compare_model(c_campaign: Campaign, model_target, save: str | os.PathLike | None = None,
                  progress=None) -> CompareResult:
    """Run ``c_campaign`` (its workload, seed, cut selection and tear modes) on its C target
    and on ``model_target`` (flashstack's store for the same API and geometry), step by step.

    Both runs take the same workload from their own target (equal for twins). With ``save``,
    the first difference writes ``c.bin`` and ``model.bin`` (and ``before.bin`` for a cut)
    there. The GC exercise is not run (``gc_check`` is ignored): only images are compared.
    """
    cc = replace(c_campaign, gc_check=0.0)
    mc = replace(cc, target=model_target)
    res = CompareResult(c_campaign.target.cli_args(), model_target.kind, cc.workload, cc.ops, cc.seed)
    pc, pm = plan(cc), plan(mc)
    groups = _by_step(pc, select_points(pc, cc), cc)
    rc, rm = Runner(cc, pc.steps), Runner(mc, pm.steps)
    total = len(pc.steps)
    for step in range(total):
        op = describe_op(pc.steps[step])
        if step >= len(pm.steps) or pm.counts[step] != pc.counts[step]:
            m = pm.counts[step] if step < len(pm.steps) else None
            diff = Difference(f"step {step}", step, op, None, None, None,
                              f"the C code did {pc.counts[step]} flash operations, flashstack's "
                              f"store {m if m is not None else 'stopped before this step'}")
            img_c, img_m = _images_after(rc, rm, step)
            diff.offset = off = _first_diff(img_c, img_m)
            if off is not None:
                diff.c_byte = img_c[off] if off < len(img_c) else None
                diff.model_byte = img_m[off] if off < len(img_m) else None
            res.difference = _finish(diff, img_c, img_m, b"", save)
            return res
        cuts = groups.get(step, [])
        if cuts:
            outs_c = rc.cut_step(cuts, keep=True)
            outs_m = rm.cut_step(cuts, keep=True)
            for oc, om in zip(outs_c, outs_m):
                res.cuts += 1
                for what, a, b in (("right after the cut", oc.image_cut, om.image_cut),
                                   ("after the remount", oc.image_mounted, om.image_mounted)):
                    off = _first_diff(a, b)
                    if off is not None:
                        diff = Difference(f"cut {oc.index} ({oc.tear}) in step {step}, {what}", step,
                                          op, off, a[off] if off < len(a) else None,
                                          b[off] if off < len(b) else None,
                                          _remount_note(oc, om))
                        res.difference = _finish(diff, a, b, oc.image_before, save)
                        return res
        else:
            rc.advance()
            rm.advance()
        res.steps += 1
        a, b = rc.dev.snapshot(), rm.dev.snapshot()
        off = _first_diff(a, b)
        if off is not None:
            diff = Difference(f"after step {step}", step, op, off, a[off], b[off])
            res.difference = _finish(diff, a, b, b"", save)
            return res
        if progress:
            progress(step + 1, total)
    return res


def _images_after(rc: Runner, rm: Runner, step: int) -> tuple[bytes, bytes]:
    """Images of both runners after ``step`` (the step that disagrees) was run uncut."""
    for r in (rc, rm):
        try:
            r.run_to(step + 1)
        except Exception:  # noqa: BLE001,S110 - the failing side keeps the image it reached
            pass
    return rc.dev.snapshot(), rm.dev.snapshot()


def _remount_note(oc, om) -> str:
    notes = []
    for side, o in (("C", oc), ("model", om)):
        if o.violations:
            notes.append(f"{side}: {o.violations[0]}")
    return "; ".join(notes)


def _finish(diff: Difference, img_c: bytes, img_m: bytes, before: bytes, save) -> Difference:
    if save is None:
        return diff
    diff.saved.update(save_evidence(save, {"c.bin": img_c, "model.bin": img_m, "before.bin": before},
                                    "difference.json", lambda saved: {**diff.__dict__, "saved": saved}))
    return diff
