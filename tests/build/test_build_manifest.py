"""Manifest schema: every problem is reported with the manifest file, partition and key."""

from __future__ import annotations

import pytest

from flashstack.build import ManifestError, decode_value, load_manifest, parse_manifest


def test_defaults_and_board_paths(tmp_path):
    m = parse_manifest({"board": "my.toml", "partitions": {"a": {"file": "x.bin"}, "b": {}}},
                       source="m.toml", base_dir=tmp_path)
    assert m.board == str(tmp_path / "my.toml")
    assert m.formats == ("bin",)
    assert [(e.label, e.type) for e in m.partitions] == [("a", "file"), ("b", "erased")]
    assert parse_manifest({}, base_dir=tmp_path).board == "flashstack-demo"
    assert parse_manifest({"board": "nucleo_f429zi"}, base_dir=tmp_path).board == "nucleo_f429zi"


def test_all_schema_problems_reported_together(tmp_path):
    raw = {"bord": "x", "output": {"formats": ["elf"]}, "devices": {"qspi0": {"base": 1}},
           "partitions": {"p": 3}}
    with pytest.raises(ManifestError) as exc:
        parse_manifest(raw, source="m.toml", base_dir=tmp_path)
    text = str(exc.value)
    assert exc.value.errno == 22
    assert len(exc.value.problems) == 4
    for fragment in ("unknown top-level key 'bord'", "formats", "device qspi0: unknown key 'base'",
                     "partition p: must be a table"):
        assert fragment in text
    assert all(p.startswith("m.toml:") for p in exc.value.problems)


def test_toml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("board = \n")
    with pytest.raises(ManifestError, match="bad.toml: not valid TOML"):
        load_manifest(path)


@pytest.mark.parametrize("value, expected", [
    ("text", b"text"), ({"text": "é"}, "é".encode()), ({"hex": "de:ad be_ef"}, b"\xde\xad\xbe\xef"),
    ({"hex": "0x0102"}, b"\x01\x02"), ({"u8": 3}, b"\x03"), ({"u16": 0x1234}, b"\x34\x12"),
    ({"u32": 1}, b"\x01\0\0\0"), ({"i8": -1}, b"\xff"), ({"u64": 2}, b"\x02" + b"\0" * 7),
])
def test_decode_value_forms(tmp_path, value, expected):
    assert decode_value(value, "where", tmp_path) == expected


def test_decode_value_file_and_errors(tmp_path):
    (tmp_path / "v.bin").write_bytes(b"\x00\x01")
    assert decode_value({"file": "v.bin"}, "w", tmp_path) == b"\x00\x01"
    for bad, msg in (({"file": "nope.bin"}, "not found"), ({"hex": "abc"}, "even number"),
                     ({"u8": 256}, "does not fit u8"), (5, "a value is a string"),
                     ({"hex": "00", "text": "a"}, "one-key table"), ({"float": 1}, "bad value")):
        with pytest.raises(ManifestError, match=msg) as exc:
            decode_value(bad, "m.toml: partition s, key 'items.k'", tmp_path)
        assert "partition s, key 'items.k'" in str(exc.value)
