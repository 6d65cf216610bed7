"""dt_huge_values.py, device part: a devicetree declaring a huge flash opens without
materialising it, and one whose page table would be absurd fails with a clear error."""

from __future__ import annotations

import tracemalloc

import pytest

from flashstack.board import load_board
from flashstack.errors import InvalidArgument

HUGE = """/dts-v1/;
/ { #address-cells = <1>; #size-cells = <1>;
  fc@4001e000 { reg = <0x4001e000 0x1000>; #address-cells = <1>; #size-cells = <1>;
    flash0: flash@0 { compatible = "soc-nv-flash"; reg = <0x0 SIZE>; erase-block-size = <EBS>;
      partitions { compatible = "fixed-partitions"; #address-cells = <1>; #size-cells = <1>;
        storage_partition: partition@0 { reg = <0x0 0x2000>; }; }; }; }; };
"""


def _dts(tmp_path, size: str, ebs: str):
    p = tmp_path / "huge.dts"
    p.write_text(HUGE.replace("SIZE", size).replace("EBS", ebs))
    return p


def test_a_4_gib_flash_opens_within_a_few_mib(tmp_path):
    board = load_board(_dts(tmp_path, "0xfffff000", "4096"))
    assert board.devices[0].size == 0xFFFFF000
    tracemalloc.start()
    try:
        with board.open(images=None) as ob:
            area = ob.flash_map.find("storage_partition")
            area.write(0, b"abc")
            assert area.read(0, 4) == b"abc\xff"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"opening a 4 GiB flash peaked at {peak} bytes"


def test_a_page_table_of_2_giga_pages_is_refused(tmp_path):
    with pytest.raises(InvalidArgument, match=r"erase pages.*at most"):
        load_board(_dts(tmp_path, "0x80000000", "1"))
