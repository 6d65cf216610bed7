"""The short seeded fuzz run of CI: every target of :mod:`flashstack.fuzz` (readers, loaders,
importers, writers) on a derandomised set of mutated inputs under the invariants (only
flashstack.errors, no call over 5 s of CPU, bounded memory, read-only inputs unchanged, failed writers
change nothing, mount idempotence). About a minute in total; long runs:
``python -m flashstack.fuzz all --minutes 30``."""

from __future__ import annotations

import pytest

from flashstack.fuzz import TARGETS, Finding, check_call
from flashstack.fuzz.engine import run_hypothesis

CI_TARGETS = sorted(n for n, t in TARGETS.items() if t.ci)


@pytest.mark.parametrize("name", CI_TARGETS)
def test_target_holds_its_invariants(name):
    assert run_hypothesis(TARGETS[name], examples=30, derandomize=True) == 30


def test_every_kind_of_entry_point_has_targets():
    kinds = {t.kind for t in TARGETS.values()}
    assert kinds == {"reader", "loader", "importer", "writer"}


def test_the_invariants_catch_what_they_promise():
    with pytest.raises(Finding, match="KeyError escaped"):
        check_call("t", lambda: {}["x"])
    with pytest.raises(Finding, match="RecursionError"):
        def deep(n):
            return deep(n + 1)
        check_call("t", lambda: deep(0))
    from flashstack.errors import InvalidArgument
    err = check_call("t", lambda: (_ for _ in ()).throw(InvalidArgument("bad")))
    assert isinstance(err, InvalidArgument)


def test_time_limits_count_cpu_and_waiting_apart(monkeypatch):
    """A call slowed down by other work on the machine is not a finding (the board-toml run
    flagged a first spiflash load, 2 s of CPU, at 10.8 s wall at nice 19); a call that
    computes past the CPU limit is, and so is one that blocks past the wall-clock limit."""
    import time

    from flashstack.fuzz import invariants
    monkeypatch.setattr(invariants, "TIME_LIMIT_S", 0.05)
    monkeypatch.setattr(invariants, "WAIT_LIMIT_S", 0.5)
    check_call("t", lambda: time.sleep(0.2))              # waiting, under the wall limit

    def spin():
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
    with pytest.raises(Finding, match="of CPU"):
        check_call("t", spin)
    with pytest.raises(Finding, match="wall-clock limit"):
        check_call("t", lambda: time.sleep(0.7))


def test_seeds_of_every_target_are_accepted_cleanly():
    """A target's own seeds are valid inputs: the run raises no finding on them."""
    for name in CI_TARGETS:
        for seed in TARGETS[name].seeds():
            TARGETS[name].run(seed)


def test_dtb_seed_is_the_board_it_was_flattened_from():
    """The DTB target mutates real boards: its seed parses to the DTS's partitions and labels."""
    from importlib import resources

    from flashstack.board.devicetree.dtb import parse_dtb
    from flashstack.board.devicetree.dts import read_dts
    from flashstack.board.devicetree.extract import extract
    from flashstack.fuzz.targets import _flatten
    dts = read_dts(str(resources.files("flashstack") / "data" / "boards" / "qemu_x86.dts"))
    dtb = parse_dtb(_flatten(dts), "<seed>")
    assert set(dtb.labels) == set(dts.labels)
    assert [(p.path, p.offset, p.size) for p in extract(dtb).partitions] == \
        [(p.path, p.offset, p.size) for p in extract(dts).partitions]


def test_dts_that_is_not_utf8_is_a_clear_error(tmp_path):
    """Fuzz finding (dts target): a bad byte was a bare UnicodeDecodeError."""
    from flashstack.board.devicetree.extract import load_devicetree
    from flashstack.errors import InvalidArgument
    p = tmp_path / "bad.dts"
    p.write_bytes(b"/dts-v1/;\n/ { x = \"\x80\"; };\n")
    with pytest.raises(InvalidArgument, match=r"bad\.dts: not UTF-8 text: byte 0x80 at offset 19 \(line 2, column 10\)"):
        load_devicetree(p)
