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


def test_missing_device_is_erased_and_noted(tmp_path, demo_images):
    (tmp_path / "flash0.bin").write_bytes(demo_images["flash0"])
    report = inspect_images([tmp_path / "flash0.bin"], board="flashstack-demo")
    assert "no image for device qspi0: treated as erased" in report["notes"]
    kinds = {p["partition"]: p["kind"] for p in report["partitions"]}
    assert kinds["storage_partition"] == "alios-kv" and kinds["lfs_partition"] == "erased"


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
    intelhex = pytest.importorskip("intelhex")
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
    pytest.importorskip("intelhex")
    from pathlib import Path
    manifest = Path(__file__).resolve().parents[2] / "examples" / "nucleo_f429zi" / "manifest.toml"
    build(manifest, tmp_path / "nucleo")
    return tmp_path / "nucleo" / "image.hex"


def test_boardless_littlefs_pair_counted_once(demo_images):
    pytest.importorskip("littlefs")
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
