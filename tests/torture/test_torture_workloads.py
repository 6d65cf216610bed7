"""Seeded workloads: deterministic, shaped as their names say."""

from collections import Counter

import pytest

from flashstack.errors import InvalidArgument
from flashstack.torture import DictSpace, dict_workload, feature_workload, parse_workload

SPACE = DictSpace(lambda i: f"{'ab'[i % 2]}/k{i:03d}", 100, ("a/", "b/"))


def test_same_seed_same_operations_other_seed_other_operations():
    assert dict_workload("mixed", 200, 7, SPACE) == dict_workload("mixed", 200, 7, SPACE)
    assert dict_workload("mixed", 200, 7, SPACE) != dict_workload("mixed", 200, 8, SPACE)
    assert len(dict_workload("hotkey", 123, 1, SPACE)) == 123


def test_mixed_has_every_kind_of_operation_and_respects_value_bounds():
    ops = dict_workload("mixed:vmin=5,vmax=9,reboot=0.05,prefix=0.05", 600, 1, SPACE)
    kinds = Counter(op[0] for op in ops)
    assert set(kinds) == {"set", "del", "delp", "reboot"}
    assert all(5 <= len(op[2]) <= 9 for op in ops if op[0] == "set")
    assert {op[1] for op in ops if op[0] == "delp"} <= {"a/", "b/"}
    # deletes only name keys that were set before
    live = set()
    for op in ops:
        if op[0] == "set":
            live.add(op[1])
        elif op[0] == "del":
            assert op[1] in live
            live.discard(op[1])
        elif op[0] == "delp":
            live = {k for k in live if not k.startswith(op[1])}


def test_hotkey_concentrates_on_hot_keys_and_fill_uses_fresh_keys():
    sets = [op[1] for op in dict_workload("hotkey", 400, 2, SPACE) if op[0] == "set"]
    top2 = sum(n for _, n in Counter(sets).most_common(2))
    assert top2 >= 0.9 * len(sets)
    fill = [op[1] for op in dict_workload("fill", 300, 2, SPACE) if op[0] == "set"]
    assert len(set(fill)) == len(fill)


def test_no_prefix_deletes_for_stores_without_them():
    space = DictSpace(lambda i: i + 1, 50)
    ops = dict_workload("mixed:prefix=0.5", 300, 3, space)
    assert "delp" not in {op[0] for op in ops}
    assert all(len(op[2]) <= 50 for op in ops if op[0] == "set")


def test_feature_churn_fits_the_slots():
    ops = feature_workload("churn", 200, 4, max_features=4, slot_size=16384, ram_size=16384)
    count = 0
    for op in ops:
        if op[0] == "install":
            assert 64 <= op[1] <= 16384 - 32 and 0 <= op[2] <= 4096
            count += 1
        elif op[0] == "remove":
            assert 0 <= op[1] < count
            count -= 1
        assert count <= 4


def test_parameters_are_parsed_and_checked():
    name, p = parse_workload("mixed:keys=40,delete=0.3", {"mixed": ("", {"keys": 24, "delete": 0.1})})
    assert (name, p) == ("mixed", {"keys": 40, "delete": 0.3})
    with pytest.raises(InvalidArgument, match="not a number"):
        dict_workload("mixed:keys=lots", 10, 0, SPACE)
