"""MicroEJ AbstractionLayer-Tests llkernel suite v1.2.0 (t_llkernel.c), ported: the six tests in
their order with their assertions, each with the suite's setUp/tearDown cleanup, on several KF
regions (spec §16): N = 4 and N = 16, and a region that is not a multiple of N subsectors."""

from __future__ import annotations

import pytest

from flashstack.llkernel import capi as L
from flashstack.llkernel.capi import (LLKERNEL_ERROR, LLKERNEL_OK,
                                      LLKERNEL_IMPL_allocateFeature__II as allocateFeature,
                                      LLKERNEL_IMPL_copyToROM__LiceTea_lang_Ram_2LiceTea_lang_Ram_2I as copyToROM,
                                      LLKERNEL_IMPL_flushCopyToROM as flushCopyToROM,
                                      LLKERNEL_IMPL_freeFeature__I as freeFeature,
                                      LLKERNEL_IMPL_getAllocatedFeaturesCount as getAllocatedFeaturesCount,
                                      LLKERNEL_IMPL_getFeatureAddressRAM__I as getFeatureAddressRAM,
                                      LLKERNEL_IMPL_getFeatureAddressROM__I as getFeatureAddressROM,
                                      LLKERNEL_IMPL_getFeatureHandle__I as getFeatureHandle)

NUMBER_OF_FEATURES = 6
FEATURE_DATA_BUFFER_SIZE = 0x100
INT_MAX = 0x7FFFFFFF

# (KF size, N): the vectors' 64 KiB regions with N = 4 and 16, the upstream default 4 MiB / 16,
# and 10 subsectors with N = 4 (2 leftover subsectors; the reference would make a 5th slot).
REGIONS = [(0x10000, 4), (0x10000, 16), (0x400000, 16), (10 * 4096, 4)]


@pytest.fixture(scope="module", params=REGIONS, ids=lambda r: f"kf{r[0] // 1024}k_n{r[1]}")
def kf(request, region):
    """One KF region shared by the six tests, as on a board; the default seed store."""
    kf_size, n = request.param
    dev, area, store = region(kf_size, max_features=n)
    L.set_default_store(store)
    yield store
    L.set_default_store(None)


@pytest.fixture
def suite(kf):
    """setUp and tearDown of t_llkernel.c: free every Feature (the 6 handles are locals here)."""
    L.set_default_store(kf)
    _cleanup()
    yield kf
    _cleanup()
    assert getAllocatedFeaturesCount() == 0


def _buffer(i: int) -> bytearray:
    buf = bytearray(FEATURE_DATA_BUFFER_SIZE)
    text = f"********llkernel {i} llkernel*******".encode()
    buf[:len(text)] = text
    return buf


def _cleanup():
    while getAllocatedFeaturesCount() > 0:
        freeFeature(getFeatureHandle(0))


def _copy_fails(dest: int, buf, size: int) -> bool:
    """The suite's 'copy → ERROR, or flush → ERROR' assertion."""
    return copyToROM(dest, buf, size) == LLKERNEL_ERROR or flushCopyToROM() == LLKERNEL_ERROR


def _overlap(a: int, b: int, n: int) -> bool:
    return a < b + n and b < a + n


def test_llkernel_official_1_resource_allocate(suite):
    n = suite.config.max_features
    installed = 0
    roms, rams = [], []
    for _ in range(n + 1):
        assert getAllocatedFeaturesCount() == installed
        buf = _buffer(installed)
        handle = allocateFeature(FEATURE_DATA_BUFFER_SIZE, FEATURE_DATA_BUFFER_SIZE)
        if handle == 0:
            break
        rom, ram = getFeatureAddressROM(handle), getFeatureAddressRAM(handle)
        assert rom is not None and ram is not None
        for other_rom, other_ram in zip(roms, rams):
            assert not _overlap(rom, other_rom, FEATURE_DATA_BUFFER_SIZE)
            assert not _overlap(ram, other_ram, FEATURE_DATA_BUFFER_SIZE)
        roms.append(rom)
        rams.append(ram)
        before = bytes(buf)
        assert copyToROM(rom, buf, FEATURE_DATA_BUFFER_SIZE) == LLKERNEL_OK
        assert bytes(buf) == before
        assert flushCopyToROM() == LLKERNEL_OK
        assert bytes(buf) == before
        assert suite.area.read(rom - suite.kf_start, FEATURE_DATA_BUFFER_SIZE) == bytes(buf)
        installed += 1
    else:
        pytest.fail("allocateFeature never returned 0")
    # flashstack: exactly N slots, whatever the leftover of the region (spec §5, §18 row 1)
    assert installed == n


def test_llkernel_official_2_resource_allocate_and_free(suite):
    for i in range(NUMBER_OF_FEATURES):
        buf = _buffer(i)
        handle = allocateFeature(FEATURE_DATA_BUFFER_SIZE, FEATURE_DATA_BUFFER_SIZE)
        assert handle != 0
        assert getAllocatedFeaturesCount() == 1
        rom, ram = getFeatureAddressROM(handle), getFeatureAddressRAM(handle)
        assert rom is not None and ram is not None
        assert copyToROM(rom, buf, FEATURE_DATA_BUFFER_SIZE) == LLKERNEL_OK
        assert flushCopyToROM() == LLKERNEL_OK
        assert suite.area.read(rom - suite.kf_start, FEATURE_DATA_BUFFER_SIZE) == bytes(buf)
        freeFeature(handle)
        assert getFeatureHandle(0) == 0
        assert getFeatureAddressROM(handle) is None
        assert getFeatureAddressRAM(handle) is None


def test_llkernel_official_3_resource_allocate_overflow(suite):
    assert allocateFeature(INT_MAX, 0) == 0
    assert allocateFeature(0, INT_MAX) == 0


def test_llkernel_official_4_resource_install_overflow(suite):
    buf = _buffer(0)
    handle = allocateFeature(FEATURE_DATA_BUFFER_SIZE, FEATURE_DATA_BUFFER_SIZE)
    assert handle != 0
    rom = getFeatureAddressROM(handle)
    assert _copy_fails(rom, buf, INT_MAX)
    handle1 = allocateFeature(FEATURE_DATA_BUFFER_SIZE, FEATURE_DATA_BUFFER_SIZE)
    assert handle1 != 0  # N >= 2 in every region here
    rom1 = getFeatureAddressROM(getFeatureHandle(1))
    # 255 bytes from 128 bytes before Feature 1's ROM: crosses the slot 0 / slot 1 boundary
    assert _copy_fails(rom1 - 128, buf, FEATURE_DATA_BUFFER_SIZE - 1)


def test_llkernel_official_5_resource_install_out_of_bounds(suite):
    buf = _buffer(0)
    assert getAllocatedFeaturesCount() == 0
    handle = allocateFeature(FEATURE_DATA_BUFFER_SIZE, FEATURE_DATA_BUFFER_SIZE)
    assert handle != 0
    assert getAllocatedFeaturesCount() == 1
    rom = getFeatureAddressROM(handle)
    assert rom == suite.kf_start + 32  # the Feature sits in slot 0, at the KF start
    assert _copy_fails(rom - 0x1000, buf, FEATURE_DATA_BUFFER_SIZE)
    assert _copy_fails(rom, buf, INT_MAX)


def test_llkernel_official_6_resource_installation(suite):
    assert getAllocatedFeaturesCount() == 0
    assert getFeatureHandle(0) == 0
    h0 = allocateFeature(FEATURE_DATA_BUFFER_SIZE, FEATURE_DATA_BUFFER_SIZE)
    h1 = allocateFeature(FEATURE_DATA_BUFFER_SIZE, FEATURE_DATA_BUFFER_SIZE)
    assert h0 != 0 and h1 != 0
    assert getFeatureHandle(0) == h0
    assert getFeatureHandle(1) == h1
    assert getFeatureHandle(2) == 0
    assert getFeatureHandle(-1) == 0
