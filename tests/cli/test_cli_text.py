"""Keys and names print as text, never as Python bytes reprs (issue 10): in error messages
and in tables, with non-printable bytes escaped as \\xNN."""

import pytest

from flashstack.device import SimulatedFlash
from flashstack.errors import NotFound, printable, quoted
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig, KVStore


@pytest.mark.parametrize("value, text", [
    (b"nosuchkey", "nosuchkey"),
    ("nosuchkey", "nosuchkey"),
    (b"a\x01b", "a\\x01b"),
    (b"\xc3(", "\\xc3("),              # not UTF-8
    ("\x01\udcc3(", "\\x01\\xc3("),      # argv bytes kept by surrogateescape
    ("caf\u00e9", "caf\u00e9"),
    (b"\xff\x00", "\\xff\\x00"),
    (7, "7"),
])
def test_printable_escapes_what_a_terminal_cannot_show(value, text):
    assert printable(value) == text
    assert quoted(value) == f"'{text}'"


def test_kv_errors_name_the_key_as_text():
    dev = SimulatedFlash(8192, erase_page_size=4096, allow_double_writes=True)
    store = KVStore(FlashArea(0, 0, 8192, dev), KVConfig(total_size=8192, block_size=4096))
    store.mount()
    with pytest.raises(NotFound) as exc:
        store.get(b"nosuchkey")
    assert "'nosuchkey'" in str(exc.value) and "b'" not in str(exc.value)
    with pytest.raises(NotFound) as exc:
        store.get(b"a\x01")
    assert "'a\\x01'" in str(exc.value)


def test_cli_prints_keys_as_text(run, demo_img):
    line = run.error("kv", "get", "--image", demo_img, "nosuchkey")
    assert "'nosuchkey'" in line and "b'" not in line
    run("kv", "set", "--image", demo_img, "a\x01b", "v")
    out = run("kv", "list", "--image", demo_img).stdout
    assert "a\\x01b" in out and "\x01" not in out and "b'" not in out
    run("kv", "set", "--image", demo_img, "\udcc3k", "v")   # an undecodable argv byte round-trips
    assert "\\xc3k" in run("kv", "list", "--image", demo_img).stdout
