"""Sizing .fo files (spec §15) on ELF files the tests make: a writer with a real .fo's section
names and types (the documentation's worked example), and a gcc object renamed with objcopy."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from flashstack.errors import InvalidArgument
from flashstack.llkernel.fo import largest_n, plan_fit, size_fo, slot_size_for

MIB4 = 0x400000


def test_llkernel_fo_doc_example(make_fo, tmp_path):
    fo = size_fo(make_fo(tmp_path / "app.fo"))
    kinds = {s.name: s.kind for s in fo.sections}
    assert kinds[".soar.rel"] == "metadata" and kinds[".bss.soar.feature"] == "ram"
    assert kinds[".rodata"] == kinds[".rodata.microej.resources"] == "rom"
    assert kinds[".symtab"] == kinds[".strtab"] == kinds[".shstrtab"] == "metadata"
    assert fo.rom == 0x7A9F4 == 502_260
    assert fo.rom_upper == 0x7AA42 == 502_338
    assert fo.ram == 0x50 and fo.ram_upper == 0x57
    assert fo.code_chunk == 0x1974 and not fo.chunk_too_large
    meta = sum(s.size for s in fo.sections if s.kind == "metadata")
    assert fo.metadata == meta and 0xCC0 <= meta <= 0xD40
    assert fo.slot_needed == 502_370
    assert (fo.elfclass, fo.little_endian) == (32, True)
    # 123 subsectors needed: N <= 8 in a 4 MiB region; the default N = 16 does not fit.
    assert slot_size_for(MIB4, 8) == 512 * 1024 and fo.fits(slot_size_for(MIB4, 8))
    assert not fo.fits(slot_size_for(MIB4, 16)) and not fo.fits(slot_size_for(MIB4, 9))
    assert largest_n([fo], MIB4) == 8


def test_llkernel_fo_bounds_and_chunk(make_fo, tmp_path):
    secs = [(".rodata", 1, 0x6, 70_000, 16), (".rodata.microej.resources", 1, 0x2, 100, 64),
            (".bss.soar.feature", 8, 0x3, 1000, 8), (".bss.soar.feature2", 8, 0x3, 1, 1),
            (".soar.rel", 0x70000000, 0, 300, 4)]
    fo = size_fo(make_fo(tmp_path / "big.fo", secs, elfclass=64))
    assert fo.elfclass == 64
    assert (fo.rom, fo.rom_upper) == (70_100, 70_100 + 15 + 63)
    assert (fo.ram, fo.ram_upper) == (1001, 1001 + 7)
    assert fo.chunk_too_large and fo.code_chunk == 65_536
    assert size_fo(tmp_path / "big.fo", chunk_size=80_000).chunk_too_large is False


def test_llkernel_fo_plan(make_fo, tmp_path):
    small = [(".rodata", 1, 0x6, 3000, 16), (".bss.soar.feature", 8, 0x3, 300, 8)]
    a = size_fo(make_fo(tmp_path / "a.fo", small))
    b = size_fo(make_fo(tmp_path / "b.fo"))          # the 490 KiB example
    p = plan_fit([a, a, a], 0x10000, 4, ram_size=1024)
    assert p["slot_size"] == 0x4000 and p["slots_used"] == 3
    # RAM upper 307 each: 0, align_next(307) = 512, align_next(819) = 1024 -> first fit fails
    assert [r["ram_offset"] for r in p["features"]] == [0, 512, None]
    assert not p["fits_all"] and p["largest_n"] == 16
    p2 = plan_fit([a, b], MIB4, 16)
    assert [r["fits_slot"] for r in p2["features"]] == [True, False] and not p2["fits_all"]
    assert p2["largest_n"] == 8
    p3 = plan_fit([a, b], MIB4, 8)
    assert p3["fits_all"] and p3["ram_span"] == 512 + 0x57  # a: 0..307, b: align_next(307)
    assert not plan_fit([a] * 5, 0x10000, 4)["fits_all"]          # more files than slots


def test_llkernel_fo_not_elf(tmp_path):
    p = tmp_path / "x.fo"
    p.write_bytes(b"not an elf at all" * 10)
    with pytest.raises(InvalidArgument, match="x.fo"):
        size_fo(p)


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("objcopy")),
                    reason="needs gcc and objcopy (the writer-based tests cover the same rules)")
def test_llkernel_fo_from_gcc_object(tmp_path):
    src = tmp_path / "feature.c"
    src.write_text("const unsigned char resources[3000] = {1, 2, 3};\n"
                   "static unsigned char statics[80];\n"
                   "int feature_main(int x) { statics[x & 63] = (unsigned char)x;"
                   " return resources[x] + statics[x & 7]; }\n")
    obj = tmp_path / "feature.o"
    subprocess.run(["gcc", "-c", "-O1", "-fno-asynchronous-unwind-tables", "-fno-pic", "-o", str(obj),
                    str(src)], check=True, capture_output=True)
    fo_path = tmp_path / "feature.fo"
    subprocess.run(["objcopy", "--rename-section", ".rodata=.rodata.microej.resources",
                    "--rename-section", ".text=.rodata", "--rename-section", ".bss=.bss.soar.feature",
                    "--remove-section", ".comment", "--remove-section", ".note.GNU-stack",
                    "--remove-section", ".note.gnu.property", str(obj), str(fo_path)],
                   check=True, capture_output=True)
    fo = size_fo(fo_path)
    by = {s.name: s for s in fo.sections}
    assert by[".rodata.microej.resources"].kind == "rom" and by[".rodata.microej.resources"].size >= 3000
    assert by[".bss.soar.feature"].kind == "ram" and by[".bss.soar.feature"].size == 80
    assert by[".rodata"].kind == "rom" and by[".rodata"].size > 0
    rom_secs = [s for s in fo.sections if s.kind == "rom"]
    assert fo.rom == sum(s.size for s in rom_secs)
    assert fo.rom_upper == sum(s.size + max(s.align, 1) - 1 for s in rom_secs if s.size)
    assert fo.ram == 80 and fo.code_chunk == by[".rodata"].size
    assert any(s.kind == "metadata" and s.name.startswith(".rela") for s in fo.sections)


def test_llkernel_fo_rom_image_is_rom_sections_aligned_in_file_order(tmp_path, make_fo):
    from flashstack.llkernel.fo import read_fo, rom_image
    secs = [(".rodata", 1, 0x6, 3000, 16), (".soar.rel", 0x70000000, 0, 100, 4),
            (".bss.soar.feature", 8, 0x3, 300, 8), (".rodata.microej.resources", 1, 0x2, 500, 64)]
    path = make_fo(tmp_path / "small.fo", secs)
    pattern = lambda n: bytes(i & 0xFF for i in range(n))  # noqa: E731 (the writer's content)
    want = pattern(3000) + b"\0" * (-3000 % 64) + pattern(500)
    assert rom_image(path) == want
    size, rom = read_fo(path, chunk_size=1000)
    assert rom == want and size == size_fo(path, chunk_size=1000)
    assert size.rom <= len(rom) <= size.rom_upper and size.chunk_too_large


def test_llkernel_fo_transfer_buffer(make_fo, tmp_path):
    """LLK-25: the stream buffer is kf.link.transferbuffer.size (default 512), reported beside the
    code chunk buffer; buffer sizes below 1 byte are EINVAL naming the file."""
    from flashstack.llkernel.fo import DEFAULT_TRANSFER_BUFFER, read_fo
    path = make_fo(tmp_path / "app.fo")
    fo = size_fo(path)
    assert DEFAULT_TRANSFER_BUFFER == 512 and fo.transfer_buffer == 512
    d = fo.to_json()
    assert (d["transfer_buffer"], d["code_chunk"], d["chunk_size"]) == (512, 0x1974, 65_536)
    big = size_fo(path, transfer_buffer=4096, chunk_size=4096)
    assert (big.transfer_buffer, big.code_chunk, big.chunk_too_large) == (4096, 4096, True)
    assert read_fo(path, transfer_buffer=1024)[0].transfer_buffer == 1024
    for kw in ({"transfer_buffer": 0}, {"chunk_size": -1}):
        with pytest.raises(InvalidArgument, match="app.fo"):
            size_fo(path, **kw)
