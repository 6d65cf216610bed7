"""Exhaustive power cuts (NVS-27/28) beyond the vectors: every write/erase index of a
GC-triggering write, clean and torn, then every index of the recovery mount (a double
fault), then a clean reboot. The interrupted value is old or new, all others unchanged, and
the store keeps working."""

from __future__ import annotations

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import NotFound, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSStore

GEOMETRIES = [  # (sector count, write block, data CRC, ids)
    (2, 4, False, 12), (3, 1, False, 30), (3, 8, True, 30),
]


def prepared(sectors, wbs, crc, ids):
    dev = SimulatedFlash(1024 * sectors, erase_page_size=1024, write_block_size=wbs)
    area = FlashArea(0, 0, 1024 * sectors, dev, label="storage")
    st = NVSStore(area, data_crc=crc)
    st.mount()
    i = 0
    while True:                                   # fill until the next 40-byte write must GC
        if st.raw_sector_max_data_size() < 40 and st.ate_wra // 1024 == sectors - 2:
            break
        st.write(i % ids, bytes([i & 0xFF]) * (17 + i % 23))
        i += 1
    return dev, area, crc, {k: st.read(k) for k in st.ids()}


def count_ops(dev, fn) -> int:
    image = dev.snapshot()
    dev.arm_power_cut(after=None)
    fn()
    n = dev.ops_since_arm
    dev.disarm()
    dev.restore(image)
    return n


def reboot(area, crc) -> NVSStore:
    st = NVSStore(area, data_crc=crc)
    st.mount()
    return st


def check(st, before, target, new):
    for k, v in before.items():
        if k == target:
            continue
        assert st.read(k) == v, f"id {k} changed"
    try:
        now = st.read(target)
    except NotFound:
        now = None
    assert now in (before.get(target), new)


@pytest.mark.parametrize("sectors,wbs,crc,ids", GEOMETRIES)
def test_every_cut_and_every_recovery_cut(sectors, wbs, crc, ids):
    dev, area, crc, before = prepared(sectors, wbs, crc, ids)
    base = dev.snapshot()
    target, new = 3, b"\xee" * 40
    total = count_ops(dev, lambda: reboot(area, crc).write(target, new))
    assert total > 10                              # the write really garbage-collects
    double_faults = 0
    for k in range(1, total):                      # op 0 of the count is the mount's (none)
        for torn in (None, 3):
            dev.restore(base)
            st = reboot(area, crc)
            dev.arm_power_cut(after=k, mode="clean" if torn is None else "torn", keep=torn)
            with pytest.raises(PowerLoss):
                st.write(target, new)
            dev.power_restore()
            cut_image = dev.snapshot()
            recovery = count_ops(dev, lambda: reboot(area, crc)) if torn is None else 0
            for j in range(1, recovery + 1):       # a second cut inside the recovery mount
                dev.restore(cut_image)
                dev.arm_power_cut(after=j)
                with pytest.raises(PowerLoss):
                    reboot(area, crc)
                dev.power_restore()
                check(reboot(area, crc), before, target, new)
                double_faults += 1
            dev.restore(cut_image)
            st = reboot(area, crc)
            check(st, before, target, new)
            assert st.write(target, b"after") == 5 and st.read(target) == b"after"
    assert double_faults > 0
