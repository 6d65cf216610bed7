"""Build outputs: UF2 checked block by block against the UF2 specification, Intel HEX and raw
bin, and the merge into an existing firmware HEX (``--base``)."""

from __future__ import annotations

import struct

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from flashstack.build import build
from flashstack.cli.app import cli
from flashstack.errors import InvalidArgument

intelhex = pytest.importorskip("intelhex")

BOARD = """name = "rpi_pico_factory"
[[devices]]
name = "flash0"
size = 0x200000
erase_page_size = 0x1000
write_block_size = 1
base_address = 0x10000000
[[partitions]]
name = "boot_partition"
offset = 0x0
size = 0x1000
[[partitions]]
name = "slot0_partition"
offset = 0x10000
size = 0x40000
[[partitions]]
name = "slot1_partition"
offset = 0x50000
size = 0x40000
[[partitions]]
name = "storage_partition"
offset = 0x1f0000
size = 0x2000
"""


def _manifest(tmp_path, formats='["bin", "hex", "uf2"]') -> str:
    (tmp_path / "board.toml").write_text(BOARD)
    (tmp_path / "boot2.bin").write_bytes(bytes(range(256)) * 3 + b"\x01")      # ends mid-page
    (tmp_path / "app.bin").write_bytes(b"application " * 500)
    text = (f'board = "board.toml"\n[output]\nformats = {formats}\n'
            '[partitions.boot_partition]\nfile = "boot2.bin"\n'
            '[partitions.slot0_partition]\ntype = "mcuboot"\nfile = "app.bin"\nsign = true\nversion = "1.0.0"\n'
            'state = "confirmed"\n'
            '[partitions.storage_partition]\ntype = "alios-kv"\nblock_size = 4096\n'
            '[partitions.storage_partition.items]\n"device.serial" = "U-1"\n')
    path = tmp_path / "manifest.toml"
    path.write_text(text)
    return str(path)


def _blocks(data: bytes) -> list[tuple]:
    """Decode and check every block against the UF2 specification (microsoft/uf2 README)."""
    assert len(data) % 512 == 0 and data
    out = []
    n = len(data) // 512
    for i in range(n):
        blk = data[i * 512:(i + 1) * 512]
        m0, m1, flags, addr, size, no, total, family = struct.unpack_from("<8I", blk)
        (end,) = struct.unpack_from("<I", blk, 508)
        assert (m0, m1, end) == (0x0A324655, 0x9E5D5157, 0x0AB16F30), i
        assert flags == 0x2000, i                                # familyID present, nothing else
        assert (no, total) == (i, n), i                          # blocks numbered 0..n-1 in order
        assert size == 256 and addr % 256 == 0, i
        assert blk[32 + size:508] == bytes(476 - size), i          # unused data bytes are zero
        out.append((addr, family, blk[32:32 + size]))
    addrs = [b[0] for b in out]
    assert addrs == sorted(set(addrs))                            # each page once, ascending
    return out


def test_uf2_block_by_block(tmp_path):
    out = tmp_path / "out"
    result = build(_manifest(tmp_path), out)
    flash = (out / "flash0.bin").read_bytes()
    blocks = _blocks((out / "image.uf2").read_bytes())
    assert {b[1] for b in blocks} == {0xE48BFF56}                 # RP2040 family, from the board name
    assert result.record["outputs"]["uf2"]["family_source"] == "board rpi_pico_factory"
    covered = set()
    for addr, _, payload in blocks:
        off = addr - 0x10000000
        assert payload == flash[off:off + 256]
        covered.add(off)
    for start, size in ((0x0, 0x1000), (0x10000, 0x40000), (0x1f0000, 0x2000)):  # built partitions whole
        assert set(range(start, start + size, 256)) <= covered
    assert 0x50000 not in covered                                 # slot1 has no content: untouched
    # the HEX holds the same bytes as the bin where it has data
    ih = intelhex.IntelHex(str(out / "image.hex"))
    for s, e in ih.segments():
        assert ih.tobinstr(start=s, end=e - 1) == flash[s - 0x10000000:e - 0x10000000]


@pytest.mark.parametrize("family,expect", [("rp2350-arm-s", 0xE48BFF59), ("rp2350-riscv", 0xE48BFF5A),
                                           ("0x12345678", 0x12345678)])
def test_uf2_family_given(tmp_path, family, expect):
    out = tmp_path / "out"
    build(_manifest(tmp_path, '["uf2"]'), out, uf2_family=family)
    assert {b[1] for b in _blocks((out / "image.uf2").read_bytes())} == {expect}


def test_uf2_family_unknown_board_refused(tmp_path):
    manifest = _manifest(tmp_path, '["uf2"]')
    (tmp_path / "board.toml").write_text(BOARD.replace("rpi_pico_factory", "custom"))
    with pytest.raises(InvalidArgument, match="uf2-family"):
        build(manifest, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _base_hex(tmp_path, overlap: bytes) -> str:
    ih = intelhex.IntelHex()
    ih.frombytes(b"zephyr-code" * 10, offset=0x10100000)           # elsewhere: kept
    ih.frombytes(overlap, offset=0x10000000)                        # overlaps the boot partition
    path = tmp_path / "zephyr.hex"
    ih.write_hex_file(str(path))
    return str(path)


def test_base_hex_merge_keeps_firmware_and_build(tmp_path):
    manifest = _manifest(tmp_path, '["hex", "uf2"]')
    base = _base_hex(tmp_path, bytes(range(256)))                  # same bytes as boot2.bin: allowed
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["build", manifest, "-o", str(out), "--base", base])
    assert run.exit_code == 0, run.output
    ih = intelhex.IntelHex(str(out / "image.hex"))
    assert ih.tobinstr(start=0x10100000, end=0x10100000 + 109) == (b"zephyr-code" * 10)[:110]
    assert ih.tobinstr(start=0x10000000, end=0x100002ff) == bytes(range(256)) * 3
    uf2 = {a: p for a, _, p in _blocks((out / "image.uf2").read_bytes())}
    assert uf2[0x10100000][:11] == b"zephyr-code"


def test_base_hex_differing_overlap_refused(tmp_path):
    manifest = _manifest(tmp_path, '["hex"]')
    base = _base_hex(tmp_path, b"\x00" * 16)
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["build", manifest, "-o", str(out), "--base", base])
    assert run.exit_code == 1
    assert "0x10000001" in run.output and "refusing" in run.output
    assert not out.exists()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 0x3000), st.binary(min_size=1, max_size=700)), max_size=6))
def test_uf2_round_trip_of_any_segments(raw):
    """Whatever segments (non-overlapping after trimming), the blocks follow UF2-1/UF2-2 and
    give back every byte at its address; bytes of a touched page not given read erased."""
    from flashstack.build._uf2 import uf2_bytes
    segs, taken = [], set()
    for addr, data in raw:
        span = set(range(addr, addr + len(data)))
        if span & taken:
            continue
        taken |= span
        segs.append((0x10000000 + addr, data))
    blob = uf2_bytes(segs, 0xE48BFF56)
    if not segs:
        assert blob == b""
        return
    mem = {}
    for addr, family, payload in _blocks(blob):
        assert family == 0xE48BFF56
        mem.update({addr + i: b for i, b in enumerate(payload)})
    for addr, data in segs:
        assert bytes(mem[addr + i] for i in range(len(data))) == data
    assert all(v == 0xFF for a, v in mem.items() if a - 0x10000000 not in taken)
