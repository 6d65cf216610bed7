"""NVS recovery on 0x00-erased flash (NVS-2) and the [fs] recovery rules found by the torture
campaigns (see flashstack.nvs): N1, a CRC-valid window inside data written without its ATE
(a value's tail plus erased 0x00 bytes) is never taken for an ATE, neither below the erased gap
under the written ATEs nor in an interrupted GC's first copy; a delete written at the data end
of a full sector survives a torn close ATE. Also pins N2, the format's CRC-8 limit on a torn
ATE."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.nvs import Ate, NVSStore, crc8_ccitt
from flashstack.torture import Campaign, replay
from flashstack.torture.target import PartitionGeometry
from flashstack.torture.targets.nvs import NVSTarget

N1 = dict(workload="hotkey", ops=300, seed=1, gc_check=0.1)


def zero_target(size=4096, wb=4) -> NVSTarget:
    return NVSTarget(geometry=PartitionGeometry.uniform(size, 1024, write_block_size=wb, erase_value=0))


def area_of(image: bytes, wb=4, erase_value=0) -> FlashArea:
    dev = SimulatedFlash(len(image), erase_page_size=1024, write_block_size=wb,
                         erase_value=erase_value)
    dev.restore(image)
    return FlashArea(0, 0, len(image), dev, label="storage")


def test_n1_clean_cut_between_data_and_ate_mounts_on_zero_erased_flash():
    # flashstack torture replay nvs --geometry 4096:1024:4:0x00 --workload hotkey --ops 300
    #   --seed 1 --cut 6 --tear clean: the second write of id 1 lost its ATE; its value ends
    #   `6c f0` at 0x70 followed by erased 0x00 bytes, a CRC-valid ATE (offset 0, len 0).
    r = replay(Campaign(zero_target(), **N1), 6, "clean")
    assert r.cut_at == ("write", 0x3e0, 8)          # the ATE of the second write never landed
    window = Ate.unpack(r.image_cut[0x70:0x78])
    assert window == Ate(0xf06c, 0, 0, 0, 0) and window.crc8 == crc8_ccitt(r.image_cut[0x70:0x77])
    assert r.ok, r.violations

    st = NVSStore(area_of(r.image_cut))
    st.geo = st._resolve_geometry()
    assert st.recover_last(0) == 0x3e8               # the first write's ATE, not the window
    st.mount()
    assert (st.ate_wra, st.data_wra) == (0x3e0, 0x74)   # orphan data skipped (step 5)
    assert st.orphan_data == [(0x38, 0x74)]
    assert st.ids() == [1] and len(st.read(1)) == 56
    assert st.index.history(0xf06c) == []
    st.write(2, b"next")                            # lands after the orphan data, remounts
    again = NVSStore(st.area)
    again.mount()
    assert again.read(2) == b"next" and again.read(1) == st.read(1)


def test_n1_window_below_the_ate_gap_of_a_closed_sector_is_not_an_ate():
    # A closed sector whose close ATE is torn is walked through recover_last: orphan data
    # below the written ATEs ends in a CRC-valid window; the walk must not visit it.
    dev = SimulatedFlash(3072, erase_page_size=1024, write_block_size=4, erase_value=0)
    area = FlashArea(0, 0, 3072, dev, label="storage")
    st = NVSStore(area)
    st.mount()
    st.write(1, b"A" * 40)
    fake = Ate(0x0302, 0x10, 0, 0)                  # orphan value bytes that parse as an ATE
    dev.write(0x28, b"Z" * 24 + fake.pack() + b"Z" * 8)   # a 40-byte value, its ATE lost
    dev.write(1016, b"\xff\xff\x01\x00")            # torn close ATE of sector 0 (4 bytes)
    assert Ate.unpack(dev.read(0x40, 8)).crc_ok
    assert st.recover_last(0) == 1000               # id 1's ATE; the window at 0x40 ignored
    st2 = NVSStore(area)
    st2.mount()                                     # write sector 1 (sector 0 counts closed)
    assert [a for a, _ in st2.walk()][-2:] == [1000, 1008]
    assert st2.read(1) == b"A" * 40 and st2.index.history(0x0302) == []


def test_n1_leading_erased_slots_are_still_skipped():
    # Zephyr test_nvs_gc_corrupt_close_ate (vector e03) on 0x00 flash: erased slots F..-5,
    # a valid ATE at slot -6; the scan still finds it.
    dev = SimulatedFlash(3072, erase_page_size=1024, write_block_size=4, erase_value=0)
    area = FlashArea(0, 0, 3072, dev, label="storage")
    dev.write(976, Ate(1, 0, 4).pack())
    dev.write(0, b"\x55\xaa\x55\xaa")
    st = NVSStore(area)
    st.geo = st._resolve_geometry()
    assert st.recover_last(0) == 976


def crc8_collision(r) -> bool:
    """The cut ATE program left bytes whose CRC-8 matches (N2), not what NVS wrote."""
    kind, off, n = r.cut_at
    torn = Ate.unpack(r.image_cut[off:off + 8])
    return kind == "write" and n == 8 and torn.crc_ok and torn.part != 0xFF


def test_n1_campaign_slice_zero_erased_flash_has_no_failures_but_crc8_collisions():
    # The cuts around the first writes of the N1 reproducer, every tear mode.
    t = zero_target()
    collisions = 0
    for cut in range(1, 40):
        for tear in ("clean", "prefix", "bits"):
            r = replay(Campaign(t, **N1), cut, tear)
            if not r.ok:
                assert tear == "bits" and crc8_collision(r), (cut, tear, r.violations)
                collisions += 1
    assert collisions <= 1                          # cut 39 (bits): see the N2 test below


def test_n2_bit_torn_ate_with_matching_crc8_is_accepted_format_limit():
    # N2 (format limit, like KV's K2b): an ATE is protected by 8 CRC bits only. A bit-torn
    # ATE program whose partial bytes happen to match their CRC-8 is indistinguishable from
    # one NVS wrote: flashstack accepts it as the reference does.
    # flashstack torture replay nvs --geometry 3072:1024:8:0x00 --workload mixed --ops 300
    #   --seed 8 --cut 684 --tear bits --gc-check 0.1  -> torn `00 00 90 00 04 00 bb 62`
    t = zero_target(size=3072, wb=8)
    r = replay(Campaign(t, workload="mixed", ops=300, seed=8, gc_check=0.1), 684, "bits")
    kind, off, n = r.cut_at
    torn = Ate.unpack(r.image_cut[off:off + 8])
    assert kind == "write" and n == 8 and torn.crc_ok and torn.part != 0xFF   # not as written
    st = NVSStore(area_of(r.image_cut, wb=8))
    st.mount()
    assert st.index.newest(torn.id)[0] == off        # accepted as the newest entry of its id
    from flashstack.torture.limits import FORMAT_LIMIT_NOTE   # reported, as a format limit (issue 11)
    assert r.violations == [] and FORMAT_LIMIT_NOTE in r.notes


def test_n1_interrupted_gc_whose_first_copy_lost_its_ate_mounts():
    # GC into sector 0 (victim sector 1) cut just before the first copy's ATE at slot F: sector
    # 0 holds copied data only. The value's tail plus erased 0x00 bytes is a CRC-valid window
    # at 0x38; the reference's recover_last takes it and its step 3 walks below sector 0
    # (EINVAL on every mount). flashstack skips the scan when slot F is erased and the next
    # sector is dirty: step 4 erases sector 0 and collects sector 1 again.
    import random

    from flashstack.errors import PowerLoss
    tail = next(bytes([a, b]) for a in range(1, 256) for b in range(1, 256)
                if crc8_ccitt(bytes([a, b]) + bytes(5)) == 0)
    rng = random.Random(3)
    value = bytes(rng.randrange(1, 256) for _ in range(56)) + tail
    dev = SimulatedFlash(3072, erase_page_size=1024, write_block_size=4, erase_value=0)
    area = FlashArea(0, 0, 3072, dev, label="storage")
    st = NVSStore(area)
    st.mount()
    st.use_next_sector()
    st.write(5, value)                              # in sector 1
    st.use_next_sector()                            # write sector 2
    dev.arm_power_cut(after=5)                      # close, 32 + 24 + 4 data bytes, then ATE
    try:
        st.use_next_sector()
    except PowerLoss:
        pass
    dev.power_restore()
    img = dev.snapshot()
    assert img[0:58] == value and img[1008:1016] == bytes(8)   # copy landed, its ATE did not
    assert Ate.unpack(img[0x38:0x40]).crc_ok
    again = NVSStore(area)
    again.mount()
    assert again.read(5) == value
    assert again.mount_notes == ["interrupted GC without gc_done: erase sector 0, collect "
                                 "sector 1 again"]
    assert (again.ate_wra, again.data_wra) == (0x3e0, 0x3c)


def test_torn_close_of_a_sector_ending_in_a_delete_at_the_data_end_keeps_the_delete():
    # flashstack torture replay nvs --geometry 3072:1024:8 --workload fill --ops 60 --seed 0
    #   --cut 853 --tear prefix: sector 1 was full (data up to 912, gc_done at 920 with offset
    #   912), then `delete 28` went to slot 912 itself. Closing sector 1 is cut after 6 bytes:
    #   the close ATE is corrupt, so walks and GC find sector 1's last ATE with recover_last.
    #   The reference's scan stops above slot 912 (= the data end) and misses the delete: the
    #   next GC resurrects id 28. flashstack examines that slot too. Any erase value.
    from flashstack.errors import NotFound
    for erase_value in (0xFF, 0x00):
        g = PartitionGeometry.uniform(3072, 1024, write_block_size=8, erase_value=erase_value)
        r = replay(Campaign(NVSTarget(geometry=g), workload="fill", ops=60, seed=0,
                            gc_check=0.2), 853, "prefix")
        assert r.cut_at == ("write", 2040, 8)
        assert r.image_cut[2040:2046] == bytes.fromhex("ffff90030000")   # torn close ATE
        assert Ate.unpack(r.image_cut[0x790:0x798]) == Ate(28, 912, 0, 0xFF, 100)
        assert r.ok, r.violations
        st = NVSStore(area_of(r.image_cut, wb=8, erase_value=erase_value))
        st.geo = st._resolve_geometry()
        assert st.recover_last(1) == 0x790
        st.mount()
        with pytest.raises(NotFound):
            st.read(28)
