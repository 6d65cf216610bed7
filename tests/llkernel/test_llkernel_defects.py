"""One regression test per reference defect of spec §18 (KERNEL-FLASH 1.0.3). Each asserts
flashstack's behaviour at the point where the reference's behaviour (quoted in the docstring)
would make the assertion fail."""

from __future__ import annotations

import pytest

from flashstack.device import Endurance, SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.llkernel import LLKERNEL_ERROR, LLKERNEL_OK, FeatureStore, REMOVED_MAGIC, USED_MAGIC
from flashstack.llkernel import capi as L

SUB = 4096
KF = 0x90000000
RAM = 0x20000000


def recorder(dev):
    """Log every program ('P', off, len) and erase ('E', off, len) the device receives."""
    ops = []
    write, erase = dev.write, dev.erase

    def w(off, data):
        ops.append(("P", off, len(data)))
        write(off, data)

    def e(off, n):
        ops.append(("E", off, n))
        erase(off, n)

    dev.write, dev.erase = w, e
    return ops


def status(dev, off):
    return int.from_bytes(dev.read(off, 4), "little")


def test_llkernel_defect_01_exactly_n_slots(region):
    """Reference: walks on while slot + slot_size < kf_end: 10 subsectors and N = 4 give a 5th slot."""
    dev, area, s = region(10 * SUB, max_features=4)
    assert s.slot_size == 2 * SUB
    handles = [s.allocate_feature(100, 16) for _ in range(4)]
    assert handles == [KF + i * 2 * SUB for i in range(4)]
    assert s.allocate_feature(100, 16) is None
    assert dev.read(8 * SUB, 2 * SUB) == b"\xff" * 2 * SUB  # the leftover stays unused


def test_llkernel_defect_02_rom_size_check(region):
    """Reference: rejects only slot_size < size_ROM + 4, so size_ROM = slot_size - 8 erases the
    next slot's first subsector; negative sizes wrap the check."""
    dev, area, s = region(0x10000, max_features=4)
    slot = s.slot_size
    a = s.allocate_feature(16, 16)
    b = s.allocate_feature(16, 16)
    s.free_feature(a)
    for bad in (slot - 31, slot - 8, slot - 4, -1, -16, -(1 << 31)):
        assert s.allocate_feature(bad, 0) is None, bad
    assert status(dev, b - KF) == USED_MAGIC and s.allocated_features_count() == 1
    assert s.allocate_feature(slot - 32, 0) == a  # exact fit still accepted


def test_llkernel_defect_03_ram_end_from_all_live_features(region):
    """Reference: the RAM end comes from the Feature in the highest slot: A, B, free A, C, D gives
    D the same RAM as C."""
    dev, area, s = region(0x10000, max_features=4)
    a = s.allocate_feature(64, 256)
    b = s.allocate_feature(64, 256)
    s.free_feature(a)
    c = s.allocate_feature(64, 256)
    d = s.allocate_feature(64, 256)
    assert c == a
    ram = {h: s.feature_address_ram(h) for h in (b, c, d)}
    assert ram[c] == ram[b] + 512 and ram[d] == ram[c] + 512
    assert len(set(ram.values())) == 3


def test_llkernel_defect_04_first_fit_uses_true_align_up(region):
    """Reference: align_next always adds the alignment, so in a 512-byte buffer a second 256-byte
    area after one ending at +256 is refused (next start = +512 = buffer end)."""
    dev, area, s = region(0x10000, max_features=4, ram_size=512)
    a = s.allocate_feature(16, 256)
    b = s.allocate_feature(16, 256)
    assert s.feature_address_ram(a) == RAM
    assert b is not None and s.feature_address_ram(b) == RAM + 256


def test_llkernel_defect_05_ram_area_inside_buffer(region):
    """Reference: only the RAM start is checked, so a 512-byte area may start at +768 of a 1024-byte
    buffer and run 256 bytes past its end."""
    dev, area, s = region(0x10000, max_features=4, ram_size=1024)
    s.allocate_feature(16, 600)
    assert s.allocate_feature(16, 512) is None
    c = s.allocate_feature(16, 256)
    assert s.feature_address_ram(c) == RAM + 768  # 768 + 256 = end of the buffer exactly


def test_llkernel_defect_06_no_removed_slot_ram_reuse(region):
    """Reference 1.0.0/1.0.1: the REMOVED-slot reuse branch took the erased ram_address 0xFFFFFFFF
    (install error 54)."""
    dev, area, s = region(0x10000, max_features=4)
    a = s.allocate_feature(64, 100)
    b = s.allocate_feature(64, 100)
    s.free_feature(a)
    c = s.allocate_feature(64, 100)
    ram = s.feature_address_ram(c)
    assert c == a and ram != 0xFFFFFFFF and ram % 256 == 0
    assert RAM <= ram and ram + 100 <= RAM + 102400
    assert not (ram < s.feature_address_ram(b) + 100 and s.feature_address_ram(b) < ram + 100)


def test_llkernel_defect_07_boot_scan_visits_all_slots(region):
    """Reference: the boot scan stops at the first never-used (here: freshly erased) slot and hides
    every Feature after it."""
    dev, area, s = region(0x10000, max_features=4)
    hs = [s.allocate_feature(64, 16) for _ in range(3)]
    dev.erase(hs[1] - KF, SUB)  # as a power cut between free's erase and its status program
    s2 = FeatureStore(area, max_features=4, ram_base=RAM)
    assert s2.allocated_features_count() == 2
    assert [s2.feature_handle(0), s2.feature_handle(1)] == [hs[0], hs[2]]


def test_llkernel_defect_08_no_renumbering_rewrites(region):
    """Reference: a boot (or allocation) after a lower free erases and rewrites the headers of the
    Features above to renumber them; a cut there loses SUB - 32 ROM bytes."""
    dev, area, s = region(0x10000, max_features=4)
    hs = [s.install(bytes([i]) * 500, 16).handle for i in range(3)]
    s.free_feature(hs[0])
    dev.stats.reset()
    s2 = FeatureStore(area, max_features=4, ram_base=RAM)
    assert s2.allocated_features_count() == 2
    assert dev.stats.flash_write_calls == 0 and dev.stats.flash_erase_calls == 0
    assert [f.feature_index for f in s2.features()] == [1, 2]  # stored values, never rewritten
    assert [f.index for f in s2.features()] == [0, 1]


def test_llkernel_defect_09_handles_from_current_list(region):
    """Reference: getFeatureHandle searches stored indices with the cached count, so right after a
    lower free (no rescan) index 0 does not give the lowest remaining Feature."""
    dev, area, s = region(0x10000, max_features=4)
    hs = [s.allocate_feature(64, 16) for _ in range(3)]
    s.free_feature(hs[0])
    assert [s.feature_handle(i) for i in range(3)] == [hs[1], hs[2], None]
    assert L.LLKERNEL_IMPL_getFeatureHandle(2, store=s) == 0


def test_llkernel_defect_10_addresses_only_for_slot_starts(region):
    """Reference: getFeatureAddressROM/RAM dereference any handle (handle 0 reads address 0)."""
    dev, area, s = region(0x10000, max_features=4)
    h = s.allocate_feature(64, 16)
    for bad in (0, h + 32, h + 1, KF - 0x4000, KF + 0x10000, 0xFFFFFFFF):
        assert s.feature_address_rom(bad) is None and s.feature_address_ram(bad) is None
        assert L.LLKERNEL_IMPL_getFeatureAddressROM(bad, store=s) is None
    assert s.feature_address_rom(h) == h + 32


def test_llkernel_defect_11_copy_bounds(region):
    """Reference: a copy whose last byte is the slot's last byte is rejected (off by one), and a
    copy into a never-allocated slot or over the header is accepted."""
    dev, area, s = region(0x10000, max_features=4)
    h = s.allocate_feature(s.slot_size - 32, 0)
    data = bytes(range(256)) * (s.slot_size // 256)
    assert s.copy_to_rom(h + 32, data[:s.slot_size - 32]) == LLKERNEL_OK
    assert s.flush_copy_to_rom() == LLKERNEL_OK
    assert dev.read(32, s.slot_size - 32) == data[:s.slot_size - 32]
    assert s.copy_to_rom(h, b"\x00" * 16) == LLKERNEL_ERROR                # the header
    assert s.copy_to_rom(KF + s.slot_size + 32, b"\x00" * 16) == LLKERNEL_ERROR  # never allocated
    assert status(dev, 0) == USED_MAGIC and dev.read(s.slot_size, 64) == b"\xff" * 64


def test_llkernel_defect_12_gaps_and_tails_are_ff(region):
    """Reference: forward gaps and the tail of a partial page hold stale page-buffer bytes (here the
    zeros of the previous Feature's content)."""
    dev, area, s = region(0x10000, max_features=4)
    s.install(b"\x00" * 1000, 16)
    h = s.allocate_feature(200, 16)
    rom = h + 32
    assert s.copy_to_rom(rom, b"\x11" * 16) == LLKERNEL_OK
    assert s.copy_to_rom(rom + 64, b"\x22" * 16) == LLKERNEL_OK
    assert s.flush_copy_to_rom() == LLKERNEL_OK
    page = dev.read(h - KF, 256)
    assert page[32:48] == b"\x11" * 16 and page[96:112] == b"\x22" * 16
    assert page[48:96] == b"\xff" * 48 and page[112:] == b"\xff" * 144


def test_llkernel_defect_13_pending_page_cleared(region):
    """Reference 1.0.2/1.0.3: after a multi-page copy ending on a page boundary the old pending page
    stays set, so the next copy re-programs page S over the header (status became 0x080065E0)."""
    dev, area, s = region(0x10000, max_features=4)
    S = s.allocate_feature(1000, 16)
    header = dev.read(S - KF, 32)
    a, b, c = bytes(range(100)), bytes((i * 7) & 0xFF for i in range(380)), b"\xa5" * 10
    ops = recorder(dev)
    assert s.copy_to_rom(S + 32, a) == LLKERNEL_OK
    assert s.copy_to_rom(S + 132, b) == LLKERNEL_OK
    assert s.copy_to_rom(S + 512, c) == LLKERNEL_OK
    assert s.flush_copy_to_rom() == LLKERNEL_OK
    o = S - KF
    assert ops == [("P", o + 32, 224), ("P", o + 256, 256), ("P", o + 512, 256)]
    assert dev.read(o, 32) == header
    assert dev.read(o + 32, 490) == a + b + c
    assert dev.read(o + 522, 246) == b"\xff" * 246


def test_llkernel_defect_14_allocate_free_keep_pending_page(region):
    """Reference: allocate and free share the page buffer with copyToROM, so a pending page is lost
    (or overwritten by a header) when another Feature is allocated or freed."""
    dev, area, s = region(0x10000, max_features=4)
    other = s.allocate_feature(16, 16)
    a = s.allocate_feature(300, 16)
    assert s.copy_to_rom(a + 32, b"\x5a" * 100) == LLKERNEL_OK   # pending
    b = s.allocate_feature(300, 16)
    s.free_feature(other)
    assert s.flush_copy_to_rom() == LLKERNEL_OK
    assert dev.read(a - KF + 32, 100) == b"\x5a" * 100
    assert status(dev, b - KF) == USED_MAGIC
    # Freeing the owner discards its pending page without programming it.
    assert s.copy_to_rom(b + 32, b"\x33" * 10) == LLKERNEL_OK
    s.free_feature(b)
    ops = recorder(dev)
    assert s.flush_copy_to_rom() == LLKERNEL_OK and ops == []


def test_llkernel_defect_15_failed_free_keeps_feature():
    """Reference: when the erase fails, free logs, programs REMOVED anyway and decrements the count."""
    dev = SimulatedFlash(0x10000, erase_page_size=SUB, endurance=Endurance(rated_cycles=1))
    area = FlashArea(0, 0, 0x10000, dev, label="kf_partition", address=KF)
    s = FeatureStore(area, max_features=4, ram_base=RAM)
    h = s.allocate_feature(64, 16)          # erase cycle 1 of the header subsector
    s.free_feature(h)                       # cycle 2 > rated: EIO
    assert s.last_error and "free" in s.last_error
    assert status(dev, 0) == USED_MAGIC
    assert s.allocated_features_count() == 1 and s.feature_handle(0) == h


@pytest.mark.parametrize("code", [9, 42, -1, 0])
def test_llkernel_defect_16_init_error_never_hangs(region, code):
    """Reference: the error-name lookup asserts (print + endless loop) for code 9 and unknown codes."""
    dev, area, s = region(0x10000, max_features=4)
    h = s.allocate_feature(64, 16)
    assert L.LLKERNEL_IMPL_onFeatureInitializationError(h, code, store=s) == LLKERNEL_OK
    assert s.allocated_features_count() == 1


def test_llkernel_defect_17_reserved_word_erased(region):
    """Reference: the reserved header word keeps stale page-buffer bytes (content of earlier copies)."""
    dev, area, s = region(0x10000, max_features=4)
    s.install(b"\x00" * 600, 16)
    h = s.allocate_feature(64, 16)
    assert dev.read(h - KF + 28, 4) == b"\xff" * 4
    assert dev.read(28, 4) == b"\xff" * 4
    assert dev.read(h - KF + 32, 224) == b"\xff" * 224  # rest of the header page


def test_llkernel_free_programs_only_the_status(region):
    """LLK-9/LLK-22 (as 1.0.2+): one erase of the header subsector, one 4-byte program."""
    dev, area, s = region(0x10000, max_features=4)
    h = s.install(b"\x42" * 5000, 16).handle
    ops = recorder(dev)
    s.free_feature(h)
    assert ops == [("E", 0, SUB), ("P", 0, 4)]
    assert dev.read(0, 32) == REMOVED_MAGIC.to_bytes(4, "little") + b"\xff" * 28
    assert dev.read(SUB, 5032 - SUB) == b"\x42" * (5032 - SUB)  # later subsectors keep content
