"""FlashArea / FlashMap built in code (spec §2, §3, §5, §8 FM-14, FM-15, FM-25)."""

from __future__ import annotations

import errno

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import AccessDenied, InvalidArgument, NotFound
from flashstack.flash_map import (
    DeviceSpec,
    FlashArea,
    FlashMap,
    PartitionSpec,
    PartitionWarning,
    build_flash_map,
)


@pytest.fixture
def dev():
    return SimulatedFlash(0x10000, erase_page_size=0x1000, write_block_size=4, name="f0")


def test_map_validation(dev):
    with pytest.raises(InvalidArgument, match="outside device f0"):
        FlashMap([FlashArea(0, 0xF000, 0x2000, dev, node_labels=("p",))])
    with pytest.raises(InvalidArgument, match="share id 3"):
        FlashMap([FlashArea(3, 0, 0x1000, dev), FlashArea(3, 0x1000, 0x1000, dev)])
    with pytest.raises(InvalidArgument, match="0..255"):
        FlashMap([FlashArea(256, 0, 0x1000, dev)])
    with pytest.raises(InvalidArgument, match="at most 256"):
        FlashMap([FlashArea(None, 0, 0x10, dev) for _ in range(257)])
    assert len(FlashMap([])) == 0  # an empty map is legal (FM-15)


def test_overlap_warning_but_not_for_nested(dev):
    with pytest.warns(UserWarning, match="overlap"):
        FlashMap([FlashArea(0, 0, 0x2000, dev, path="/a"), FlashArea(1, 0x1000, 0x2000, dev, path="/b")])
    m = FlashMap([FlashArea(0, 0, 0x4000, dev, path="/p/a"),
                  FlashArea(None, 0x1000, 0x1000, dev, path="/p/a/x")])
    assert m.overlaps() == []


def test_lookups(dev):
    m = FlashMap([FlashArea(0, 0, 0x1000, dev, label="dup", node_labels=("a", "alias")),
                  FlashArea(1, 0x1000, 0x1000, dev, label="dup", node_labels=("b",)),
                  FlashArea(2, 0x2000, 0x1000, dev, label="only")])
    assert m.by_node_label("alias").id == 0 and m.find("b").id == 1
    assert m.find("only").id == 2 and m.find(2).id == 2 and m.find("2").id == 2
    with pytest.raises(InvalidArgument, match="names 2 partitions"):
        m.by_label("dup")
    with pytest.raises(NotFound) as e:
        m.by_node_label("zzz")
    assert e.value.errno == errno.ENOENT and isinstance(e.value, LookupError)
    with pytest.raises(NotFound):
        m.by_id(9)


def test_area_errors_name_partition_offset_length(dev):
    fa = FlashArea(4, 0x2000, 0x1000, dev, node_labels=("storage",))
    with pytest.raises(InvalidArgument) as e:
        fa.write(0xFFC, b"\x00" * 8)
    msg = str(e.value)
    assert "storage" in msg and "id 4" in msg and "0xffc" in msg and "0x8" in msg
    ro = FlashArea(5, 0, 0x1000, dev, node_labels=("boot",), read_only=True)
    fa.write(0, b"\x00" * 16)
    with pytest.raises(AccessDenied, match="read-only"):
        fa.copy_to(ro, 0, 0, 16)
    assert ro.read(0, 16) == b"\xff" * 16


def test_copy_between_devices_and_sectors(dev):
    other = SimulatedFlash(0x8000, erase_page_size=0x800, name="f1")
    a = FlashArea(0, 0x1000, 0x1000, dev)
    b = FlashArea(1, 0x800, 0x1800, other)
    a.write(0, bytes(range(64)))
    a.copy_to(b, 0, 0x10, 64, buf_size=16)
    assert b.read(0x10, 64) == bytes(range(64))
    assert [(s.fs_off, s.fs_size) for s in b.sectors()] == [(0, 0x800), (0x800, 0x800), (0x1000, 0x800)]
    assert [p.start_offset for p in b.erase_pages()] == [0x800, 0x1000, 0x1800]
    assert a.align == 4 and a.erased_val == 0xFF


def test_page_runs_of_an_area():
    mixed = SimulatedFlash(layout=[(2, 0x400), (1, 0x800), (2, 0x400)], name="m")
    assert FlashArea(0, 0x400, 0x1000, mixed).page_runs() == [(1, 0x400), (1, 0x800), (1, 0x400)]
    assert FlashArea(0, 0, 0x1800, mixed).page_runs() == [(2, 0x400), (1, 0x800), (2, 0x400)]
    assert FlashArea(0, 0x200, 0x600, mixed).page_runs() == [(1, 0x600)]  # not on page boundaries
    assert FlashArea(0, 0x800, 0x400, mixed).page_runs() == [(1, 0x400)]  # ends inside a page


def test_build_flash_map_from_specs():
    d = DeviceSpec("f0", 0x4000, ((4, 0x1000),), write_block_size=4, base_address=0x1000_0000)
    parts = [PartitionSpec(1, "b", ("b",), 0x1000, 0x1000, device="f0", address=0x1000_1000),
             PartitionSpec(0, "a", ("a",), 0, 0x1000, device="f0", read_only=True)]
    m = build_flash_map(parts, {"f0": d.create()}, chosen={"zephyr,code-partition": None})
    assert [a.id for a in m] == [1, 0]  # map order = given order (FM-25)
    assert m.find("b").address == 0x1000_1000 and m.find("a").read_only
    with pytest.raises(NotFound, match="no open device"):
        build_flash_map([PartitionSpec(0, "x", (), 0, 0x10, device="nope")], {})
    with pytest.warns(PartitionWarning):
        from flashstack.flash_map import check_partitions
        check_partitions([PartitionSpec(0, "x", ("x",), 0x10, 0x100, device="f0")], {"f0": d})


# --- FM-2 bounds rule as a property ---------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from flashstack.flash_map import capi as z  # noqa: E402

_DEV = SimulatedFlash(0x4000, erase_page_size=0x1000, name="prop")
_DEV.write(0x1000, bytes(range(256)) * 16)
_FA = FlashArea(0, 0x1000, 0x1000, _DEV, node_labels=("p",))
_edge = st.sampled_from([-(2**64), -1, 0, 1, 0xFFF, 0x1000, 0x1001, 2**64 - 1])


@settings(max_examples=300, deadline=None)
@given(off=st.one_of(_edge, st.integers(-0x2000, 0x2000)),
       n=st.one_of(_edge, st.integers(-16, 0x1100)))
def test_read_bounds_rule(off, n):
    ok = off >= 0 and n >= 0 and off + n <= _FA.size
    buf = bytearray(max(0, min(n, 0x1100)))
    rc = z.flash_area_read(_FA, off, buf, n)
    if not ok:
        assert rc == -errno.EINVAL
        with pytest.raises(InvalidArgument):
            _FA.read(off, n)
    elif n <= len(buf):
        assert rc == 0 and bytes(buf[:n]) == (bytes(range(256)) * 16)[off:off + n]
        assert _FA.read(off, n) == bytes(buf[:n])
