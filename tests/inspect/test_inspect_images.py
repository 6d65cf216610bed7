"""Loading images for inspect: raw files by device name or order, padding, HEX windows, errors."""

from __future__ import annotations

import pytest

from flashstack.board import load_board
from flashstack.build import build
from flashstack.errors import InvalidArgument, NotFound
from flashstack.inspect import inspect_images, load_images, scan_file


@pytest.fixture(scope="module")
def demo_images():
    return build(None, None).images


def test_raw_by_name_order_and_padding(tmp_path, demo_images):
    board = load_board("flashstack-demo")
    (tmp_path / "qspi0.bin").write_bytes(demo_images["qspi0"])
    (tmp_path / "dump.bin").write_bytes(demo_images["flash0"][:0x30000])   # a partial dump
    images, notes = load_images(board, [tmp_path / "dump.bin", tmp_path / "qspi0.bin"])
    assert images["qspi0"] == demo_images["qspi0"]
    assert images["flash0"][:0x30000] == demo_images["flash0"][:0x30000]
    assert images["flash0"][0x30000:] == b"\xff" * (0x100000 - 0x30000)
    assert any("dump.bin" in n and "erased" in n for n in notes)


def test_missing_device_is_absent_and_noted(tmp_path, demo_images):
    """One dump of a two-device board: the other device's partitions are "absent", never
    "erased", and not compared with the build record."""
    (tmp_path / "flash0.bin").write_bytes(demo_images["flash0"])
    report = inspect_images([tmp_path / "flash0.bin"], board="flashstack-demo")
    assert "no image for device qspi0: its partitions are not inspected" in report["notes"]
    assert list(report["images"]) == ["flash0"]
    parts = {p["partition"]: p for p in report["partitions"]}
    assert parts["storage_partition"]["kind"] == "alios-kv"
    for name in ("kf_partition", "lfs_partition"):
        assert parts[name]["kind"] == "absent" and parts[name]["sha256"] is None
        assert parts[name]["summary"] == "no image for device qspi0"


def test_missing_device_is_not_compared_with_the_record(tmp_path, demo_images):
    out = tmp_path / "build"
    build(None, out)
    (out / "qspi0.bin").unlink()
    images, notes = load_images(load_board("flashstack-demo"), [out])
    assert list(images) == ["flash0"] and any("qspi0" in n for n in notes)
    parts = {p["partition"]: p for p in inspect_images([out / "flash0.bin"])["partitions"]}
    assert parts["storage_partition"]["matches_build"] is True
    assert parts["lfs_partition"]["kind"] == "absent" and "matches_build" not in parts["lfs_partition"]
    assert parts["kf_partition"]["kind"] == "absent" and "matches_build" not in parts["kf_partition"]


def test_image_errors(tmp_path, demo_images):
    board = load_board("flashstack-demo")
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (0x100000 + 1))
    with pytest.raises(InvalidArgument, match="larger than device flash0"):
        load_images(board, [big])
    files = []
    for i in range(3):
        files.append(tmp_path / f"d{i}.bin")
        files[-1].write_bytes(b"\xff" * 16)
    with pytest.raises(InvalidArgument, match="more images than devices"):
        load_images(board, files)
    with pytest.raises(NotFound):
        load_images(board, [tmp_path / "missing.bin"])


def test_hex_outside_every_device(tmp_path):
    import intelhex
    ih = intelhex.IntelHex()
    ih.frombytes(b"\x01\x02", offset=0x20000000)
    path = tmp_path / "ram.hex"
    ih.write_hex_file(str(path))
    with pytest.raises(InvalidArgument, match="0x20000000.*lies in no device window"):
        load_images(load_board("flashstack-demo"), [path])


def test_boardless_hex_reports_absolute_addresses(tmp_path, examples_hex):
    report = scan_file(examples_hex)
    assert report["base_address"] == 0x08000000
    assert [(m["address"], m["version"]) for m in report["mcuboot"]] == [
        (0x08020000, "1.2.3+0"), (0x08060000, "1.3.0+0")]


@pytest.fixture
def examples_hex(tmp_path):
    from pathlib import Path
    manifest = Path(__file__).resolve().parents[2] / "examples" / "nucleo_f429zi" / "manifest.toml"
    build(manifest, tmp_path / "nucleo")
    return tmp_path / "nucleo" / "image.hex"


def test_boardless_littlefs_pair_counted_once(demo_images):
    from flashstack.inspect import scan_image
    report = scan_image(demo_images["qspi0"])
    assert [(s["offset"], s["block_size"], s["block_count"], s["files"]) for s in report["littlefs"]] == [
        (0x400000, 4096, 3072, 3)]
    assert report["kv_stores"] == [] and report["llkernel_slots"] == []


def test_empty_hex_is_an_error(tmp_path):
    path = tmp_path / "empty.hex"
    path.write_text(":00000001FF\n")
    with pytest.raises(InvalidArgument, match="holds no data"):
        scan_file(path)


def test_a_bad_build_record_is_named(tmp_path, demo_images):
    (tmp_path / "flash0.bin").write_bytes(demo_images["flash0"])
    (tmp_path / "build.json").write_text("{not json")
    with pytest.raises(InvalidArgument, match=r"build record .*build\.json: not valid JSON"):
        inspect_images([tmp_path / "flash0.bin"])
    (tmp_path / "build.json").write_text("[]")
    with pytest.raises(InvalidArgument, match="not a JSON object"):
        inspect_images([tmp_path / "flash0.bin"])
    with pytest.raises(NotFound, match="missing.json"):
        inspect_images([tmp_path / "flash0.bin"], record=tmp_path / "missing.json")


def test_boardless_hex_far_apart_is_scanned_by_window(tmp_path, monkeypatch):
    """Internal flash at 0x0 and QSPI at 0x90000000 in one HEX: the 2.3 GiB between them is
    never materialised; offsets (= addresses, base 0) and size are those of the whole span."""
    import intelhex

    from flashstack.inspect import scan
    out = tmp_path / "demo"
    build(None, out)
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "image.hex").write_bytes((out / "image.hex").read_bytes())
    monkeypatch.setattr(scan, "scan_image", lambda *a, **k: pytest.fail("the whole span was scanned"))
    report = scan_file(lone / "image.hex")
    ih = intelhex.IntelHex(str(lone / "image.hex"))
    assert report["base_address"] == 0 and report["size"] == ih.maxaddr() + 1 > 0x90400000
    # the littlefs's erased last blocks are not in the HEX: read as erased, it still mounts
    assert [(s["offset"], s["block_size"], s["files"]) for s in report["littlefs"]] == [(0x90400000, 4096, 3)]
    assert [(g["offset"], g["block_size"], g["blocks"]) for g in report["kv_stores"]] == [(0x1e000, 4096, 2)]
    assert [m["offset"] for m in report["mcuboot"]] == [0x20000]
    programmed = [a for a in ih.addresses() if ih[a] != 0xFF]
    assert report["bytes"]["first_non_erased"] == programmed[0] == 0
    assert report["bytes"]["last_non_erased"] == programmed[-1]
    assert report["bytes"]["erased_bytes"] == report["size"] - len(programmed)


def test_hex_windows_report_as_the_filled_span(monkeypatch, examples_hex):
    """Split into windows (a tiny gap limit) or scanned as one filled buffer: the same report."""
    from flashstack.inspect import scan
    whole = scan_file(examples_hex)
    monkeypatch.setattr(scan, "HEX_WINDOW_GAP", 0x100)
    split = scan_file(examples_hex)
    for key in ("size", "sha256", "base_address", "kv_blocks", "kv_stores", "llkernel_slots", "littlefs",
                "mcuboot", "summary"):
        assert split[key] == whole[key], key
    for key in ("first_non_erased", "last_non_erased", "erased_bytes", "size"):
        assert split["bytes"][key] == whole["bytes"][key], key
