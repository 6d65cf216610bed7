"""Declared sizes cost memory only where written (fuzz finding dt_huge_values.py, device part):
large in-memory devices keep a sparse image, page layouts are kept as runs, and declared
geometry beyond the caps is a clear InvalidArgument."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashstack.device import SimulatedFlash
from flashstack.device.backing import SparseImage
from flashstack.device.base import MAX_PAGE_COUNT, PageLayout
from flashstack.errors import InvalidArgument

SIZE = 5 * SparseImage.CHUNK + 123

ops = st.lists(st.tuples(st.integers(0, SIZE), st.integers(0, 3 * SparseImage.CHUNK),
                         st.sampled_from([0x00, 0x5A, 0xFF])), max_size=12)


@settings(max_examples=80, deadline=None)
@given(ev=st.sampled_from([0x00, 0xFF]), writes=ops)
def test_sparse_image_reads_like_a_bytearray(ev, writes):
    ref = bytearray([ev]) * SIZE
    img = SparseImage(SIZE, ev)
    for off, n, value in writes:
        n = min(n, SIZE - off)
        ref[off:off + n] = bytes([value]) * n
        img[off:off + n] = bytes([value]) * n
        assert img[off:off + n] == ref[off:off + n]
        if n:
            assert img[off] == ref[off]
    assert bytes(img) == bytes(ref)
    img.erase(0, SIZE)
    assert img.resident_bytes == 0 and bytes(img) == bytes([ev]) * SIZE


def test_a_one_gib_device_costs_what_is_written():
    tracemalloc.start()
    try:
        dev = SimulatedFlash(1 << 30, erase_page_size=4096, name="big")
        dev.write(0x3FFF0000, b"\x12\x34")
        dev.write(0x3FFF0002, b"\x56\x78")
        assert dev.read(0x3FFF0000, 4) == b"\x12\x34\x56\x78"
        assert dev.read(0, 8) == b"\xff" * 8
        dev.erase(0x3FFF0000, 4096)
        assert dev.read(0x3FFF0000, 2) == b"\xff\xff"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"peak {peak} bytes for a 1 GiB device"
    assert dev._buf.resident_bytes == 0


def test_declared_page_count_is_capped():
    with pytest.raises(InvalidArgument, match="erase pages; at most"):
        PageLayout([(MAX_PAGE_COUNT + 1, 16)])
    with pytest.raises(InvalidArgument, match="erase pages"):
        SimulatedFlash(1 << 31, erase_page_size=1)


def test_run_layout_answers_like_pages():
    lay = PageLayout([(4, 0x4000), (1, 0x10000), (7, 0x20000)])
    assert lay.page_count == 12 and lay.size == 4 * 0x4000 + 0x10000 + 7 * 0x20000
    pages = list(lay.pages())
    assert [p.index for p in pages] == list(range(12))
    for p in pages:
        assert lay.by_index(p.index) == p == lay.by_offset(p.start_offset + p.size - 1)
        assert lay.is_boundary(p.start_offset) and not lay.is_boundary(p.start_offset + 1)
    assert list(lay.pages(0x10000, 0x30000)) == pages[4:6]
