"""Trailer layout, magics, write_trailer and the states a power cut leaves (beyond the vectors)."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import InvalidArgument, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.mcuboot import (
    BootConfig,
    Flag,
    Magic,
    SwapType,
    boot_magic,
    detect_max_align,
    read_swap_state,
    set_pending,
    swap_type_of,
    trailer_layout,
    write_trailer,
)


def _areas(w=4, e=0xFF, size=0x4000, page=0x400):
    dev = SimulatedFlash(2 * size, erase_page_size=page, write_block_size=w, erase_value=e)
    return FlashArea(1, 0, size, dev, label="slot0"), FlashArea(2, size, size, dev, label="slot1")


@pytest.mark.parametrize("ma,dist", [(8, (16, 24, 32, 40, 48, 48)), (16, (16, 32, 48, 64, 80, 80)),
                                     (32, (16, 64, 96, 128, 160, 160))])
def test_layout_distances_from_the_end(ma, dist):
    lay = trailer_layout(0x8000, 1, BootConfig(max_align=ma))
    got = tuple(0x8000 - x for x in (lay.magic, lay.image_ok, lay.copy_done, lay.swap_info, lay.swap_size))
    assert got + (lay.info_size,) == dist
    assert lay.magic_write == (0x8000 - max(16, ma), max(16, ma))


def test_swap_offset_layout_and_status_size():
    lay = trailer_layout(0x8000, 4, BootConfig(mode="swap-offset", max_align=8, max_img_sectors=32))
    assert (0x8000 - lay.unprotected_tlv_sizes, 0x8000 - lay.swap_size, lay.info_size) == (48, 56, 56)
    assert lay.status_entries == 64 and lay.status == 0x8000 - 64 * 4 - 56


def test_write_size_above_max_align_refused():
    with pytest.raises(InvalidArgument):
        trailer_layout(0x8000, 16, BootConfig(max_align=8))


@pytest.mark.parametrize("ma", [8, 16, 32])
def test_magic_round_trip(ma):
    assert detect_max_align(b"\xff" * 7 + boot_magic(ma)) == ma
    assert detect_max_align(b"\xff" * 16) is None


@pytest.mark.parametrize("state,slot,expect", [
    ("pending-test", "secondary", SwapType.TEST), ("pending-permanent", "secondary", SwapType.PERM)])
@pytest.mark.parametrize("style", ["bootutil", "imgtool"])
def test_write_trailer_requests(state, slot, expect, style):
    p, s = _areas()
    cfg = BootConfig(max_img_sectors=16)
    write_trailer(s, state, cfg=cfg, style=style, slot=slot)
    assert swap_type_of(p, s, cfg=cfg) == expect
    info = s.read(s.size - 40, 1)[0]
    assert info == ((2 if expect == SwapType.TEST else 3) if style == "bootutil" else 0xFF)


def test_write_trailer_confirmed_primary_and_refusals():
    p, s = _areas(e=0x00)
    cfg = BootConfig(max_img_sectors=16)
    write_trailer(p, "confirmed", cfg=cfg, slot="primary")
    st = read_swap_state(p, cfg=cfg)
    assert (st.magic, st.image_ok, st.swap_type) == (Magic.GOOD, Flag.SET, 1)
    assert p.read(p.size - 40, 1) == b"\x00"            # no swap_info in a primary
    with pytest.raises(InvalidArgument, match="not erased"):
        write_trailer(p, "confirmed", cfg=cfg, slot="primary")
    with pytest.raises(InvalidArgument, match="does not apply"):
        write_trailer(s, "confirmed", cfg=cfg, slot="secondary")
    with pytest.raises(InvalidArgument, match="does not apply"):
        write_trailer(p, "pending-test", cfg=cfg, slot="primary")


@pytest.mark.parametrize("cut,expect", [(1, SwapType.NONE), (2, SwapType.TEST), (3, SwapType.PERM),
                                        (4, SwapType.PERM)])
def test_power_cut_during_set_pending_permanent(cut, expect):
    """A cut after the magic alone leaves a test request; after image_ok, a permanent one."""
    p, s = _areas(w=1)
    cfg = BootConfig(max_img_sectors=16)
    s.device.arm_power_cut(cut)
    if cut <= 3:      # the cut hits the cut-th program operation
        with pytest.raises(PowerLoss):
            set_pending(s, permanent=True, cfg=cfg)
    else:
        set_pending(s, permanent=True, cfg=cfg)
    s.device.power_restore()
    assert swap_type_of(p, s, cfg=cfg) == expect
