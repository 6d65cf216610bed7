"""The report's data: maps to scale, free gaps, overlaps, grids, wear and torture inputs."""

from __future__ import annotations

import json

import pytest

from flashstack.errors import InvalidArgument, NotFound
from flashstack.report.model import MAX_GRID_LINES, device_maps, load_torture, load_wear


def _board(parts, layout=((16, 4096),), size=0x10000, base=0x8000000):
    return {"devices": [{"name": "flash0", "size": size, "layout": [list(r) for r in layout],
                         "write_block_size": 4, "erase_value": 255, "base_address": base, "chip": None}],
            "partitions": [{"node_label": n, "offset": o, "size": s, "device": "flash0", "id": i,
                            "read_only": ro} for i, (n, o, s, ro) in enumerate(parts)]}


def test_partitions_and_free_gaps_cover_the_device_to_scale():
    (m,) = device_maps(_board([("a", 0x1000, 0x3000, True), ("b", 0x8000, 0x8000, False)]))
    assert [(b.kind, b.name, b.offset, b.size) for b in m.boxes] == [
        ("free", "(free)", 0, 0x1000), ("partition", "a", 0x1000, 0x3000),
        ("free", "(free)", 0x4000, 0x4000), ("partition", "b", 0x8000, 0x8000)]
    assert sum(b.width for b in m.boxes) == pytest.approx(100.0)
    a = m.boxes[1]
    assert a.left == pytest.approx(6.25) and a.width == pytest.approx(18.75)
    assert a.read_only and a.address == 0x8001000


def test_overlaps_are_named_on_both_sides():
    (m,) = device_maps(_board([("a", 0, 0x4000, False), ("b", 0x3000, 0x2000, False),
                               ("c", 0x5000, 0x1000, False)]))
    over = {b.name: b.overlaps for b in m.boxes if b.kind == "partition"}
    assert over == {"a": ["b"], "b": ["a"], "c": []}


def test_grid_every_page_when_few_run_boundaries_when_many():
    (few,) = device_maps(_board([], layout=((16, 4096),)))
    assert len(few.grid) == 15 and few.grid[0] == pytest.approx(100 / 16)
    # STM32F4-like: 4 x 16K, 1 x 64K, 7 x 128K; few pages, every boundary drawn
    (f4,) = device_maps(_board([], layout=((4, 16384), (1, 65536), (7, 131072)), size=0x100000))
    assert len(f4.grid) == 11 and f4.grid[3] == pytest.approx(100 * 65536 / 0x100000)
    many = MAX_GRID_LINES * 2
    (big,) = device_maps(_board([], layout=((many, 4096),), size=many * 4096))
    assert big.grid == [] and "too many" in big.grid_note


def test_health_and_kind_come_from_the_inspect_reports():
    (m,) = device_maps(_board([("a", 0, 0x4000, False)]),
                       [{"partition": "a", "health": "error", "kind": "alios-kv"}])
    box = next(b for b in m.boxes if b.name == "a")
    assert (box.health, box.content) == ("error", "alios-kv")


def test_wear_file_shapes(tmp_path):
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps({"device": "flash0", "erase_cycles": [0, 4, 2, 2]}))
    w = load_wear(dev)
    assert (w.device, w.max, w.mean, w.lifetime_years) == ("flash0", 4, 2.0, None)
    assert [c[2] for c in w.cells] == [0.0, 1.0, 0.5, 0.5]
    cand = tmp_path / "cand.json"
    cand.write_text(json.dumps({"page_cycles": [3, 5], "unit_size": 4096, "lifetime_years": 12.5}))
    w = load_wear(cand)
    assert (w.page_size, w.max, w.lifetime_years) == (4096, 5, 12.5)


@pytest.mark.parametrize("doc", ['{"erase_cycles": []}', '{"page_cycles": [1, -1]}', '[1, 2]',
                                 '{"erase_cycles": [1, true]}', '{"nothing": 1}', 'not json'])
def test_bad_wear_files_name_the_file(tmp_path, doc):
    p = tmp_path / "w.json"
    p.write_text(doc)
    with pytest.raises(InvalidArgument, match="w.json"):
        load_wear(p)


def test_wear_file_not_utf8_names_offset(tmp_path):
    p = tmp_path / "w.json"
    p.write_bytes(b'{"erase_cycles": [1]}\xff')
    with pytest.raises(InvalidArgument, match=r"w\.json.*offset 21"):
        load_wear(p)


def test_missing_inputs_are_enoent(tmp_path):
    with pytest.raises(NotFound):
        load_wear(tmp_path / "nope.json")
    with pytest.raises(NotFound):
        load_torture(tmp_path / "nope.json")


def test_torture_summary_counts_per_tear_and_failures(tmp_path):
    doc = {"target": "kv", "target_args": ["kv"], "workload": "mixed", "ops": 5, "seed": 1,
           "tried": {"clean": 10, "prefix": 10}, "failed": {"prefix": 1}, "ok": False,
           "failures": [{"index": 3, "tear": "prefix", "step": 2, "op": "set", "violations": ["lost k"],
                         "reproducer": "flashstack torture replay kv --cut 3 --tear prefix"}]}
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc))
    t = load_torture(p)
    assert t.rows == [("clean", 10, 0), ("prefix", 10, 1)] and t.cuts == 20 and not t.ok
    assert t.failures[0]["reproducer"].startswith("flashstack torture replay")
    p.write_text(json.dumps({"target": "kv"}))
    with pytest.raises(InvalidArgument, match="not a `flashstack torture --json` result"):
        load_torture(p)
