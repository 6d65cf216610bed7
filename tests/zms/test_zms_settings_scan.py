"""Settings on ZMS (hash ids, collisions, list) and the read-only scan / detection."""

from __future__ import annotations

import errno
import hashlib

import pytest

from flashstack.errors import FlashError, PowerLoss
from flashstack.zms import ZMSStore
from flashstack.zms.scan import detect_zms, mount_copy, scan
from flashstack.zms.settings import (
    DATA_ID_OFFSET,
    LL_HEAD_ID,
    ZMSSettings,
    decode_settings,
    hash32,
    name_id_of,
)

from .conftest import make_area


def test_hash_and_ids_of_the_spec():
    assert hash32(b"app/a") == 0x5B0918AF
    nid = name_id_of("app/a")
    assert (nid, nid | 1, nid + DATA_ID_OFFSET) == (0x9B0918A0, 0x9B0918A1, 0xDB0918A0)
    assert name_id_of("app/a", 3) == 0x9B0918A6


def _colliding(n: int) -> list[str]:
    """``n`` names sharing their hash bits (brute force over short names)."""
    seen: dict[int, list[str]] = {}
    i = 0
    while True:
        name = f"k/{i}"
        lst = seen.setdefault(name_id_of(name), [])
        lst.append(name)
        if len(lst) == n:
            return lst
        i += 1


def test_settings_round_trip_with_collisions_and_reboot():
    _, area = make_area(1024, 4, 4)
    st = ZMSSettings.on_area(area)
    a, b, c = _colliding(3)
    st.save(a, b"1")
    st.save(b, b"22")
    st.save(c, b"333")
    st.save("other", b"x" * 40)
    assert st.hash_collision_num == 2
    assert st.store.read(name_id_of(a, 1)) in (b.encode(), c.encode())
    st.delete(a)
    assert dict(st.load()) == {b: b"22", c: b"333", "other": b"x" * 40}
    st2 = ZMSSettings.on_area(area)
    assert st2.hash_collision_num == 2
    assert list(st2.load()) == [(b, b"22"), (c, b"333"), ("other", b"x" * 40)]
    assert st2.get(c) == b"333"
    with pytest.raises(FlashError) as ei:
        st2.get(a)
    assert ei.value.errno == errno.ENOENT
    st2.save(a, b"again")          # reuses the free collision number 0
    assert st2.store.read(name_id_of(a)) == a.encode()


def test_settings_name_rules():
    _, area = make_area(1024, 4, 4)
    st = ZMSSettings.on_area(area)
    for bad in ("", "x" * 74, "a\0b"):
        with pytest.raises(FlashError) as ei:
            st.save(bad, b"v")
        assert ei.value.errno == errno.EINVAL
    st.save("x" * 73, b"v")
    assert st.get("x" * 73) == b"v"


def test_decode_settings_is_read_only_and_matches_load():
    _, area = make_area(1024, 4, 4)
    st = ZMSSettings.on_area(area)
    st.save("net/ip", b"\x0a\x00\x00\x01")
    st.save("net/name", b"device-01-long-name")
    items = dict(st.store.items())
    assert LL_HEAD_ID in items
    assert decode_settings(items) == dict(st.load())
    assert decode_settings({1: b"x"}) is None


@pytest.mark.parametrize("explicit, wbs, wide", [(True, 4, False), (False, 16, False),
                                                 (True, 8, True)])
def test_detect_geometry_from_bytes(explicit, wbs, wide):
    _, area = make_area(2048, 4, wbs, explicit_erase=explicit, page=1024 if explicit else None)
    st = ZMSStore(area, 2048, 4, id_64bit=wide)
    st.mount()
    for i in range(50):
        st.write(i % 7, bytes([i]) * (i % 20 + 1))
    st.use_next_sector()
    d = detect_zms(area)
    assert d is not None
    assert (d.sector_size, d.sector_count, d.id_64bit, d.data_crc) == (2048, 4, wide, False)


def test_detect_data_crc_and_nothing_on_blank():
    _, area = make_area(1024, 3, 4)
    assert detect_zms(area) is None
    st = ZMSStore(area, data_crc=True)
    st.mount()
    st.write(1, b"a value longer than eight")
    d = detect_zms(area)
    assert d is not None and d.data_crc


def test_scan_never_writes_and_reports():
    dev, area = make_area(1024, 3, 4)
    st = ZMSStore(area)
    st.mount()
    st.write(1, b"one")
    st.write(2, b"two" * 10)
    st.write(1, b"uno")
    st.delete(3)
    before = hashlib.sha256(dev.snapshot()).hexdigest()
    res = scan(area)
    assert hashlib.sha256(dev.snapshot()).hexdigest() == before
    assert res.verdict == "healthy"
    assert res.items == {1: b"uno", 2: b"two" * 10}
    states = [(a.id, a.state) for a in res.ates if a.kind != "gc_done"]
    assert states == [(3, "deleted"), (1, "valid"), (2, "valid"), (1, "superseded")]
    assert res.sectors[0].state == "open" and res.sectors[0].cycle == 1
    assert mount_copy(area).read(2) == b"two" * 10


def test_scan_of_an_interrupted_switch_is_recoverable_and_blank_is_empty():
    dev, area = make_area(1024, 3, 4)
    assert scan(area).verdict == "empty"
    st = ZMSStore(area)
    st.mount()
    for i in range(20):
        st.write(i % 5, bytes([i]) * 40)
    start = dev.snapshot()
    verdicts = set()
    for after in range(1, 80):
        dev.restore(start)
        st = ZMSStore(area)
        st.mount()
        dev.arm_power_cut(after=after)
        try:
            st.use_next_sector()
        except PowerLoss:
            pass
        dev.power_restore()
        before = dev.snapshot()
        res = scan(area)
        assert dev.snapshot() == before
        verdicts.add(res.verdict)
        if res.verdict == "recoverable":
            assert res.mount_operations and res.mount_notes
    assert verdicts == {"healthy", "recoverable"}
