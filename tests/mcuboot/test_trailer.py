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


@pytest.mark.parametrize("mode,expect", [("swap-move", 14336), ("swap-offset", 14336), ("swap-scratch", 15952)])
def test_max_image_size(mode, expect):
    from flashstack.mcuboot import max_image_size
    dev = SimulatedFlash(0x8400, erase_page_size=0x400, write_block_size=4)
    p, s = FlashArea(1, 0, 0x4000, dev), FlashArea(2, 0x4000, 0x4000, dev)
    sc = FlashArea(3, 0x8000, 0x400, dev)
    assert max_image_size(p, s, sc, cfg=BootConfig(mode=mode, max_img_sectors=32)) == expect


def test_boot_config_rejects_unknown_values():
    for kwargs in ({"mode": "overwrite"}, {"max_align": 4}, {"max_img_sectors": 0}, {"image_index": 16}):
        with pytest.raises(InvalidArgument):
            BootConfig(**kwargs)


@pytest.mark.parametrize("w", [1, 4, 8])
@pytest.mark.parametrize("e", [0xFF, 0x00])
@pytest.mark.parametrize("permanent", [False, True])
@pytest.mark.parametrize("mode", ["clean", "torn"])
def test_every_cut_of_set_pending_leaves_a_safe_state(w, e, permanent, mode):
    """MCB-WRITE-2: whatever the cut, the pair requests nothing, a test, or what was asked —
    never a revert, never a permanent swap that was not asked for."""
    cfg = BootConfig(max_img_sectors=16)
    n_ops = 3 if permanent else 2
    for cut in range(1, n_ops + 1):
        p, s = _areas(w=w, e=e)
        s.device.arm_power_cut(cut, mode=mode, tear="prefix")
        with pytest.raises(PowerLoss):
            set_pending(s, permanent=permanent, cfg=cfg)
        s.device.power_restore()
        got = swap_type_of(p, s, cfg=cfg)
        allowed = {SwapType.NONE, SwapType.TEST} | ({SwapType.PERM} if permanent else set())
        assert got in allowed, (cut, got)
        if cut == 1:
            assert got == SwapType.NONE           # the magic never completed


def test_scratch_smaller_than_a_sector_makes_slots_incompatible():
    from flashstack.mcuboot import max_image_size, predict_boot
    dev = SimulatedFlash(0x8200, erase_page_size=0x200, write_block_size=4)
    p, s = FlashArea(1, 0, 0x4000, dev), FlashArea(2, 0x4000, 0x4000, dev)
    sc = FlashArea(3, 0x8000, 0x200, dev)
    big = SimulatedFlash(0x8400, layout=[(16, 0x400), (16, 0x400), (2, 0x200)], write_block_size=4)
    p2, s2, sc2 = FlashArea(1, 0, 0x4000, big), FlashArea(2, 0x4000, 0x4000, big), FlashArea(3, 0x8000, 0x400, big)
    cfg = BootConfig(mode="swap-scratch", max_img_sectors=32)
    assert max_image_size(p, s, sc, cfg=cfg) > 0
    assert max_image_size(p2, s2, sc2, cfg=cfg) > 0
    sc_small = FlashArea(3, 0x8000, 0x200, big)
    with pytest.raises(InvalidArgument, match="smaller than"):
        max_image_size(p2, s2, sc_small, cfg=cfg)
    pred = predict_boot(p2, s2, sc_small, cfg=cfg)
    assert pred.action == "none" and any("not compatible" in n for n in pred.notes)


def test_swap_offset_image_at_offset_zero_is_a_wrong_upload_address():
    from flashstack.mcuboot import make_image, predict_boot
    dev = SimulatedFlash(0x8400, erase_page_size=0x400, write_block_size=4)
    p, s = FlashArea(1, 0, 0x4000, dev), FlashArea(2, 0x4000, 0x4400, dev)
    cfg = BootConfig(mode="swap-offset", max_img_sectors=32)
    p.write(0, make_image(b"one" * 100, (1, 0, 0, 0)).ljust(0x400, b"\xff"))
    s.write(0, make_image(b"two" * 100, (2, 0, 0, 0)).ljust(0x400, b"\xff"))
    set_pending(s, cfg=cfg)
    pred = predict_boot(p, s, cfg=cfg)
    assert (pred.action, pred.runs, pred.version) == ("none", "primary", "1.0.0+0")
    assert any("wrong upload address" in n for n in pred.notes)
    s2 = FlashArea(2, 0x4000, 0x4400, SimulatedFlash(0x8400, erase_page_size=0x400, write_block_size=4))
    s2.write(0x400, make_image(b"two" * 100, (2, 0, 0, 0)).ljust(0x400, b"\xff"))
    set_pending(s2, cfg=cfg)
    assert predict_boot(p, s2, cfg=cfg).action == "swap"
