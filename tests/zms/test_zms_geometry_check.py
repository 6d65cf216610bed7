"""ZMS-42: mount compares the geometry it is given with what the bytes say (issue 11): a
store opened with another sector size, ATE slot size or write block fails with EINVAL naming
both values, before anything is written (the image keeps its hash); the right geometry
mounts and serves every id."""

from __future__ import annotations

import hashlib
import random

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import InvalidArgument
from flashstack.flash_map import FlashArea
from flashstack.zms import ZMSStore
from flashstack.zms.format import header_offsets
from flashstack.zms.scan import detect_zms

SIZE, PAGE, IDS = 0x8000, 0x800, 24


def written(sector: int, wbs: int, writes: int = 600) -> bytes:
    """The image of a ZMS store of ``sector``-byte sectors written with write block ``wbs``:
    values of 9..40 bytes (external, most lengths not multiples of 8), the ring wrapped."""
    dev, area = opened(None, wbs)
    st = ZMSStore(area, sector)
    st.mount()
    rng = random.Random(sector + wbs)
    for k in range(writes):
        st.write(k % IDS, rng.randbytes(9 + k % 32))
    return dev.snapshot()


def opened(img: bytes | None, wbs: int) -> tuple[SimulatedFlash, FlashArea]:
    dev = SimulatedFlash(SIZE, erase_page_size=PAGE, write_block_size=wbs)
    if img is not None:
        dev.restore(img)
    return dev, FlashArea(0, 0, SIZE, dev, label="storage")


def digest(dev: SimulatedFlash) -> str:
    return hashlib.sha256(dev.snapshot()).hexdigest()


def refused(img: bytes, wbs: int, sector: int) -> InvalidArgument:
    dev, area = opened(img, wbs)
    before = digest(dev)
    writes = dev.stats.flash_write_calls + dev.stats.flash_erase_calls
    with pytest.raises(InvalidArgument) as e:
        ZMSStore(area, sector).mount()
    assert e.value.errno == 22
    assert digest(dev) == before
    assert dev.stats.flash_write_calls + dev.stats.flash_erase_calls == writes
    return e.value


@pytest.fixture(scope="module")
def image() -> bytes:
    return written(0x1000, 4)


def test_the_image_wraps_and_mounts_with_its_geometry(image):
    assert len(header_offsets(image, False)) == SIZE // 0x1000
    dev, area = opened(image, 4)
    st = ZMSStore(area, 0x1000)
    st.mount()
    assert st.ids() == list(range(IDS))


@pytest.mark.parametrize("wrong", [0x800, 0x2000, 0x1800])
def test_other_sector_size_refused_naming_both(image, wrong):
    msg = str(refused(image, 4, wrong))
    assert f"sector size {wrong:#x}" in msg and "sector size 0x1000" in msg
    assert "nothing written" in msg


def test_larger_write_block_refused_naming_both(image):
    msg = str(refused(image, 8, 0x1000))
    assert "8-byte write block" in msg and "4-byte write block" in msg


def test_other_ate_slot_size_refused_naming_both(image):
    msg = str(refused(image, 32, 0x1000))      # write block 32: 32-byte ATE slots
    assert "32-byte ATE slots" in msg and "16-byte ATE slots" in msg


def test_written_with_32_byte_slots_refused_with_16():
    img = written(0x1000, 32, writes=300)
    msg = str(refused(img, 16, 0x1000))
    assert "16-byte ATE slots" in msg and "32-byte ATE slots" in msg


def test_young_store_is_checked_too():
    img = written(0x1000, 4, writes=140)
    assert 2 <= len(header_offsets(img, False)) < SIZE // 0x1000     # the ring not yet wrapped
    msg = str(refused(img, 4, 0x800))
    assert "sector size 0x800" in msg and "sector size 0x1000" in msg


def test_detect_agrees_with_the_check(image):
    dev, area = opened(image, 4)
    found = detect_zms(area)
    assert found is not None and found.sector_size == 0x1000


def test_fresh_store_and_single_header_pass():
    dev, area = opened(None, 4)
    st = ZMSStore(area, 0x1000)
    st.mount()                                  # erased area: no header to contradict
    st.write(1, b"x" * 20)
    st2 = ZMSStore(opened(dev.snapshot(), 4)[1], 0x800)
    st2.mount()                                 # one header is no evidence: mounts
