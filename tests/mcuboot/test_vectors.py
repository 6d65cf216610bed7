"""The MCUboot reference cases (tests/data/mcuboot-state, produced by bootutil's C code): one
test per case. Kind a: trailer decoding and the swap-type decision; kind b: set_pending /
set_confirmed byte-exact and boot lifecycles; kind c: interrupted swaps."""

from __future__ import annotations

import hashlib

import pytest

from flashstack.mcuboot import (
    McubootError,
    boot_set_confirmed,
    boot_set_pending,
    predict_boot,
    read_boot_status,
    read_swap_state,
    swap_type_of,
)

from .conftest import DATA, Pair, case_files, load_case

STATUS_FIELDS = ("source", "interrupted", "op", "idx", "state", "swap_type", "status_area", "swap_size",
                 "inconsistent")


def _state(area, pair) -> dict:
    return read_swap_state(area, cfg=pair.cfg).to_json()


@pytest.mark.parametrize("path", case_files("a"), ids=lambda p: p.stem)
def test_kind_a(path):
    case = load_case(path)
    c = case["config"]
    e = bytes([c["erased_val"]])
    failures = []
    for n, row in enumerate(case["rows"]):
        pair = Pair(case)
        for area in (pair.primary, pair.secondary):
            tail = bytes.fromhex(row[area.label]["tail_hex"])
            assert len(tail) == case["tail_len"]
            area.write(area.size - len(tail), tail) if c["write_align"] == 1 else pair.dev.restore(
                _with_tail(pair.dev.snapshot(), area, tail, e))
        got = {"primary": _state(pair.primary, pair), "secondary": _state(pair.secondary, pair),
               "swap_type": int(swap_type_of(pair.primary, pair.secondary, cfg=pair.cfg))}
        if got != row["expect"]:
            failures.append((n, row["label"], got, row["expect"]))
    assert not failures, failures[:3]


def _with_tail(image: bytes, area, tail: bytes, e: bytes) -> bytes:
    buf = bytearray(image)
    end = area.offset + area.size
    buf[end - len(tail):end] = tail
    return bytes(buf)


def _check_slots(pair: Pair, slots: dict, where: str) -> None:
    areas = pair.by_name()
    for name, exp in slots.items():
        area = areas[name]
        if "sha256" in exp:
            assert hashlib.sha256(area.read(0, area.size)).hexdigest() == exp["sha256"], (where, name)
        state = exp.get("state", exp)
        assert _state(area, pair) == {k: state[k] for k in ("magic", "swap_type", "image_num", "copy_done",
                                                            "image_ok")}, (where, name)


def _check_status(pair: Pair, exp: dict, where: str) -> None:
    st = read_boot_status(pair.primary, pair.secondary, pair.scratch, cfg=pair.cfg).to_json()
    assert st == {k: exp[k] for k in STATUS_FIELDS}, where
    got = int(swap_type_of(pair.primary, pair.secondary, cfg=pair.cfg))
    assert got == exp["swap_type_from_trailers"], where


def _check_boot(pair: Pair, result: dict, where: str) -> None:
    pred = predict_boot(pair.primary, pair.secondary, pair.scratch, cfg=pair.cfg)
    assert pred.action == result["action"], (where, pred)
    assert int(pred.swap_type) == result["swap_type"], (where, pred)
    if result.get("rc") == 0:
        assert pred.runs is not None and pred.version == result["booted_version"], (where, pred)
    else:
        assert pred.runs is None, (where, pred)


def _op_record(pair: Pair, op) -> dict:
    kind, off, n, data = op
    idx = max(i for i, s in enumerate(pair.starts) if s <= off)
    rec = {"op": kind, "area": idx + 1, "off": off - pair.starts[idx], "len": n}
    if kind == "write":
        rec["data"] = data.hex()
    return rec


@pytest.mark.parametrize("path", case_files("b"), ids=lambda p: p.stem)
def test_kind_b(path):
    case = load_case(path)
    pair = Pair(case)
    pair.load(case["initial_image"])
    _check_slots(pair, case["initial_state"], "initial")
    for n, step in enumerate(case["steps"]):
        where = f"step {n} {step['op']}"
        if step["op"] == "boot":
            _check_status(pair, step["status_before"], where)
            _check_boot(pair, step["result"], where)
            pair.load(step["image_after"])
        else:
            before = pair.dev.snapshot()
            pair.dev.ops.clear()
            if step["op"] == "set_pending":
                rc = boot_set_pending(int(step["permanent"]), secondary=pair.secondary, cfg=pair.cfg)
            else:
                rc = boot_set_confirmed(primary=pair.primary, cfg=pair.cfg)
            assert rc == step["rc"], where
            assert [_op_record(pair, op) for op in pair.dev.ops] == [
                {k: v for k, v in op.items() if k != "data" or op["op"] == "write"} for op in step["flash_ops"]], where
            if rc:
                assert pair.dev.snapshot() == before, where
        assert int(swap_type_of(pair.primary, pair.secondary, cfg=pair.cfg)) == step["swap_type_after"], where
        _check_slots(pair, step["slots_after"], where)


@pytest.mark.parametrize("path", case_files("c"), ids=lambda p: p.stem)
def test_kind_c(path):
    case = load_case(path)
    pair = Pair(case)
    pair.load(case["image"])
    _check_status(pair, case["expect"]["status"], "after cut")
    _check_slots(pair, case["expect"]["slots"], "after cut")
    if "reboot_cut" in case:
        # what the cut image's boot starts to do, then the image of the second cut
        pair.load(case["reboot_cut"]["image"])
        _check_status(pair, case["reboot_cut"]["expect"]["status"], "after second cut")
        if "slots" in case["reboot_cut"]["expect"]:
            _check_slots(pair, case["reboot_cut"]["expect"]["slots"], "after second cut")
    _check_boot(pair, case["resume"]["result"], "resume")


def test_set_pending_error_carries_rc():
    case = load_case(DATA / "b16_bad_magic_set_pending.json")
    pair = Pair(case)
    pair.load(case["initial_image"])
    from flashstack.mcuboot import set_pending
    with pytest.raises(McubootError) as exc:
        set_pending(pair.secondary, cfg=pair.cfg)
    assert exc.value.rc == 3 and exc.value.errno == 22 and "secondary" in str(exc.value)
