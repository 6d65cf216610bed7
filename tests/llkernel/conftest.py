"""Fixtures for the llkernel tests: KF regions on simulated NOR flash."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.llkernel import FeatureStore

DATA = Path(__file__).resolve().parent.parent / "data" / "llkernel"
KF_START = 0x90000000
RAM_BASE = 0x20000000


def open_region(kf_size=0x10000, *, sub=4096, page=256, kf_start=KF_START, backing=None, image=None,
                **store_kw):
    """A (device, area, store) triple: the whole device is the KF partition at ``kf_start``."""
    dev = SimulatedFlash(kf_size, erase_page_size=sub, program_page_size=page, backing=backing,
                         name="qspi0")
    if image is not None:
        dev.restore(image)
    area = FlashArea(0, 0, kf_size, dev, label="kf_partition", node_labels=("kf_partition",),
                     address=kf_start)
    store_kw.setdefault("ram_base", RAM_BASE)
    return dev, area, FeatureStore(area, **store_kw)


@pytest.fixture(scope="session")
def region():
    """Factory: ``region(kf_size=..., max_features=..., ...) -> (device, area, store)``."""
    return open_region


def load_case(name: str) -> dict:
    with open(DATA / f"{name}.json") as f:
        return json.load(f)


def load_bin(name: str) -> bytes:
    with gzip.open(DATA / f"{name}.gz") as f:
        return f.read()


@pytest.fixture
def vectors():
    """Access to the copied reference vectors: ``.case(name)``, ``.bin(file)``, ``.index``."""
    class _V:
        index = json.loads((DATA / "index.json").read_text())["cases"]
        case = staticmethod(load_case)
        bin = staticmethod(load_bin)
    return _V


def write_fo(path, sections, elfclass=32):
    """Write a minimal little-endian relocatable ELF carrying ``sections``: a list of
    ``(name, sh_type, sh_flags, size, align)``. PROGBITS and other types get ``size`` bytes of
    content (a counting pattern), NOBITS none; ``.symtab``/``.strtab``/``.shstrtab`` are added."""
    import struct
    ehsize, shentsize = (52, 40) if elfclass == 32 else (64, 64)
    names = [s[0] for s in sections] + [".symtab", ".strtab", ".shstrtab"]
    shstr = b"\0"
    name_off = {}
    for n in names:
        name_off[n] = len(shstr)
        shstr += n.encode() + b"\0"
    symsize = 16 if elfclass == 32 else 24
    body = bytearray()
    headers = [(0, 0, 0, 0, 0, 0, 0, 0)]  # (name, type, flags, offset, size, link, align, entsize)

    def add(name, sh_type, flags, size, align, content, link=0, entsize=0):
        pad = (-(ehsize + len(body))) % max(align, 1)
        body.extend(b"\0" * pad)
        off = ehsize + len(body)
        body.extend(content)
        headers.append((name_off[name], sh_type, flags, off, size, link, align, entsize))

    for name, sh_type, flags, size, align in sections:
        content = b"" if sh_type == 8 else bytes(i & 0xFF for i in range(size))
        add(name, sh_type, flags, size, align, content)
    strtab_index = len(headers) + 1
    add(".symtab", 2, 0, symsize, 4, b"\0" * symsize, link=strtab_index, entsize=symsize)
    add(".strtab", 3, 0, 1, 1, b"\0")
    add(".shstrtab", 3, 0, len(shstr), 1, shstr)
    body.extend(b"\0" * ((-(ehsize + len(body))) % 8))
    shoff = ehsize + len(body)
    ident = b"\x7fELF" + bytes([1 if elfclass == 32 else 2, 1, 1]) + b"\0" * 9
    if elfclass == 32:
        eh = ident + struct.pack("<HHIIIIIHHHHHH", 1, 40, 1, 0, 0, shoff, 0, ehsize, 0, 0,
                                 shentsize, len(headers), len(headers) - 1)
        sh = b"".join(struct.pack("<IIIIIIIIII", n, t, f, 0, o, s, l, 0, a, e)
                      for n, t, f, o, s, l, a, e in headers)
    else:
        eh = ident + struct.pack("<HHIQQQIHHHHHH", 1, 183, 1, 0, 0, shoff, 0, ehsize, 0, 0,
                                 shentsize, len(headers), len(headers) - 1)
        sh = b"".join(struct.pack("<IIQQQQIIQQ", n, t, f, 0, o, s, l, 0, a, e)
                      for n, t, f, o, s, l, a, e in headers)
    with open(path, "wb") as f:
        f.write(eh + bytes(body) + sh)
    return path


#: The documentation's worked example (multiSandbox.rst ``readelf -WS`` table); .soar.rel sized
#: so that the metadata is about 0xCD8 bytes.
DOC_EXAMPLE = [(".soar.rel", 0x70000000, 0, 0xC80, 4),
               (".bss.soar.feature", 8, 0x3, 0x50, 8),
               (".rodata.microej.resources", 1, 0x2, 0x79080, 64),
               (".rodata", 1, 0x6, 0x1974, 16)]


@pytest.fixture(scope="session")
def make_fo():
    """Factory ``make_fo(path, sections=DOC_EXAMPLE, elfclass=32) -> path``."""
    def make(path, sections=DOC_EXAMPLE, elfclass=32):
        return write_fo(path, sections, elfclass)
    return make
