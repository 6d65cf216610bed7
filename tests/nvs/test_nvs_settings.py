"""Settings on NVS (spec §17): Zephyr's id scheme, save/load/delete, clean-up after a power
cut, and reading a settings partition laid out by Zephyr's backend."""

from __future__ import annotations

import struct

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import InvalidArgument, NoMemory, NotFound, PowerLoss
from flashstack.flash_map import FlashArea
from flashstack.nvs import NVSStore
from flashstack.nvs.settings import (NAMECNT_ID, NAME_ID_OFFSET, NVSSettings, decode_settings,
                                     settings_geometry)


def area(sectors=4, page=1024):
    dev = SimulatedFlash(page * sectors, erase_page_size=page, write_block_size=4)
    return dev, FlashArea(3, 0, page * sectors, dev, label="storage")


def test_default_geometry():
    _, a = area(sectors=16)
    assert settings_geometry(a) == (1024, 8)
    assert settings_geometry(a, sector_size_mult=4) == (4096, 4)
    with pytest.raises(InvalidArgument):
        settings_geometry(a, sector_size_mult=64)


def test_id_scheme_and_round_trip():
    dev, a = area()
    s = NVSSettings.on_area(a)
    s.save("bt/name", b"flashstack")
    s.save("app/mode", b"\x02")
    st = s.store
    assert st.read(NAMECNT_ID) == struct.pack("<H", 0x8002)
    assert st.read(0x8001) == b"bt/name" and st.read(0x8001 + NAME_ID_OFFSET) == b"flashstack"
    assert st.read(0x8002) == b"app/mode" and st.read(0xC002) == b"\x02"
    s.save("bt/name", b"renamed")                 # same id, name not rewritten
    assert st.read(0xC001) == b"renamed"
    with pytest.raises(NotFound):
        st.read_hist(0x8001, 1)                   # the name entry was written once only
    again = NVSSettings.on_area(a)
    assert dict(again.load()) == {"bt/name": b"renamed", "app/mode": b"\x02"}
    assert again.get("app/mode") == b"\x02"
    with pytest.raises(NotFound):
        again.get("nope")


def test_delete_updates_last_name_id_and_reuses_lowest_free_id():
    dev, a = area()
    s = NVSSettings.on_area(a)
    for n in ("a", "b", "c"):
        s.save(n, n.encode() * 2)
    s.delete("c")                                 # the last id: counter goes down first
    assert s.last_name_id == 0x8002
    assert s.store.read(NAMECNT_ID) == struct.pack("<H", 0x8002)
    s.delete("a")                                 # a hole at 0x8001
    s.delete("missing")                           # no-op
    s.save("d", b"dd")
    assert s.store.read(0x8001) == b"d"           # lowest free id reused
    assert dict(NVSSettings.on_area(a).load()) == {"b": b"bb", "d": b"dd"}


def test_orphan_value_after_cut_is_invisible_then_reused():
    """A cut between the value write and the name write: the counter was not raised, so
    load never looks at the orphan value; the next new name takes that id over."""
    dev, a = area()
    s = NVSSettings.on_area(a)
    s.save("keep", b"1")
    dev.arm_power_cut(after=3)                    # value: data + ATE; cut the name's data
    with pytest.raises(PowerLoss):
        s.save("lost", b"22")
    dev.power_restore()
    s2 = NVSSettings.on_area(a)
    assert s2.store.read(0xC002) == b"22" and s2.last_name_id == 0x8001
    assert dict(s2.load()) == {"keep": b"1"}
    s2.save("next", b"333")
    assert s2.store.read(0x8002) == b"next" and s2.store.read(0xC002) == b"333"


def test_load_cleans_up_a_half_deleted_pair():
    dev, a = area()
    s = NVSSettings.on_area(a)
    for n in ("a", "b", "c"):
        s.save(n, n.encode())
    dev.arm_power_cut(after=2)                    # name delete lands, value delete is cut
    with pytest.raises(PowerLoss):
        s.delete("b")
    dev.power_restore()
    s2 = NVSSettings.on_area(a)
    assert s2.store.read(0xC002) == b"b"
    assert dict(s2.load()) == {"a": b"a", "c": b"c"}
    with pytest.raises(NotFound):
        s2.store.read(0xC002)                     # removed by load's clean-up
    assert s2.last_name_id == 0x8003


def test_reads_a_partition_written_with_zephyrs_layout():
    """Lay entries out as Zephyr's settings_nvs.c would (ids, counter) with raw NVS writes."""
    dev, a = area()
    st = NVSStore(a, 1024, 4)
    st.mount()
    st.write(0x8001, b"wifi/ssid")
    st.write(0xC001, b"home")
    st.write(0x8002, b"wifi/psk")
    st.write(0xC002, b"secret")
    st.write(NAMECNT_ID, struct.pack("<H", 0x8002))
    st.write(7, b"direct nvs id below 0x8000")
    s = NVSSettings(st)
    s.init()
    assert s.last_name_id == 0x8002
    assert dict(s.load()) == {"wifi/psk": b"secret", "wifi/ssid": b"home"}
    assert decode_settings(dict(st.items())) == {"wifi/ssid": b"home", "wifi/psk": b"secret"}
    assert decode_settings({1: b"x"}) is None
    assert st.scan().settings == {"wifi/ssid": b"home", "wifi/psk": b"secret"}


def test_long_names_are_refused_and_skipped():
    dev, a = area()
    s = NVSSettings.on_area(a)
    with pytest.raises(InvalidArgument):
        s.save("n" * 74, b"v")
    s.save("n" * 73, b"v")
    s.store.write(0x8002, b"x" * 80)             # a foreign over-long name
    s.store.write(0xC002, b"w")
    s.last_name_id = 0x8002
    assert dict(s.load()) == {"n" * 73: b"v"}


class _FullStore:
    """Every name id holds some other name: no free id below the counter."""

    mounted = True

    def read_entry(self, nvs_id, cnt, buf_len):
        return 5, b"other"


def test_name_id_0xbfff_is_never_allocated():
    s = NVSSettings(_FullStore())
    s.last_name_id = 0xBFFE
    with pytest.raises(NoMemory):
        s.save("new", b"v")                       # next id 0xBFFF -> value id 0xFFFF
    s.last_name_id = 0xBFFF
    with pytest.raises(NoMemory):
        s.save("new", b"v")                       # 0xC000: no ids left (the reference's rule)


def test_get_history_reads_older_values_of_the_value_id():
    _, a = area()
    s = NVSSettings.on_area(a)
    s.save("bt/name", b"one")
    s.save("app/mode", b"\x01")
    s.save("bt/name", b"two")
    assert [s.get("bt/name", h) for h in (0, 1)] == [b"two", b"one"]
    assert s.get("app/mode", 0) == b"\x01"
    with pytest.raises(NotFound, match="history entry 1"):
        s.get("app/mode", 1)
    with pytest.raises(InvalidArgument):
        s.get("bt/name", -1)
    for _ in range(4):                            # GC every sector: only newest entries stay
        s.store.use_next_sector()
    assert s.get("bt/name") == b"two"
    with pytest.raises(NotFound):
        s.get("bt/name", 1)
