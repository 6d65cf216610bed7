"""``flashstack nvs import`` is all or nothing and fails clearly on documents of the wrong
shape (fuzz finding nvs_import_cli.py): every case exits 1 with one line naming the file, and
the image stays byte-identical."""

from __future__ import annotations

import json

import pytest

from flashstack.cli.nvs_import import parse_import
from flashstack.errors import InvalidArgument

BAD = [
    ([1], "must be an object"),
    ({"items": True}, "'items' must be an object"),
    ({"items": "0a0b"}, "'items' must be an object"),
    ({"items": {"1": {"hex": 5}}}, "items.1: a value is"),
    ({"items": {"1": {"text": [1]}}}, "items.1: a value is"),
    ({"settings": {"a/b": {"hex": None}}}, "settings.a/b: a value is"),
    ({"items": {"zz": "01"}}, "items.zz: id 'zz' is not a number"),
    ({"items": {"0xffff": "01"}}, "outside 0..0xfffe"),
    ({"items": {"1": "0g"}}, "not whole bytes of hex"),
    ({"other": 1}, "no 'items' or 'settings'"),
    # valid shape, refused by the store after id 1 would have been written: nothing written
    ({"items": {"1": "0a0b0c"}, "settings": {"a" * 300: "01"}}, "setting name"),
]


@pytest.mark.parametrize("doc, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_failed_import_leaves_the_image(cli_run, nvs_img, tmp_path, doc, message):
    cli_run("nvs", "write", "--image", nvs_img, "-p", "storage_partition", "7", "--data", "kept")
    before = (nvs_img / "flash0.bin").read_bytes()
    src = tmp_path / "in.json"
    src.write_text(json.dumps(doc))
    line = cli_run.error("nvs", "import", "--image", nvs_img, "-p", "storage_partition", src)
    assert message in line and "internal error" not in line
    assert (nvs_img / "flash0.bin").read_bytes() == before


def test_non_utf8_and_broken_json_name_the_file_and_offset(tmp_path):
    with pytest.raises(InvalidArgument, match=r"in\.json: not UTF-8 \(byte 12"):
        parse_import(b'{"items": {"\xff": "01"}}', "in.json")
    with pytest.raises(InvalidArgument, match="in.json: not JSON .* line 2"):
        parse_import(b'{"items":\n x}', "in.json")


def test_import_then_export_round_trip(cli_run, nvs_img, tmp_path):
    src = tmp_path / "in.json"
    src.write_text(json.dumps({"items": {"0x10": "0102", "17": {"text": "hi"}},
                               "settings": {"bt/name": {"text": "dev"}}}))
    got = cli_run.json("nvs", "import", "--image", nvs_img, "-p", "storage_partition", src)
    assert got["written"] == 3
    listed = cli_run.json("nvs", "list", "--image", nvs_img, "-p", "storage_partition")["items"]
    assert listed["0x0010"] == "0102" and listed["0x0011"] == b"hi".hex()
    named = cli_run.json("nvs", "list", "--image", nvs_img, "-p", "storage_partition", "--settings")
    assert named["settings"]["bt/name"] == b"dev".hex()
