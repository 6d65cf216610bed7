"""Hypothesis property tests of NOR semantics (docs/device.md §4.2, §5) against the simple
byte-by-byte model of conftest.NorModel: random programs and erases with both erase values
and write blocks of 1, 4 and 8 bytes."""

from __future__ import annotations

import errno

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashstack.device import SimulatedFlash
from flashstack.errors import PowerLoss

PAGE, PAGES = 64, 8
SIZE = PAGE * PAGES
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def op(draw, wbs):
    if draw(st.integers(0, 4)) == 0:
        first = draw(st.integers(0, PAGES - 1))
        count = draw(st.integers(1, PAGES - first))
        return ("erase", first * PAGE, count * PAGE)
    blocks = SIZE // wbs
    first = draw(st.integers(0, blocks - 1))
    count = draw(st.integers(1, min(4, blocks - first)))
    data = draw(st.binary(min_size=count * wbs, max_size=count * wbs))
    return ("write", first * wbs, data)


@st.composite
def scenario(draw):
    ev = draw(st.sampled_from([0xFF, 0x00]))
    wbs = draw(st.sampled_from([1, 4, 8]))
    double = draw(st.booleans())
    ops = draw(st.lists(op(wbs), min_size=1, max_size=25))
    return ev, wbs, double, ops


def toward_erase_value(ev: int, old: bytes, new: bytes) -> int:
    """Bits that moved toward the erase value between ``old`` and ``new`` (as an int mask)."""
    a, b = int.from_bytes(old, "little"), int.from_bytes(new, "little")
    return (b & ~a) if ev == 0xFF else (a & ~b)


@SETTINGS
@given(scenario())
def test_nor_semantics_match_the_model(nor_model, sc):
    ev, wbs, double, ops = sc
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=wbs, erase_value=ev,
                         allow_double_writes=double)
    model = nor_model(SIZE, PAGE, ev, wbs, double=double)
    for kind, off, arg in ops:
        before = dev.snapshot()
        if kind == "erase":
            dev.erase(off, arg)
            model.erase(off, arg)
        else:
            accepted = model.write(off, arg)
            if accepted:
                dev.write(off, arg)
            else:  # double write rejected with EIO, nothing written
                with pytest.raises(OSError) as ei:
                    dev.write(off, arg)
                assert ei.value.errno == errno.EIO
            after = dev.snapshot()
            # programming never moves a bit toward the erase value (only erase does)
            assert toward_erase_value(ev, before, after) == 0
            # AND into 0xFF flash / OR into 0x00 flash on the written range
            span = slice(off, off + len(arg))
            if accepted:
                expect = bytes((o & d) if ev == 0xFF else (o | d) for o, d in zip(before[span], arg))
                assert after[span] == expect
        assert dev.snapshot() == model.image()


@SETTINGS
@given(scenario(), st.integers(1, 25), st.sampled_from(["prefix", "bits"]), st.integers(0, 2**32))
def test_torn_write_changes_only_bits_the_full_write_changes(nor_model, sc, cut_at, tear, seed):
    ev, wbs, _, ops = sc
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=wbs, erase_value=ev,
                         allow_double_writes=True)
    model = nor_model(SIZE, PAGE, ev, wbs, double=True)
    dev.arm_power_cut(after=cut_at, mode="torn", tear=tear, seed=seed)
    for kind, off, arg in ops:
        before = dev.snapshot()
        full = model.full_write(off, arg) if kind == "write" else bytes([ev]) * arg
        try:
            getattr(dev, kind)(off, arg)
        except PowerLoss as cut:
            got = dev.snapshot()
            n = len(full)
            assert got[:off] == before[:off] and got[off + n:] == before[off + n:]
            a = int.from_bytes(before[off:off + n], "little")
            changed = a ^ int.from_bytes(got[off:off + n], "little")
            would = a ^ int.from_bytes(full, "little")
            assert changed & ~would == 0  # a torn op only makes changes the full op would make
            if kind == "write":
                assert toward_erase_value(ev, before, got) == 0
                if tear == "prefix":
                    k = cut.applied
                    assert got[off:off + k] == full[:k] and got[off + k:off + n] == before[off + k:off + n]
            with pytest.raises(PowerLoss):
                dev.read(0, 1)
            assert dev.snapshot() == got
            return
        getattr(model, kind)(off, arg)
    assert dev.ops_since_arm == len(ops) < cut_at


@SETTINGS
@given(st.sampled_from([0xFF, 0x00]), st.sampled_from([1, 4, 8]),
       st.lists(st.tuples(st.integers(0, SIZE // 8 - 1), st.binary(min_size=8, max_size=8)), max_size=20))
def test_ram_like_writes_overwrite(nor_model, ev, wbs, writes):
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=wbs, erase_value=ev,
                         explicit_erase=False)
    model = nor_model(SIZE, PAGE, ev, wbs, explicit=False)
    for slot, data in writes:
        dev.write(slot * 8, data)
        model.write(slot * 8, data)
    assert dev.snapshot() == model.image()
    assert dev.stats.double_writes == 0
