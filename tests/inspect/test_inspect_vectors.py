"""inspect decodes the final images of the reference cases (vectors/alios-kv, vectors/llkernel)
and reports exactly their expected contents."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.inspect import inspect_area, scan_image

DATA = Path(__file__).resolve().parents[1] / "data" / "inspect"


def vector_cases(kind: str) -> list[str]:
    return sorted(p.name[:-len(".json.gz")] for p in (DATA / kind).glob("*.json.gz"))


def load_vector(kind: str, name: str) -> tuple[dict, bytes]:
    case = json.loads(gzip.decompress((DATA / kind / f"{name}.json.gz").read_bytes()))
    image = gzip.decompress((DATA / kind / f"{name}.bin.gz").read_bytes())
    return case, image


@pytest.mark.parametrize("kind", ["alios-kv", "llkernel", "zephyr-nvs"])
def test_vector_cases_are_present(kind):
    """An empty parameter list would skip the tests below silently: the copies must be there."""
    cases = vector_cases(kind)
    assert len(cases) >= 5
    assert all((DATA / kind / f"{name}.bin.gz").is_file() for name in cases)


@pytest.mark.parametrize("name", vector_cases("alios-kv"))
def test_kv_final_image_items(name, make_area):
    case, image = load_vector("alios-kv", name)
    expect = [s for s in case["steps"] if s["op"] == "expect_all"][-1]["items"]
    report = inspect_area(make_area(image))
    assert report["kind"] == "alios-kv"
    geo = case["geometry"]
    assert report["kv"]["config"]["block_size"] == geo["block_size"]
    assert report["kv"]["config"]["total_size"] == geo["total_size"]
    assert report["kv"]["items"] == expect
    assert report["kv"]["stats"]["live_keys"] == len(expect)


@pytest.mark.parametrize("name", vector_cases("alios-kv"))
def test_kv_boardless_scan_finds_the_store(name):
    case, image = load_vector("alios-kv", name)
    expect = [s for s in case["steps"] if s["op"] == "expect_all"][-1]["items"]
    found = scan_image(image)
    geo = case["geometry"]
    assert [(g["offset"], g["block_size"], g["blocks"]) for g in found["kv_stores"]] == [
        (0, geo["block_size"], geo["total_size"] // geo["block_size"])]
    assert sorted(found["kv_stores"][0]["keys"]) == sorted(expect)
    assert [b["offset"] for b in found["kv_blocks"]] == list(range(0, geo["total_size"], geo["block_size"]))


def _expected_features(case: dict) -> list[tuple]:
    """(slot, handle, rom_address, rom_size, ram_address, ram_size, nb_subsectors) of the
    USED slots in the last header expectation (or the reading case's expect_features)."""
    feats = [s for s in case["steps"] if s["op"] == "expect_features"]
    if feats:
        return [(f["slot"], f["handle"] & 0xFFFFFFFF, f["rom_address"], f["rom_size"], f["ram_address"],
                 f["ram_size"], f["nb_subsectors"]) for f in feats[-1]["features"]]
    headers = [s for s in case["steps"] if s["op"] == "expect_headers"]
    if not headers:
        return []
    return [(h["slot"], h["address"], h["fields"]["rom_address"], h["fields"]["rom_size"],
             h["fields"]["ram_address"], h["fields"]["ram_size"], h["fields"]["nb_subsectors"])
            for h in headers[-1]["slots"] if h["state"] == "used"]


@pytest.mark.parametrize("name", vector_cases("llkernel"))
def test_llkernel_final_image_features(name, make_area):
    case, image = load_vector("llkernel", name)
    cfg = case["config"]
    report = inspect_area(make_area(image, cfg["subsector_size"], address=cfg["kf_start"]))
    expected = _expected_features(case)
    if not expected and image.count(0xFF) == len(image):
        assert report["kind"] == "erased"
        return
    assert report["kind"] == "llkernel"
    got = [(f["slot"], f["handle"], f["rom_address"], f["rom_size"], f["ram_address"], f["ram_size"],
            f["nb_subsectors"]) for f in report["llkernel"]["features"]]
    assert got == expected
    # slot geometry inferred from the headers (several features) matches the case
    if len({e[0] for e in expected}) >= 2:
        assert report["llkernel"]["config"]["max_features"] == cfg["max_features"]
        assert report["llkernel"]["config"]["slot_size"] == cfg["slot_size"]


@pytest.mark.parametrize("name", vector_cases("llkernel"))
def test_llkernel_hint_gives_exact_config(name, make_area):
    """With the configuration from a build record, the slot count is not guessed."""
    case, image = load_vector("llkernel", name)
    cfg = case["config"]
    hint = {"type": "llkernel", "config": {"kf_start": cfg["kf_start"], "max_features": cfg["max_features"],
                                           "ram_buffer_address": cfg["ram_buffer_address"],
                                           "ram_buffer_size": cfg["ram_buffer_size"]}}
    report = inspect_area(make_area(image, cfg["subsector_size"]), hint)
    assert report["kind"] == "llkernel"
    assert report["llkernel"]["config"]["max_features"] == cfg["max_features"]
    assert [f["slot"] for f in report["llkernel"]["features"]] == [e[0] for e in _expected_features(case)]


@pytest.mark.parametrize("name", [n for n in vector_cases("llkernel") if not n.startswith("fresh")])
def test_llkernel_boardless_scan_reports_slot_headers(name):
    case, image = load_vector("llkernel", name)
    found = scan_image(image)
    used = [s for s in found["llkernel_slots"] if s["status"] == "used"]
    expected = _expected_features(case)
    assert [(s["slot_address"], s["rom_size"], s["ram_size"]) for s in used] == [
        (e[1], e[3], e[5]) for e in expected]
    assert all(s["offset"] == s["slot_address"] - case["config"]["kf_start"] for s in used)


@pytest.mark.parametrize("name", vector_cases("zephyr-nvs"))
def test_nvs_final_image_items(name):
    """Zephyr NVS reference cases (vectors/zephyr-nvs): the sector size is detected and the
    live ids and values are exactly the case's final ``expect_all``."""
    case, image = load_vector("zephyr-nvs", name)
    geo = case["geometry"]
    dev = SimulatedFlash(len(image), erase_page_size=geo["erase_page_size"],
                         write_block_size=geo["write_block_size"], allow_double_writes=True, name="dev")
    dev.restore(image)
    report = inspect_area(FlashArea(0, 0, len(image), dev, label="storage"))
    assert report["kind"] == "zephyr-nvs"
    assert report["nvs"]["config"]["sector_size"] == geo["sector_size"]
    assert report["nvs"]["config"]["sector_count"] == geo["sector_count"]
    expect = [s for s in case["steps"] if s["op"] == "expect_all"][-1]["items"]
    assert report["nvs"]["items"] == expect
    assert report["health"] in ("ok", "warning")
