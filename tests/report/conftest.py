"""Fixtures for the report tests: the demo build, a damaged copy and a hostile board."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

#: A board whose names are hostile markup, and one partition overlapping another.
HOSTILE_BOARD = """\
name = "evil<b>board</b>"

[[devices]]
name = "flash0"
size = 0x10000
erase_page_size = 0x1000
write_block_size = 1
base_address = 0x0

[[partitions]]
name = "<script>window.__pwned=1</script>"
offset = 0x0
size = 0x4000

[[partitions]]
name = "kv_partition"
offset = 0x4000
size = 0x2000

[[partitions]]
name = "overlapper_partition_with_a_very_long_name_that_goes_on_and_on_and_on_and_on_and_on"
offset = 0x5000
size = 0x2000
"""


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> Path:
    """The demo board's build folder (flash0.bin, qspi0.bin, image.hex, build.json)."""
    from flashstack.build import build

    out = tmp_path_factory.mktemp("report-demo") / "build"
    build(None, out)
    return out


@pytest.fixture
def demo_copy(demo_build, tmp_path) -> Path:
    """A private copy of the demo build a test may damage."""
    dst = tmp_path / "build"
    shutil.copytree(demo_build, dst)
    return dst


def damage_storage(build_dir: Path) -> None:
    """Flip bytes in the middle of the demo KV store's first record (storage_partition at
    0x1e000 of flash0): its CRC no longer matches."""
    img = bytearray((build_dir / "flash0.bin").read_bytes())
    for off in range(0x1e000 + 10, 0x1e000 + 14):
        img[off] ^= 0x5A
    (build_dir / "flash0.bin").write_bytes(bytes(img))


@pytest.fixture
def hostile(tmp_path) -> tuple[Path, Path]:
    """``(board TOML, image)``: hostile partition names, an overlap, and a KV store whose
    keys are markup, a very long name and invalid UTF-8."""
    from flashstack.board import load_board
    from flashstack.kv import KVConfig, KVStore

    toml = tmp_path / "evil.toml"
    toml.write_text(HOSTILE_BOARD)
    image = tmp_path / "flash0.bin"
    with pytest.warns(UserWarning, match="overlap"):
        board = load_board(str(toml))
    with board.open(images=None, allow_double_writes=True) as ob:
        area = ob.flash_map.find("kv_partition")
        area.erase(0, area.size)
        store = KVStore(area, KVConfig(total_size=0x2000, block_size=0x1000))
        store.mount()
        store.set(b"<script>window.__pwned=2</script>", b"<img src=x onerror=window.__pwned=3>")
        store.set(b"\xc3\x28\x80bad-utf8", b"\x80\x81")
        store.set(b"k" * 100, b"long")
        image.write_bytes(ob.devices["flash0"].snapshot())
    return toml, image


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file in ``folder``: a read must leave them all unchanged."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}
