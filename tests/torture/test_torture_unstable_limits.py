"""Campaigns run the unstable-bits tear mode for every store, and a torn ATE/record whose CRC-8
matches by chance is counted as a format limit, not a failure."""

from __future__ import annotations

import pytest

from flashstack.kv import format as kvfmt
from flashstack.nvs import Ate
from flashstack.torture import Campaign, run_campaign
from flashstack.torture.engine import CutOutcome
from flashstack.torture.limits import (FORMAT_LIMIT_NOTE, classify, torn_kv_record_matches,
                                       torn_nvs_ate_matches)
from flashstack.torture.targets.kv import KVTarget
from flashstack.torture.targets.llkernel import FeatureTarget
from flashstack.torture.targets.nvs import NVSTarget
from flashstack.torture.targets.settings import SettingsTarget


@pytest.mark.parametrize("target", [KVTarget(), NVSTarget(), SettingsTarget(), FeatureTarget()],
                         ids=lambda t: t.kind)
def test_every_store_survives_unstable_tears(target):
    workload = "churn" if target.kind == "llkernel" else "mixed"
    r = run_campaign(Campaign(target, workload=workload, ops=25, seed=2, tears=("unstable",),
                              gc_check=0.0), jobs=1)
    assert r.tried == {"unstable": r.points} and r.points > 0
    assert r.ok, r.failures[:2]


def _nvs_cut(raw: bytes, before: bytes = b"\xff" * 8):
    img_before = bytearray(b"\xff" * 1024)
    img_before[1008:1016] = before
    cut = bytearray(img_before)
    cut[1008:1016] = raw
    return bytes(img_before), bytes(cut), ("write", 1008, 8)


def test_nvs_torn_ate_with_a_matching_crc_is_a_format_limit():
    good = Ate(5, 0x40, 12).pack()
    before, cut, at = _nvs_cut(good)
    assert torn_nvs_ate_matches(before, cut, at, 1024, 4)
    bad = good[:7] + bytes([good[7] ^ 1])
    assert not torn_nvs_ate_matches(*_nvs_cut(bad)[:2], at, 1024, 4)
    assert not torn_nvs_ate_matches(before, cut, ("write", 0, 8), 1024, 4)  # not an ATE slot
    assert not torn_nvs_ate_matches(before, cut, ("erase", 1008, 8), 1024, 4)


def test_kv_torn_record_with_a_matching_crc_is_a_format_limit():
    rec = kvfmt.encode_record(b"key", b"value", 0, pos32=False, align=4)
    before = b"\xff" * 64
    cut = rec + before[len(rec):]
    assert torn_kv_record_matches(before, cut, ("write", 0, len(rec)), False)
    broken = bytearray(cut)
    broken[len(rec) - 4] ^= 0x10
    assert not torn_kv_record_matches(before, bytes(broken), ("write", 0, len(rec)), False)


def test_classify_moves_violations_to_the_note():
    before, cut, at = _nvs_cut(Ate(5, 0x40, 12).pack())
    out = CutOutcome(0, "bits", 1, 1, ("set", 5, b"x"), ["id 5 holds neither"], [], False,
                     cut_at=at)
    classify(NVSTarget(), out, before, cut)
    assert out.violations == [] and out.notes == [FORMAT_LIMIT_NOTE]
    other = CutOutcome(0, "bits", 1, 1, ("set", 5, b"x"), ["id 5 holds neither"], [], False,
                       cut_at=("write", 0, 8))
    classify(NVSTarget(), other, before, cut)
    assert other.violations == ["id 5 holds neither"]
