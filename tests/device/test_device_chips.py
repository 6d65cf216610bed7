"""docs/device.md §8: built-in chip table (DEV-46, DEV-47) and the spiflash lookup
(§8.2, DEV-48), against the real spiflash 0.0.post251 database and against fakes for the
rules the database has no clean example of."""

from __future__ import annotations

import errno
import subprocess
import sys
import types
import warnings

import pytest

from flashstack.device import SimulatedFlash, chips
from flashstack.errors import InvalidArgument, NotFound, NotSupported

# --- built-in table ---------------------------------------------------------------------------

EXPECTED = {  # key: (jedec, size, layout runs, wbs, program page, multi-program, rated)
    "w25q128jv": ("ef4018", 16 << 20, ((4096, 4096),), 1, 256, True, 100_000),
    "w25q64jv": ("ef4017", 8 << 20, ((2048, 4096),), 1, 256, True, 100_000),
    "mx25r6435f": ("c22817", 8 << 20, ((2048, 4096),), 1, 256, True, 100_000),
    "mt25ql128": ("20ba18", 16 << 20, ((4096, 4096),), 1, 256, True, 100_000),
    "sst26vf064b": ("bf2643", 8 << 20, ((2048, 4096),), 1, 256, True, 100_000),
    "stm32f411xe": (None, 512 << 10, ((4, 16384), (1, 65536), (3, 131072)), 1, 4, True, 10_000),
    "stm32f407xg": (None, 1 << 20, ((4, 16384), (1, 65536), (7, 131072)), 1, 4, True, 10_000),
    "stm32f429xi": (None, 2 << 20, ((4, 16384), (1, 65536), (7, 131072)) * 2, 1, 4, True, 10_000),
    "stm32l475xg": (None, 1 << 20, ((512, 2048),), 8, 8, False, 10_000),
    "nrf52840": (None, 1 << 20, ((256, 4096),), 4, 4, True, 10_000),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_builtin_entries(key):
    c = chips.get(key)
    jedec, size, layout, wbs, pp, multi, rated = EXPECTED[key]
    assert (c.jedec_hex, c.size, c.layout, c.write_block_size, c.program_page_size,
            c.multi_program, c.rated_cycles, c.erase_value) == (jedec, size, layout, wbs, pp, multi, rated, 0xFF)
    assert sum(n * s for n, s in c.layout) == c.size
    dev = SimulatedFlash(chip=key)  # the timing covers every page size of the layout
    assert dev.size == size and dev.parameters.multi_program == multi
    spi = jedec is not None
    assert (c.timing.read_setup_us, c.timing.read_us_per_byte) == ((0.8, 0.16) if spi else (0, 0))


@pytest.mark.parametrize("spec", ["w25q128jv", "W25Q128JV", "Winbond W25Q128JV", "winbond w25q128jv",
                                  "ef4018", "EF4018", "0xEF4018", 0xEF4018, b"\xef\x40\x18"])
def test_get_by_key_name_and_jedec_forms(spec):
    assert chips.get(spec).key == "w25q128jv"


def test_get_unknown_lists_close_matches():
    with pytest.raises(LookupError) as ei:
        chips.get("w25q128")
    assert isinstance(ei.value, NotFound) and ei.value.errno == errno.ENOENT
    assert "w25q128jv" in str(ei.value)
    with pytest.raises(NotFound):
        chips.get(0x123456)


def test_chip_arguments_override():
    dev = SimulatedFlash(chip="w25q128jv", size=1 << 20, erase_page_size=4096, allow_double_writes=False,
                         name="ext")
    assert dev.size == 1 << 20 and not dev.parameters.multi_program
    assert dev.timing is chips.get("w25q128jv").timing and dev.program_page_size == 256
    dev = SimulatedFlash(chip="stm32l475xg")
    assert dev.write_block_size == 8 and not dev.allow_double_writes
    with pytest.raises(InvalidArgument, match="no erase time"):  # timing must fit the override
        SimulatedFlash(chip="w25q128jv", erase_page_size=65536)


def test_spiflash_is_not_imported_by_the_core():
    code = ("import sys, flashstack.device, flashstack.device.chips as c; c.get('ef4018'); "
            "SimulatedFlash = flashstack.device.SimulatedFlash; SimulatedFlash(chip='nrf52840'); "
            "print('spiflash' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- spiflash, real database -------------------------------------------------------------------

def test_spiflash_by_jedec_filters_nand():
    c = chips.from_spiflash("c22018")  # also the id of a Macronix SPI NAND
    assert c.part == "MX25L12805D" and c.size == 16 << 20 and c.source == "spiflash"
    assert c.layout == ((4096, 4096),)  # smallest uniform eraser, not the 64 KiB sector_size
    assert (c.write_block_size, c.multi_program, c.rated_cycles, c.erase_value) == (1, True, 100_000, 0xFF)


def test_spiflash_by_name_is_exact_and_takes_builtin_timing():
    c = chips.from_spiflash("mx25r6435f")  # find() also returns MX25U12835F (alias MX25R6435FM2IL0)
    assert c.jedec_hex == "c22817" and c.size == 8 << 20
    assert c.timing is chips.get("mx25r6435f").timing
    assert chips.from_spiflash(0xEF4018).layout == ((4096, 4096),)


def test_spiflash_ambiguous_name_lists_entries():
    with pytest.raises(InvalidArgument) as ei:
        chips.from_spiflash("MX25R6435FM2IL0")
    assert "MX25R6435F c22817" in str(ei.value) and "MX25U12835F c22538" in str(ei.value)


def test_spiflash_disagreeing_records_warn_and_smallest_wins():
    with pytest.warns(chips.ChipWarning, match=r"65536, 131072, 262144"):
        c = chips.from_spiflash("S25FL128S")
    assert c.layout == ((256, 65536),)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = chips.from_spiflash("S25FL128S", erase_page_size=262144)
        assert c.layout == ((64, 262144),)
        chips.from_spiflash("W25Q128JV")  # a record that only omits the 4 KiB eraser: no warning


def test_spiflash_unknown_and_lookup_order():
    with pytest.raises(NotFound):
        chips.from_spiflash("NOSUCHPART99")
    with pytest.raises(NotFound, match="not in the built-in table"):
        chips.lookup("nosuchpart99")
    assert chips.lookup("ef4018").source == "built-in"
    dev = SimulatedFlash(chip="XM25QH128C")  # only in spiflash
    assert dev.size == 16 << 20 and dev.layout.runs == ((4096, 4096),) and dev.timing is None


# --- spiflash rules on fakes --------------------------------------------------------------------

def fake_flash(name, size, erasers, page_size=256, typ="nor", id_=b"\x11\x22\x33", names=None, sfdp=None):
    blk = types.SimpleNamespace
    recs = [blk(erasers=[blk(opcode=op, blocks=tuple(blk(size=s, count=c) for s, c in blocks))
                         for op, blocks in rec]) for rec in erasers]
    return blk(name=name, names=tuple(names or (name,)), id_hex=id_.hex(), id=id_, size=size,
               page_size=page_size, type=typ, records=recs, sfdp=sfdp, sector_size=65536)


@pytest.fixture
def fake_db(monkeypatch):
    entries = []
    mod = types.SimpleNamespace(FlashType=types.SimpleNamespace(NOR="nor", NAND="nand"),
                                lookup=lambda jedec: [f for f in entries if f.id == jedec],
                                find=lambda name: list(entries))
    monkeypatch.setattr(chips, "_spiflash", lambda: mod)
    return entries


def test_fake_rules(fake_db):
    size = 1 << 20
    fake_db.append(fake_flash("NOERASE", size, [[(0xC7, [(size, 1)])]]))
    with pytest.raises(InvalidArgument, match="no uniform eraser"):
        chips.from_spiflash("NOERASE")
    fake_db[:] = [fake_flash("NOSIZE", None, [])]
    with pytest.raises(InvalidArgument, match="no size"):
        chips.from_spiflash("NOSIZE")
    # non-uniform erasers ignored; opcode None counts; no page size -> 256 with a warning
    fake_db[:] = [fake_flash("ODD", size, [[(0xD8, [(8192, 4), (32768, 1), (65536, 15)]),
                                           (None, [(32768, 32)])]], page_size=None)]
    with pytest.warns(chips.ChipWarning, match="no program page size"):
        c = chips.from_spiflash("odd")
    assert c.layout == ((32, 32768),) and c.program_page_size == 256 and c.timing is None
    # NAND entries are dropped; identical NOR geometry -> the first entry
    fake_db[:] = [fake_flash("N1", size, [[(0x20, [(4096, 256)])]], typ="nand"),
                  fake_flash("A1", size, [[(0x20, [(4096, 256)])]], names=("A1", "SAME")),
                  fake_flash("B1", size, [[(0x20, [(4096, 256)])]], names=("B1", "same"))]
    assert chips.from_spiflash("same").part == "A1"
    assert chips.from_spiflash("112233").part == "A1"
    # SFDP timing when the JEDEC id is not built in
    sfdp = types.SimpleNamespace(bfpt=types.SimpleNamespace(
        page_program_us=700, erase_types=(types.SimpleNamespace(size=4096, typical_us=40_000),)))
    fake_db[:] = [fake_flash("T1", size, [[(0x20, [(4096, 256)])]], sfdp=sfdp)]
    t = chips.from_spiflash("T1").timing
    assert (t.t_page_program_us, t.t_erase_us, t.read_setup_us) == (700, {4096: 40_000}, 0.8)


def test_missing_or_conflicting_spiflash(monkeypatch):
    monkeypatch.setitem(sys.modules, "spiflash", None)  # import fails
    with pytest.raises(NotSupported, match=r"'chips' extra") as ei:
        chips.from_spiflash("S25FL128S")
    assert ei.value.errno == errno.ENOSYS
    assert chips.get("ef4018").key == "w25q128jv"  # the built-in table needs nothing
    monkeypatch.setitem(sys.modules, "spiflash", types.ModuleType("spiflash"))  # pyspiflash
    with pytest.raises(NotSupported, match="pyspiflash"):
        chips.lookup("S25FL128S")
