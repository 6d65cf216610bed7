"""Devicetree hardening (docs/flash-map-mapped.md DT-1..DT-5), with the reproducer inputs of
the fuzz findings dt_deep_nesting.py and dt_huge_values.py and the /include/ cases found by
hand: every absurd input is a clear InvalidArgument naming the file (and line), never a
RecursionError, MemoryError, OverflowError, a hang or an unbounded read."""

from __future__ import annotations

import errno
import os
import struct

import pytest

from flashstack.board.devicetree import load_devicetree
from flashstack.board.devicetree.dtb import parse_dtb
from flashstack.board.devicetree.dts import parse_dts_text
from flashstack.errors import InvalidArgument


def dtb_nested(depth: int) -> bytes:
    """The fuzz reproducer: a DTB of ``depth`` nested nodes named ``n``."""
    st = struct.pack(">I", 1) + b"\0\0\0\0"
    st += (struct.pack(">I", 1) + b"n\0\0\0") * depth
    st += struct.pack(">I", 2) * (depth + 1) + struct.pack(">I", 9)
    off_struct = 56
    total = off_struct + len(st)
    return struct.pack(">10I", 0xD00DFEED, total, off_struct, total, 40, 17, 16, 0, 0,
                       len(st)) + bytes(16) + st


def test_deep_dtb_is_refused_with_offset():
    with pytest.raises(InvalidArgument) as e:
        parse_dtb(dtb_nested(1200), source="deep.dtb")
    assert "deep.dtb" in str(e.value) and "nested deeper than 64" in str(e.value)
    assert e.value.errno == errno.EINVAL


def test_moderate_depth_still_parses():
    tree = parse_dtb(dtb_nested(60))
    assert len(list(tree.nodes())) == 61
    deepest = list(tree.nodes())[-1]
    assert deepest.path == "/" + "/".join(["n"] * 60)


def test_deep_dts_is_refused_with_line():
    text = "/dts-v1/;\n/ {\n" + "n {\n" * 1200 + "};\n" * 1200 + "};\n"
    with pytest.raises(InvalidArgument) as e:
        parse_dts_text(text, source="deep.dts")
    assert "deep.dts:66:" in str(e.value)


@pytest.mark.parametrize("expr,words", [
    ("(1 << 0x10000000000)", "shift count"),
    ("(1 << 999999999999999999999991)", "shift count"),
    ("(1 << -1)", "shift count -1"),
    ("048", "invalid value"),
])
def test_cell_arithmetic_errors_name_file_and_line(expr, words):
    with pytest.raises(InvalidArgument) as e:
        parse_dts_text(f"/dts-v1/;\n/ {{ p = <{expr}>; }};\n", source="cells.dts")
    assert "cells.dts:2" in str(e.value) and words in str(e.value)


HUGE = """/dts-v1/;
/ { #address-cells = <1>; #size-cells = <1>;
  fc@4001e000 { reg = <0x4001e000 0x1000>; #address-cells = <1>; #size-cells = <1>;
    flash0: flash@0 { compatible = "soc-nv-flash"; reg = <0x0 SIZE>; erase-block-size = <EBS>;
      partitions { compatible = "fixed-partitions"; #address-cells = <1>; #size-cells = <1>;
        storage_partition: partition@0 { reg = <0x0 0x2000>; }; }; }; }; };
"""


def test_two_gib_of_one_byte_pages_is_refused(tmp_path):
    p = tmp_path / "huge.dts"
    p.write_text(HUGE.replace("SIZE", "0x80000000").replace("EBS", "1"))
    with pytest.raises(InvalidArgument) as e:
        load_devicetree(p)
    assert str(p) in str(e.value) and "erase pages" in str(e.value)


def test_four_gib_of_4k_pages_loads_as_a_description(tmp_path):
    """4 GiB in 4 KiB pages is 1 Mi pages: the description loads (opening it is the device
    layer's business)."""
    p = tmp_path / "big.dts"
    p.write_text(HUGE.replace("SIZE", "0xfffff000").replace("EBS", "4096"))
    info = load_devicetree(p)
    assert info.devices[0].size == 0xFFFFF000


def include_tree(tmp_path, target: str):
    p = tmp_path / "inc.dts"
    p.write_text(f'/dts-v1/;\n/include/ "{target}"\n/ {{ }};\n')
    return p


def test_include_of_dev_zero_is_refused(tmp_path):
    with pytest.raises(InvalidArgument) as e:
        load_devicetree(include_tree(tmp_path, "/dev/zero"))
    assert "inc.dts:2" in str(e.value) and "not a regular file" in str(e.value)


def test_incbin_of_dev_zero_is_refused(tmp_path):
    p = tmp_path / "bin.dts"
    p.write_text('/dts-v1/;\n/ { blob = /incbin/("/dev/zero"); };\n')
    with pytest.raises(InvalidArgument, match="not a regular file"):
        load_devicetree(p)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_include_of_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.dtsi"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgument, match="not a regular file"):
        load_devicetree(include_tree(tmp_path, "pipe.dtsi"))


def test_self_include_is_one_clear_line(tmp_path):
    p = include_tree(tmp_path, "inc.dts")
    with pytest.raises(InvalidArgument) as e:
        load_devicetree(p)
    msg = str(e.value)
    assert "includes itself" in msg and "inc.dts:2" in msg and "\n" not in msg


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("tool", ["cpp", "pcpp"])
def test_cpp_include_of_device_or_fifo_is_refused(tmp_path, tool):
    fifo = tmp_path / "pipe.h"
    os.mkfifo(fifo)
    for target in ("/dev/zero", "pipe.h"):
        p = tmp_path / "raw.dts"
        p.write_text(f'/dts-v1/;\n#include "{target}"\n/ {{ }};\n')
        with pytest.raises(InvalidArgument) as e:
            load_devicetree(p, preprocess_tool=tool)
        assert "raw.dts:2" in str(e.value) and "not a regular file" in str(e.value)
