"""Input parsing and output helpers shared by every command (flashstack.cli.common)."""

import pytest

from flashstack.cli.common import hexdump, human_size, parse_int, parse_value
from flashstack.errors import InvalidArgument


@pytest.mark.parametrize("text, value", [
    ("0", 0), ("4096", 4096), ("0x1000", 4096), ("0X1e000", 0x1E000), ("4K", 4096),
    ("4k", 4096), ("4KiB", 4096), ("0x10K", 16 * 1024), ("1M", 1 << 20), ("12MiB", 12 << 20),
    ("1_000", 1000), (" 16 ", 16), (7, 7),
])
def test_parse_int_accepts_decimal_hex_and_suffixes(text, value):
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["", "0x", "12z", "ten", "0xg1", "1.5K", "--4"])
def test_parse_int_rejects_with_einval_naming_the_input(text):
    with pytest.raises(InvalidArgument) as exc:
        parse_int(text)
    assert exc.value.errno == 22
    assert repr(text) in str(exc.value)


def test_parse_value_sources(tmp_path):
    assert parse_value(text="hé") == "hé".encode()
    assert parse_value(hex="de ad:be_ef") == b"\xde\xad\xbe\xef"
    assert parse_value(hex="0x0102") == b"\x01\x02"
    f = tmp_path / "blob"
    f.write_bytes(b"\x00\xff" * 3)
    assert parse_value(file=str(f)) == b"\x00\xff" * 3


@pytest.mark.parametrize("kwargs", [{}, {"text": "a", "hex": "00"}, {"hex": "abc"}, {"hex": "zz"}])
def test_parse_value_errors(kwargs):
    with pytest.raises(InvalidArgument):
        parse_value(**kwargs)


def test_parse_value_missing_file_is_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        parse_value(file=str(tmp_path / "nope"))


def test_hexdump_layout_and_offsets():
    out = hexdump(bytes(range(0x41, 0x41 + 20)), 0x1000).splitlines()
    assert out[0] == ("00001000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  "
                      "|ABCDEFGHIJKLMNOP|")
    assert out[1].startswith("00001010  51 52 53 54 ")
    assert out[1].endswith("|QRST|")
    assert out[2] == "00001014"


def test_hexdump_collapses_repeats_but_keeps_last_line():
    data = b"\xff" * 64 + b"\x00" * 16
    out = hexdump(data, 0).splitlines()
    assert out[0].startswith("00000000  ff ff")
    assert out[1] == "*"
    assert out[2].startswith("00000040  00 00")
    assert out[3] == "00000050"
    # a run at the very end still shows its last line, so the end is visible
    out = hexdump(b"\xff" * 48, 0x20).splitlines()
    assert out == [out[0], "*", out[0].replace("00000020", "00000040"), "00000050"]


def test_hexdump_non_printable_bytes_are_dots():
    assert hexdump(b"\x00a\x7f\x80", 0).splitlines()[0].endswith("|.a..|")


def test_human_size():
    assert [human_size(n) for n in (100, 4096, 1536, 1 << 20, 12 << 20, 3 << 30)] == [
        "100 B", "4 KiB", "1.5 KiB", "1 MiB", "12 MiB", "3 GiB"]


def test_open_board_refuses_missing_images_and_passes_device_options(tmp_path):
    from flashstack.cli.common import open_board
    from flashstack.errors import DeviceIOError, NotFound

    kw = {"board": "flashstack-demo", "include_dir": (), "image": str(tmp_path / "img")}
    with pytest.raises(NotFound, match="image create"):
        open_board(kw)
    with open_board(kw, create=True) as ob:
        ob.area("storage_partition").write(0, b"\xf0")
        with pytest.raises(DeviceIOError):
            ob.area("storage_partition").write(0, b"\x0f")
    with open_board(kw, allow_double_writes=True) as ob:
        ob.area("storage_partition").write(0, b"\x0f")       # NOR AND: 0xf0 & 0x0f
        assert ob.area("storage_partition").read(0, 1) == b"\x00"
    with open_board({"board": "native_sim"}) as ob:           # no image: in memory
        assert ob.area("storage_partition").read(0, 2) == b"\xff\xff"
