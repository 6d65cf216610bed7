"""flashstack.board.images: area_info / map_info on flash maps built in code; image paths."""

import hashlib
import os

import pytest

from flashstack.board import load_board
from flashstack.device import SimulatedFlash
from flashstack.errors import InvalidArgument, NotFound
from flashstack.flash_map import FlashArea, FlashMap
from flashstack.board.images import (area_info, create_images, free_ranges, image_paths, map_info,
                                   unpartitioned_info)


def _map(erase_value=0xFF, layout=None):
    dev = SimulatedFlash(64 * 1024, erase_page_size=None if layout else 4096, layout=layout,
                         erase_value=erase_value, name="flash0")
    areas = [FlashArea(0, 0x0, 0x4000, dev, label="boot", node_labels=("boot_partition",),
                       read_only=True),
             FlashArea(1, 0x4000, 0x8000, dev, node_labels=("storage_partition",)),
             # starts mid-page: the first 0x800 bytes are no whole page of their own
             FlashArea(2, 0xC800, 0x3800, dev, label="tail")]
    return dev, FlashMap(areas)


def test_erased_image_reports_erased_everywhere():
    dev, fm = _map()
    infos = map_info(fm)
    assert [i.name for i in infos] == ["boot_partition", "storage_partition", "tail"]
    for i, a in zip(infos, fm):
        assert i.erased and i.first_used is None and i.used_bytes == 0 and i.used_end == 0
        assert i.sha256 == hashlib.sha256(b"\xff" * a.size).hexdigest()
        assert i.erased_pages == i.pages
    assert [i.pages for i in infos] == [4, 8, 3]


def test_programmed_bytes_first_last_and_pages():
    dev, fm = _map()
    storage = fm.by_id(1)
    storage.write(0x1003, b"\x00\x12\xff\x34")      # 0xff byte stays "erased"
    storage.write(0x5000, b"\xfe")
    i = area_info(storage)
    assert not i.erased
    assert i.first_used == 0x1003
    assert i.used_end == 0x5001
    assert i.used_bytes == 4                     # 00 12 34 fe
    assert (i.pages, i.erased_pages) == (8, 6)
    assert i.device == "flash0" and i.device_offset == 0x4000
    assert i.sha256 == hashlib.sha256(storage.read(0, storage.size)).hexdigest()
    # neighbours untouched
    assert area_info(fm.by_id(0)).erased and area_info(fm.by_id(2)).erased


def test_partial_leading_piece_counts_bytes_but_not_a_page():
    dev, fm = _map()
    dev.write(0xC800, b"\x01\x02")              # inside tail's leading half page
    i = area_info(fm.by_id(2))
    assert (i.first_used, i.used_end, i.used_bytes) == (0, 2, 2)
    assert (i.pages, i.erased_pages) == (3, 3)


def test_small_chunks_give_the_same_answer():
    dev, fm = _map()
    fm.by_id(1).write(0x7FFF, b"\x00")
    assert area_info(fm.by_id(1), chunk=7) == area_info(fm.by_id(1))


def test_erase_value_zero_and_non_uniform_pages():
    dev, fm = _map(erase_value=0x00, layout=[(4, 4096), (3, 16384)])
    fm.by_id(1).write(0x2000, b"\xff\x00\x01")
    i = area_info(fm.by_id(1))
    assert i.erase_value == 0 and i.used_bytes == 2 and i.first_used == 0x2000 and i.used_end == 0x2003
    # storage 0x4000..0xC000 holds the 16 KiB pages at 0x4000 (used) and 0x8000 (erased)
    assert (i.pages, i.erased_pages) == (2, 1)
    assert i.to_json()["sha256"] == i.sha256


# --- image_paths / create_images over real boards ------------------------------------------


def test_image_paths_rules(tmp_path):
    demo, sim = load_board("flashstack-demo"), load_board("native_sim")
    d = tmp_path / "img"
    assert image_paths(demo, d, must_exist=False) == {
        "flash0": os.path.join(d, "flash0.bin"), "qspi0": os.path.join(d, "qspi0.bin")}
    assert image_paths(sim, tmp_path / "sim.img", must_exist=False) == {"flash0": str(tmp_path / "sim.img")}
    assert image_paths(sim, f"{d}/", must_exist=False) == {"flash0": os.path.join(f"{d}/", "flash0.bin")}
    with pytest.raises(InvalidArgument, match="2 flash devices"):
        image_paths(demo, tmp_path / "demo.bin", must_exist=False)
    with pytest.raises(NotFound, match="no device nope"):  # the board's rule: an unknown name is ENOENT
        image_paths(demo, {"nope": "x.bin"}, must_exist=False)
    with pytest.raises(NotFound, match="image create"):
        image_paths(demo, d)


def test_create_images_is_all_or_nothing_about_existing_files(tmp_path):
    demo = load_board("flashstack-demo")
    paths = create_images(demo, tmp_path / "img")
    assert {k: os.path.getsize(v) for k, v in paths.items()} == {"flash0": 1 << 20, "qspi0": 16 << 20}
    os.remove(paths["qspi0"])
    with open(paths["flash0"], "r+b") as f:
        f.write(b"\x00")
    with pytest.raises(FileExistsError):
        create_images(demo, tmp_path / "img")
    assert not os.path.exists(paths["qspi0"])                 # nothing written on refusal
    create_images(demo, tmp_path / "img", overwrite=True)
    with open(paths["flash0"], "rb") as f:
        assert f.read(1) == b"\xff"


def test_free_ranges_with_gaps_nesting_and_other_devices():
    extents = [("a", 0x1000, 0x1000), ("a", 0x1000, 0x400), ("a", 0x1800, 0x1000),  # nested, overlap
               ("a", 0x4000, 0x1000), ("b", 0, 0x100), ("x", 0, 0x10)]               # x: not a device
    assert free_ranges(extents, {"a": 0x6000, "b": 0x100, "c": 0x200}) == [
        ("a", 0x0, 0x1000), ("a", 0x2800, 0x4000), ("a", 0x5000, 0x6000), ("c", 0x0, 0x200)]


def test_unpartitioned_info_finds_stray_data():
    dev, fm = _map()
    # _map covers 0..0xC000 and 0xC800..0x10000: the gap is 0xC000..0xC800
    (gap,) = unpartitioned_info(fm, {"flash0": dev})
    assert (gap.name, gap.id, gap.device_offset, gap.size, gap.erased) == (
        "(free 0xc000..0xc800)", None, 0xC000, 0x800, True)
    dev.write(0xC010, b"\x00\x00")
    (gap,) = unpartitioned_info(fm, {"flash0": dev})
    assert (gap.erased, gap.first_used, gap.used_bytes) == (False, 0x10, 2)
