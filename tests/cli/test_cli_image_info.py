"""flashstack.image_info.area_info / map_info on flash maps built in code."""

import hashlib

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea, FlashMap
from flashstack.image_info import area_info, map_info


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
