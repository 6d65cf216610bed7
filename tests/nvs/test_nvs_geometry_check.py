"""Mount compares the geometry it is given with what the bytes say (issue 11): a store opened
with another sector size, ATE slot size or write block fails with EINVAL naming both values,
before anything is written; the bulk slot checks answer as the slot-by-slot ones."""

from __future__ import annotations

import random

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import InvalidArgument
from flashstack.flash_map import FlashArea
from flashstack.nvs import Ate, NVSStore
from flashstack.nvs._bulk import SlotFlags, close_count, slot_flags
from flashstack.nvs.format import Geometry

SIZE, PAGE = 0x10000, 0x800


def written(sector: int, wbs: int, writes: int = 3000) -> bytes:
    """The image of a store of ``sector``-byte sectors written with write block ``wbs``, its
    ring wrapped several times (most sectors closed)."""
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=wbs)
    st = NVSStore(FlashArea(0, 0, SIZE, dev, label="storage"), sector)
    st.mount()
    rng = random.Random(sector + wbs)
    for k in range(writes):
        st.write(k % 40, rng.randbytes(12 + 4 * (k % 5)))
    return dev.snapshot()


def opened(img: bytes, wbs: int) -> tuple[SimulatedFlash, FlashArea]:
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=wbs)
    dev.restore(img)
    return dev, FlashArea(0, 0, SIZE, dev, label="storage")


@pytest.mark.parametrize("wrong", [0x800, 0x2000])
def test_other_sector_size_refused_naming_both(wrong):
    img = written(0x1000, 4)
    dev, area = opened(img, 4)
    with pytest.raises(InvalidArgument) as e:
        NVSStore(area, wrong).mount()
    assert e.value.errno == 22
    assert f"sector size {wrong:#x}" in str(e.value) and "sector size 0x1000" in str(e.value)
    assert dev.snapshot() == img
    st = NVSStore(area, 0x1000)            # the right geometry mounts and serves every id
    st.mount()
    assert st.ids() == list(range(40))


def test_smaller_write_block_refused_naming_both():
    img = written(0x1000, 4)
    dev, area = opened(img, 8)
    with pytest.raises(InvalidArgument, match="8-byte write block.*4-byte write block"):
        NVSStore(area, 0x1000).mount()
    assert dev.snapshot() == img


def test_other_ate_slot_size_refused_naming_both():
    img = written(0x1000, 16)          # 16-byte ATE slots
    dev, area = opened(img, 4)
    with pytest.raises(InvalidArgument, match="8-byte ATE slots.*16-byte ATE slots"):
        NVSStore(area, 0x1000).mount()
    assert dev.snapshot() == img


def test_close_count_reads_the_geometry_written():
    img = written(0x1000, 4)
    right = close_count(img, 0x1000, 8)
    assert right >= 8
    assert close_count(img, 0x800, 8) == 0
    assert close_count(img, 0x2000, 8) <= right // 2 + 1


@pytest.mark.parametrize("seed", range(6))
def test_bulk_flags_equal_the_slot_by_slot_checks(seed):
    rng = random.Random(seed)
    S, L = 0x1000, 0x1000 - 8
    geo = Geometry(S, 4, 4, 0xFF, 0)
    slots = []
    for _ in range(2000):
        kind = rng.randrange(4)
        if kind == 0:
            slots.append(rng.randbytes(8))                       # garbage
        elif kind == 1:
            slots.append(b"\xff" * 8)                            # erased
        else:                                                    # CRC-valid, maybe out of range
            off = rng.randrange(0, 0x1100)
            slots.append(Ate(rng.choice([rng.randrange(0x10000), 0xFFFF]), off,
                             rng.choice([0, rng.randrange(0, 0x200)])).pack())
    slab = b"".join(slots)
    f = slot_flags(slab, L)
    for j, raw in enumerate(slots):
        a = Ate.unpack(raw)
        lane = 1 << (8 * j)
        assert bool(f.crc_ok & lane) == a.crc_ok
        assert bool(f.valid & lane) == geo.valid(a)
        assert bool(f.data & lane) == (geo.valid(a) and a.len > 0 and a.id != 0xFFFF)
    assert SlotFlags.count(f.valid, f.n) == sum(geo.valid(Ate.unpack(r)) for r in slots)
