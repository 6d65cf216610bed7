"""The store registry: every kind registered once, looked up by name or alias, detected from
bytes with the parameters the bytes give, and the jobs' hookups resolved through it."""

from __future__ import annotations

import errno

import pytest

from flashstack import stores
from flashstack.errors import InvalidArgument, NotFound
from flashstack.stores import Detection, StoreKind, registry, report

from .conftest import area_of, view_of


def test_builtin_kinds_in_detection_order():
    assert stores.names() == ["erased", "mcuboot", "zephyr-zms", "alios-kv", "zephyr-nvs", "llkernel",
                             "littlefs", "raw"]


@pytest.mark.parametrize("alias, name", [("kv", "alios-kv"), ("nvs", "zephyr-nvs"), ("file", "raw"),
                                         ("feature", "llkernel"), ("zephyr-settings", "zephyr-nvs")])
def test_lookup_by_alias(alias, name):
    assert stores.lookup(alias).name == name


def test_lookup_unknown_names_the_known_kinds():
    with pytest.raises(NotFound) as e:
        stores.lookup("fatfs")
    assert e.value.errno == errno.ENOENT and "alios-kv" in str(e.value) and "'fatfs'" in str(e.value)


def test_register_refuses_a_taken_alias(monkeypatch):
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    monkeypatch.setattr(registry, "_ALIASES", dict(registry._ALIASES))

    class Clash(StoreKind):
        name = "clash"
        aliases = ("kv",)

        def detect(self, view):
            return None

        def describe(self, view, hint, details):
            return None
    with pytest.raises(InvalidArgument) as e:
        stores.register(Clash())
    assert "'kv'" in str(e.value) and "alios-kv" in str(e.value)


def test_kv_detection_reads_block_size_and_count(kv_area):
    d = stores.lookup("alios-kv").detect(view_of(kv_area))
    assert d.params == {"block_size": 0x1000, "total_size": 0x4000}
    assert d.sources["block_size"] == "block headers"


def test_nvs_detection_finds_data_crc(nvs_crc_area):
    d = stores.lookup("zephyr-nvs").detect(view_of(nvs_crc_area))
    assert d.params["sector_size"] == 0x1000 and d.params["data_crc"] is True


def test_nvs_report_without_hint_strips_the_data_crc(nvs_crc_area):
    rep = stores.lookup("zephyr-nvs").describe(view_of(nvs_crc_area), None, False)
    assert rep["nvs"]["items"] == {"1": b"one".hex(), "16": "0102"}
    assert rep["nvs"]["config"]["data_crc"] is True


def test_llkernel_detection_reads_n_and_slot_size(llk_area):
    d = stores.lookup("llkernel").detect(view_of(llk_area))
    assert d.params["max_features"] == 8 and d.params["slot_size"] == 0x2000
    assert d.params["kf_start"] == 0x90000000


def test_detect_all_ranks_the_kind_present(kv_area, nvs_crc_area):
    assert [d.kind for d in stores.detect_all(view_of(kv_area))] == ["alios-kv"]
    assert [d.kind for d in stores.detect_all(view_of(nvs_crc_area))] == ["zephyr-nvs"]
    assert [d.kind for d in stores.detect_all(view_of(area_of(0x2000)))] == ["erased"]


def test_open_readonly_never_writes(kv_area):
    before = kv_area.read(0, kv_area.size)
    st = stores.lookup("alios-kv").open(kv_area, {"block_size": 0x1000, "total_size": 0x4000}, writable=False)
    st.mount()
    st.set("new", b"x")
    assert kv_area.read(0, kv_area.size) == before


def _fake_kind(**attrs):
    class Fake(StoreKind):
        name = "fake-fs"
        title = "fake"
        order = 45

        def detect(self, view):
            if view.data[:4] != b"FAKE":
                return None
            return Detection(self.name, 0.9, {"n": view.data[4]}, {"n": "header"})

        def describe(self, view, hint, details):
            d = self.detect(view)
            return None if d is None else report(self.name, f"fake with n={d.params['n']}")
    for k, v in attrs.items():
        setattr(Fake, k, v)
    return Fake()


@pytest.fixture
def fake_registered(monkeypatch):
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    monkeypatch.setattr(registry, "_ALIASES", dict(registry._ALIASES))
    kind = _fake_kind(provider="flashstack.build.providers.raw:ErasedProvider",
                      targets={"fake": "flashstack.torture.targets.kv:KVTarget"})
    stores.register(kind)
    return kind


def test_a_new_kind_is_found_by_inspect(fake_registered):
    from flashstack.inspect import identify, kinds
    area = area_of(0x2000, image=b"FAKE\x07" + b"\0" * (0x2000 - 5))
    rep = identify(view_of(area))
    assert rep["kind"] == "fake-fs" and rep["summary"] == "fake with n=7"
    assert "fake-fs" in kinds()


def test_a_new_kind_is_a_build_type_and_torture_target(fake_registered):
    from flashstack.build.providers import providers
    from flashstack.torture.targets import store_kind, targets
    assert providers()["fake-fs"] == fake_registered.provider
    assert "fake" in targets() and store_kind("fake") is fake_registered


def test_build_types_and_targets_come_from_the_registry():
    from flashstack.build.providers import providers
    from flashstack.torture.targets import targets
    assert set(providers()) == {"erased", "mcuboot", "zephyr-zms", "alios-kv", "zephyr-nvs", "llkernel",
                                "littlefs", "file"}
    assert set(targets()) == {"kv", "nvs", "settings", "llkernel", "zms", "settings-zms"}


def test_plan_refuses_a_unit_below_the_erase_page():
    from flashstack.plan import plan
    with pytest.raises(InvalidArgument) as e:
        plan("zephyr-nvs", chip="w25q64jv", unit_size=0x400, sample_writes=10)
    assert "0x400" in str(e.value) and "erase page 0x1000" in str(e.value)


def test_plan_refuses_a_kv_block_that_is_no_power_of_two():
    from flashstack.plan import plan
    with pytest.raises(InvalidArgument):
        plan("alios-kv", chip="w25q64jv", unit_size=0x3000, sample_writes=10)


def test_plan_for_a_board_partition_uses_its_size():
    from click.testing import CliRunner

    from flashstack.cli.app import cli
    r = CliRunner().invoke(cli, ["plan", "--store", "zephyr-nvs", "-b", "flashstack-demo", "-p",
                                 "storage_partition", "--keys", "5", "--samples", "50", "--json"])
    assert r.exit_code == 0, r.output
    import json
    data = json.loads(r.stdout)
    assert max(c["size"] for c in data["candidates"]) <= 0x2000 and data["erase_page"] == 0x1000
