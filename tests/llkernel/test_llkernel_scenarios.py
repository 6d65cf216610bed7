"""Additional scenarios of spec §16 (persistence, indices, reuse, copy rules, erase counts, init
errors, power cuts, scan-only), configuration checks (LLK-4/LLK-6), the seed int32 conventions,
the read-only scan with its anomalies, and reading every final image the reference wrote."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import InvalidArgument, NoSpace, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.llkernel import (LLKERNEL_ERROR, LLKERNEL_OK, FeatureHeader, FeatureStore,
                                 REMOVED_MAGIC, USED_MAGIC)
from flashstack.llkernel import capi as L

SUB = 4096
KF = 0x90000000
RAM = 0x20000000
DATA = Path(__file__).resolve().parent.parent / "data" / "llkernel"


def ops_of(dev):
    st = dev.stats
    return st.flash_write_calls, st.flash_erase_calls


def test_llkernel_persistence_across_reboot(region, tmp_path):
    img = tmp_path / "kf.bin"
    dev, area, s = region(0x10000, max_features=4, backing=img)
    blobs = [bytes(random.Random(i).randbytes(700 + 900 * i)) for i in range(3)]
    feats = [s.install(b, 100 * (i + 1)) for i, b in enumerate(blobs)]
    dev.close()
    dev2, area2, s2 = region(0x10000, max_features=4, backing=img)
    assert s2.allocated_features_count() == 3
    assert [f.to_json() for f in s2.features()] == [f.to_json() for f in feats]
    for f, b in zip(s2.features(), blobs):
        assert s2.feature_handle(f.index) == f.handle
        assert area2.read(f.rom_address - KF, len(b)) == b
    dev2.close()


def test_llkernel_index_after_lower_free(region):
    dev, area, s = region(0x10000, max_features=4)
    hs = [s.allocate_feature(64, 16) for _ in range(3)]
    before = ops_of(dev)
    s.free_feature(hs[0])
    assert ops_of(dev) == (before[0] + 1, before[1] + 1)
    assert [s.feature_handle(0), s.feature_handle(1), s.feature_handle(2)] == [hs[1], hs[2], None]
    assert s.allocated_features_count() == 2 and ops_of(dev) == (before[0] + 1, before[1] + 1)


def test_llkernel_removed_slot_reuse(region):
    dev, area, s = region(0x10000, max_features=4)
    hs = [s.allocate_feature(64, 16) for _ in range(3)]
    s.free_feature(hs[0])
    h = s.allocate_feature(64, 16)
    assert h == hs[0]
    assert FeatureHeader.unpack(dev.read(0, 32)).feature_index == 2  # USED count at allocation
    assert s.feature_handle(0) == h and s.features()[0].index == 0


def test_llkernel_descending_copy_rejected(region):
    dev, area, s = region(0x10000, max_features=4)
    h = s.allocate_feature(300, 16)
    assert s.copy_to_rom(h + 32 + 64, b"\x01" * 16) == LLKERNEL_OK
    before = ops_of(dev)
    assert s.copy_to_rom(h + 32, b"\x02" * 16) == LLKERNEL_ERROR
    assert ops_of(dev) == before
    assert s.flush_copy_to_rom() == LLKERNEL_OK
    assert dev.read(32, 64) == b"\xff" * 64 and dev.read(96, 16) == b"\x01" * 16
    # Continuing at or after the high-water mark of a programmed page is fine.
    assert s.copy_to_rom(h + 32 + 80, b"\x03" * 8) == LLKERNEL_OK
    assert s.flush_copy_to_rom() == LLKERNEL_OK and dev.read(112, 8) == b"\x03" * 8


def test_llkernel_copy_argument_checks(region):
    dev, area, s = region(0x10000, max_features=4)
    h = s.allocate_feature(300, 16)
    assert L.LLKERNEL_IMPL_copyToROM(h + 32, b"abc", 0, store=s) == LLKERNEL_OK
    assert L.LLKERNEL_IMPL_copyToROM(h + 32, b"abc", -1, store=s) == LLKERNEL_ERROR
    assert L.LLKERNEL_IMPL_copyToROM(h + 32, b"abc", 4, store=s) == LLKERNEL_ERROR
    assert L.LLKERNEL_IMPL_copyToROM(h + 32 + 290, b"x" * 11, 11, store=s) == LLKERNEL_ERROR
    assert L.LLKERNEL_IMPL_flushCopyToROM(store=s) == LLKERNEL_OK
    # Features found by the boot scan are sealed.
    s2 = FeatureStore(area, max_features=4, ram_base=RAM)
    assert s2.copy_to_rom(h + 32, b"x") == LLKERNEL_ERROR


def test_llkernel_slot_end(region):
    dev, area, s = region(0x10000, max_features=4)
    slot = s.slot_size
    assert s.allocate_feature(slot - 31, 0) is None
    assert s.allocate_feature(-1, 0) is None
    h = s.allocate_feature(slot - 32, 0)
    assert h == KF
    data = bytes(random.Random(1).randbytes(slot - 32))
    for off in range(0, len(data), 1000):   # chunked, the last copy ends at the slot end
        assert s.copy_to_rom(h + 32 + off, data[off:off + 1000]) == LLKERNEL_OK
    assert s.flush_copy_to_rom() == LLKERNEL_OK
    assert dev.read(32, slot - 32) == data and dev.read(slot, 32) == b"\xff" * 32


@pytest.mark.parametrize("rom, erases", [(0, 1), (SUB - 32, 1), (SUB - 31, 2), (4 * SUB - 32, 4)])
def test_llkernel_erase_count(region, rom, erases):
    dev, area, s = region(0x10000, max_features=4)
    dev.write(4 * SUB, b"\x00" * 32)   # something in slot 1's header: must survive
    s.rescan()
    before = ops_of(dev)
    h = s.allocate_feature(rom, 0)
    assert h == KF
    assert ops_of(dev) == (before[0] + 1, before[1] + erases)
    assert FeatureHeader.unpack(dev.read(0, 32)).nb_subsectors == erases
    assert dev.read(4 * SUB, 32) == b"\x00" * 32


def test_llkernel_init_errors(region):
    dev, area, s = region(0x10000, max_features=16)
    hs = [s.allocate_feature(16, 16) for _ in range(11)]
    codes = [1, 2, 5, 3, 4, 6, 7, 8, 9, 42, -3]
    for h, code in zip(hs, codes):
        assert L.LLKERNEL_IMPL_onFeatureInitializationError(h, code, store=s) == LLKERNEL_OK
    kept = [s.feature_handle(i) for i in range(s.allocated_features_count())]
    assert kept == hs[3:]
    assert [int.from_bytes(dev.read(h - KF, 4), "little") for h in hs[:3]] == [REMOVED_MAGIC] * 3


def test_llkernel_power_cut_in_free(region):
    dev, area, s = region(0x10000, max_features=4)
    hs = [s.install(bytes([i + 1]) * 300, 16).handle for i in range(3)]
    dev.arm_power_cut(after=2)          # op 1 = the erase, op 2 = the status program
    with pytest.raises(PowerLoss):
        s.free_feature(hs[1])
    dev.power_restore()
    s2 = FeatureStore(area, max_features=4, ram_base=RAM)
    assert s2.allocated_features_count() == 2
    assert [f.handle for f in s2.features()] == [hs[0], hs[2]]
    assert s2.allocate_feature(10, 10) == hs[1]


def test_llkernel_power_cut_sweep_install_and_free(region):
    """A cut (clean or torn) at every flash operation of install C, free A, install D: the store
    reopens, B (untouched) and A (until its free starts) stay listed and intact, nothing listed
    overlaps in RAM, and a new install succeeds."""
    dev, area, s = region(0x10000, max_features=4)
    a = s.install(b"\x11" * 2000, 16)
    b = s.install(b"\x22" * 300, 16)
    base_image = dev.snapshot()

    def scenario(st):
        st.install(b"\x77" * 700, 32)
        done = dev.ops_since_arm
        st.free_feature(a.handle)
        st.install(b"\x88" * 5000, 64)
        return done

    dev.arm_power_cut(after=None)
    ops_before_free = scenario(s)
    total = dev.ops_since_arm
    assert total == ops_before_free + 2 + 2 + 21   # free: E+P; D: 2 erases + header + 20 pages
    for n in range(1, total + 1):
        for mode in ("clean", "torn"):
            dev.restore(base_image)
            st = FeatureStore(area, max_features=4, ram_base=RAM)
            dev.arm_power_cut(after=n, mode=mode, tear="prefix", keep=n % 40)
            with pytest.raises(PowerLoss):
                scenario(st)
            dev.power_restore()
            s2 = FeatureStore(area, max_features=4, ram_base=RAM)
            listed = {f.handle: f for f in s2.features()}
            assert b.handle in listed and area.read(b.rom_address - KF, 300) == b"\x22" * 300
            if n <= ops_before_free:
                assert a.handle in listed and area.read(32, 2000) == b"\x11" * 2000
            new = s2.install(b"\x99" * 100, 8)
            for f in s2.features():
                if f.handle != new.handle and RAM <= f.ram_address < RAM + 102400:
                    assert (new.ram_address >= f.ram_address + f.ram_size
                            or new.ram_address + 8 <= f.ram_address), (n, mode)


def test_llkernel_scan_only_never_writes(region):
    rng = random.Random(7)
    for _ in range(5):
        dev, area, s = region(0x10000, max_features=16)
        image = bytearray(rng.randbytes(0x10000))
        for slot in rng.sample(range(16), 6):
            image[slot * SUB:slot * SUB + 4] = USED_MAGIC.to_bytes(4, "little")
        dev.restore(bytes(image))
        dev.stats.reset()
        s2 = FeatureStore(area, max_features=16, ram_base=RAM)
        n = s2.allocated_features_count()
        report = s2.scan()
        s2.features()
        assert n == 6 == report.count
        assert ops_of(dev) == (0, 0)


def test_llkernel_install_and_features(region):
    dev, area, s = region(0x10000, max_features=4)
    f = s.install(b"\xab" * 5000, 300, chunk=777)
    assert (f.index, f.slot, f.handle, f.rom_address, f.rom_size) == (0, 0, KF, KF + 32, 5000)
    assert (f.ram_address, f.ram_size, f.nb_subsectors, f.status) == (RAM, 300, 2, "used")
    assert area.read(32, 5000) == b"\xab" * 5000
    with pytest.raises(NoSpace, match="slot size"):
        s.install(b"\x00" * s.slot_size, 0)
    for _ in range(3):
        s.install(b"\x01", 1)
    with pytest.raises(NoSpace) as exc:
        s.install(b"\x01", 1)
    assert exc.value.errno == 28 and "maximum number" in str(exc.value)
    assert str(exc.value).startswith(f"partition kf_partition (KF {KF:#x}+0x10000): allocate:")
    s.free_feature(KF + 7)
    assert s.last_error == (f"partition kf_partition (KF {KF:#x}+0x10000): free: {KF + 7:#x} is "
                            "not the start of a USED slot")
    with pytest.raises(InvalidArgument, match=r"partition kf_partition \(KF 0x90000000\+0x10000\): "
                                              "install: chunk size 0"):
        s.install(b"\x01", 1, chunk=0)


def test_llkernel_seed_int32_conventions(region):
    dev, area, s = region(0x10000, max_features=4)
    L.set_default_store(s)
    try:
        h = L.LLKERNEL_IMPL_allocateFeature(100, 16)
        assert h == KF - (1 << 32) == -1879048192
        assert L.LLKERNEL_IMPL_getFeatureHandle(0) == h
        assert L.LLKERNEL_IMPL_getFeatureAddressROM(h) == L.LLKERNEL_IMPL_getFeatureAddressROM(KF) == KF + 32
        assert L.LLKERNEL_IMPL_getAllocatedFeaturesCount() == 1
        assert L.LLKERNEL_IMPL_allocateFeature(0xFFFFFFFF, 0) == 0   # int32 -1
        L.LLKERNEL_IMPL_freeFeature(KF)                                 # unsigned form accepted
        assert L.LLKERNEL_IMPL_getAllocatedFeaturesCount() == 0
    finally:
        L.set_default_store(None)
    with pytest.raises(OSError):
        L.LLKERNEL_IMPL_getAllocatedFeaturesCount()


def test_llkernel_n_zero(region):
    dev, area, s = region(0x10000, max_features=0)
    assert s.allocated_features_count() == 0
    assert s.allocate_feature(16, 16) is None and s.feature_handle(0) is None


@pytest.mark.parametrize("kw, dev_kw, match", [
    ({"base": 0}, {}, "kf_start"),
    ({"base": KF + 0x100}, {}, "kf_start"),
    ({"max_features": 32}, {}, "slots do not fit"),
    ({"ram_align": 12}, {}, "ram_align"),
    ({"ram_align": 4}, {}, "ram_align"),
    ({"ram_base": RAM + 8}, {}, "ram_base"),
    ({"page_size": 16}, {}, "page size"),
    ({"page_size": 384}, {}, "page size"),
    ({}, {"write_block_size": 4}, "write block"),
    ({}, {"erase_value": 0x00}, "erase value"),
    ({}, {"layout": [(8, 4096), (2, 16384)], "size": None}, "uniform"),
])
def test_llkernel_config_errors(kw, dev_kw, match):
    dkw = {"size": 0x10000, "erase_page_size": 4096}
    dkw.update(dev_kw)
    if "layout" in dkw:
        dkw.pop("erase_page_size")
        dkw.pop("size")
    dev = SimulatedFlash(**dkw)
    area = FlashArea(3, 0, 0x10000, dev, label="kf_partition", address=KF)
    args = {"ram_base": RAM, "max_features": 4}
    base = kw.pop("base", None)
    args.update(kw)
    with pytest.raises(InvalidArgument, match=match) as exc:
        FeatureStore(area, base, **args)
    assert exc.value.errno == 22 and "kf_partition" in str(exc.value)


def test_llkernel_scan_without_ram_base_and_allocate_refused(region):
    dev, area, s = region(0x10000, max_features=4)
    s.install(b"\x01" * 10, 10)
    ro = FeatureStore(area, max_features=4)
    assert ro.allocated_features_count() == 1 and ro.scan().count == 1
    with pytest.raises(InvalidArgument, match="ram_base"):
        ro.allocate_feature(10, 10)


def test_llkernel_scan_anomalies(region):
    dev, area, s = region(10 * SUB, max_features=4)          # slot = 2 subsectors, 2 left over
    a = s.install(b"\x01" * 100, 256).handle
    s.install(b"\x02" * 100, 256)                          # slot 1
    # slot 2: a header with ROM outside its slot and RAM overlapping Feature a
    bad = FeatureHeader(USED_MAGIC, 1, KF + 2 * s.slot_size + 32, 3 * s.slot_size, RAM + 128, 64, 9)
    dev.erase(2 * s.slot_size, SUB)
    dev.write(2 * s.slot_size, bad.pack())
    dev.write(3 * s.slot_size, (0x12345678).to_bytes(4, "little"))            # unknown status
    dev.write(4 * s.slot_size, USED_MAGIC.to_bytes(4, "little"))              # reference extra slot
    s.free_feature(a)
    rep = FeatureStore(area, max_features=4).scan()
    codes = {(x.slot, x.code) for x in rep.all_anomalies()}
    assert (2, "rom_outside_slot") in codes and (2, "stale_feature_index") in codes
    assert (3, "unknown_status") in codes and (None, "reference_extra_slot") in codes
    assert (1, "stale_feature_index") in codes                  # stored 1, index now 0
    rep2 = FeatureStore(area, max_features=4, ram_base=RAM, ram_size=4096).scan()
    assert not any(x.code == "ram_overlap" for x in rep2.all_anomalies())  # a was freed
    states = [x["state"] for x in rep2.to_json()["slots"]]
    assert states == ["removed", "used", "used", "other"]
    json.dumps(rep2.to_json())


def test_llkernel_scan_ram_overlap_and_hidden(region):
    dev, area, s = region(0x10000, max_features=4)
    s.install(b"\x01" * 10, 256)
    hdr = FeatureHeader(USED_MAGIC, 1, KF + 2 * s.slot_size + 32, 10, RAM + 8, 8, 1)
    dev.write(2 * s.slot_size, hdr.pack())         # slot 1 never used: hidden from the reference
    rep = FeatureStore(area, max_features=4, ram_base=RAM).scan()
    codes = {(x.slot, x.code) for x in rep.all_anomalies()}
    assert (0, "ram_overlap") in codes and (2, "hidden_from_reference") in codes


CASES = json.loads((DATA / "index.json").read_text())["cases"]


@pytest.mark.parametrize("name", [c["name"] for c in CASES if c["final_image"]])
def test_llkernel_reads_reference_final_image(name):
    """Open the reference's final image cold: the Features are those of the case's final headers,
    in slot order, and the scan finds no error."""
    case = json.loads((DATA / f"{name}.json").read_text())
    cfg = case["config"]
    with gzip.open(DATA / f"{case['final_image']}.gz") as f:
        image = f.read()
    dev = SimulatedFlash(cfg["kf_size"], erase_page_size=4096)
    dev.restore(image)
    area = FlashArea(0, 0, cfg["kf_size"], dev, label="kf_partition", address=cfg["kf_start"])
    s = FeatureStore(area, max_features=cfg["max_features"], ram_base=cfg["ram_buffer_address"],
                     ram_size=cfg["ram_buffer_size"], ram_align=cfg["ram_align"])
    final = [st for st in case["steps"] if st["op"] == "expect_headers"][-1]["slots"]
    used = [h for h in final if h["state"] == "used"]
    got = s.features()
    assert [f.slot for f in got] == [h["slot"] for h in used]
    for f, h in zip(got, used):
        for k in ("rom_address", "rom_size", "ram_address", "ram_size", "nb_subsectors"):
            assert getattr(f, k) == h["fields"][k]
        assert f.feature_index == h["fields"]["feature_index"]
    assert not [a for a in s.scan().all_anomalies() if a.severity == "error"]


def test_llkernel_spec_header_example(region):
    """spec §6 example: slot 0, ROM 256, RAM 256 at 0x20010000, index 0."""
    dev, area, s = region(0x10000, max_features=4, ram_base=0x20010000)
    ops = []
    write = dev.write
    dev.write = lambda off, data: (ops.append((off, len(data))), write(off, data))
    assert L.LLKERNEL_IMPL_allocateFeature(256, 256, store=s) == -1879048192
    assert ops == [(0, 256)]
    want = bytes.fromhex("E8 77 1C 18 01 00 00 00 20 00 00 90 00 01 00 00 00 00 01 20 "
                         "00 01 00 00 00 00 00 00 FF FF FF FF") + b"\xff" * 224
    assert dev.read(0, 256) == want
    assert L.LLKERNEL_IMPL_getFeatureAddressROM(-1879048192, store=s) == 0x90000020
    with pytest.raises(InvalidArgument):
        s.install(b"x", 0, chunk=0)
