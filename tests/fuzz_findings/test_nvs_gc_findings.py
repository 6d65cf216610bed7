"""NVS garbage collection never loses data: reproducers nvs_recovery_gc_overflow.py and
nvs_write_enospc_loses_ids.py, plus a crafted recovery whose copy cannot fit."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import FlashError, InvalidArgument, NoSpace
from flashstack.flash_map import FlashArea
from flashstack.nvs import Ate, NVSStore, mount_copy


def _area(img: bytes, wbs: int, double_writes: bool = True):
    dev = SimulatedFlash(len(img), erase_page_size=1024, write_block_size=wbs,
                         allow_double_writes=double_writes, name="nvs")
    dev.restore(img)
    return dev, FlashArea(0, 0, len(img), dev, label="storage")


@pytest.mark.parametrize("double_writes", [True, False])
def test_write_block_mismatch_refused_before_any_write(finding, double_writes):
    img = finding("nvs_b03_full_sector.bin")   # written with write block 4
    dev, area = _area(img, 8, double_writes)
    with pytest.raises(InvalidArgument, match="8-byte write block"):
        NVSStore(area, 1024, 3).mount()
    with pytest.raises(InvalidArgument):
        mount_copy(area, 1024, 3)
    assert dev.snapshot() == img


def test_failed_write_with_the_right_write_block_loses_nothing(finding):
    img = finding("nvs_b03_full_sector.bin")
    _dev, area = _area(img, 4)
    before = dict(mount_copy(area, 1024, 3).items())
    st = NVSStore(area, 1024, 3)
    st.mount()
    with pytest.raises(NoSpace):
        st.write(0x7A, b"w" * 19)
    assert dict(mount_copy(area, 1024, 3).items()) == before


def test_recovery_image_of_the_campaign_fails_cleanly(finding):
    img = finding("nvs_recovery_gc_loses_ids.bin")
    for strict in (False, True):
        dev, area = _area(img, 8, double_writes=not strict)
        with pytest.raises(FlashError) as exc:
            NVSStore(area, 1024, 3).mount()
        assert exc.value.errno in (22, 28)
        assert dev.snapshot() == img


def _overflowing_recovery_image(E: int = 0xFF) -> bytes:
    """Sector 0 open (no gc_done), sector 1 dirty and closed, sector 2 closed: mount takes
    "erase sector 0, collect sector 1 again"; sector 1 holds 8 ids whose 200-byte values
    overlap (a damaged store), so their copies need 1600 bytes of a 1024-byte sector."""
    S, A = 1024, 8
    img = bytearray([E]) * (3 * S)
    s1 = S
    slot = s1 + S - 2 * A
    for i in range(8):
        img[slot:slot + 8] = Ate(i + 1, 0, 200).pack()
        slot -= A
    img[s1:s1 + 200] = bytes(range(200))
    img[s1 + S - A:s1 + S] = Ate(0xFFFF, slot + A - s1, 0).pack()        # close ATE of sector 1
    s2 = 2 * S
    img[s2 + S - 2 * A:s2 + S - A] = Ate(0xFFFF, 0, 0).pack()            # gc_done
    img[s2 + S - A:s2 + S] = Ate(0xFFFF, S - 2 * A, 0).pack()            # close ATE of sector 2
    return bytes(img)


@pytest.mark.parametrize("double_writes", [True, False])
def test_recovery_gc_that_cannot_fit_leaves_the_image(double_writes):
    img = _overflowing_recovery_image()
    dev, area = _area(img, 4, double_writes)
    with pytest.raises(NoSpace, match="garbage collection of sector 1"):
        NVSStore(area, 1024, 3).mount()
    assert dev.snapshot() == img
    with pytest.raises(NoSpace):     # a reader says the same, on its copy
        mount_copy(area, 1024, 3)


def test_write_whose_gc_cannot_fit_changes_nothing():
    """A write that must close the sector first checks the collection that follows: sector 2
    is the write sector, sector 0 is empty, sector 1 (the next victim) cannot fit."""
    S = 1024
    img = bytearray(_overflowing_recovery_image())
    img[0:S] = b"\xff" * S
    img[2 * S:3 * S] = b"\xff" * S
    dev, area = _area(bytes(img), 4)
    st = NVSStore(area, 1024, 3)
    st.mount()
    for i in range(200):                     # fill sector 2 until the write must close it
        before = dev.snapshot()
        try:
            st.write(0x100 + i % 50, bytes([i]) * 40)
        except NoSpace as exc:
            assert "garbage collection of sector 1" in str(exc)
            break
    else:
        pytest.fail("the store never needed a collection")
    assert dev.snapshot() == before
    assert mount_copy(area, 1024, 3).ids() == st.ids()
