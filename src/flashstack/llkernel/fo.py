"""Sizing a MicroEJ Feature file (``.fo``, an ELF) for a KF slot (docs/llkernel.md §15).

Upstream: MicroEJ docs ``VEEPortingGuide/multiSandbox.rst``, "Determining the Amount of
Required Memory". ROM = allocated sections with content (``.rodata.microej.resources``,
``.rodata``: PROGBITS, ALLOC), RAM = allocated NOBITS sections (``.bss.soar.feature``),
metadata = every non-allocated section (``.soar.rel``, symbol and string tables; they go to the
managed heap). The exact sizes the Core Engine passes to ``allocateFeature`` are not
documented, so each total comes as a lower bound (Σ size) and an upper bound
(Σ size + align − 1). The install also needs two Kernel buffers (LLK-25): the code chunk
buffer (``min(.rodata, featurecodechunk.size)``) and the stream (transfer) buffer
(``kf.link.transferbuffer.size``). Needs the ``elf`` extra (pyelftools), imported when a file
is read. Sizes are bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import InvalidArgument, NotSupported
from .config import DEFAULT_RAM_ALIGN, DEFAULT_RAM_SIZE, DEFAULT_SUBSECTOR, slot_size_for
from .header import HEADER_SIZE
from ._ram import place_ram

__all__ = ["FoSection", "FoSize", "DEFAULT_CODE_CHUNK", "DEFAULT_TRANSFER_BUFFER", "size_fo", "rom_image", "read_fo", "is_elf", "feature_input",
           "slot_size_for", "largest_n", "plan_fit"]

#: ``com.microej.soar.kernel.featurecodechunk.size`` default.
DEFAULT_CODE_CHUNK = 65_536
#: ``com.microej.runtime.kf.link.transferbuffer.size`` default.
DEFAULT_TRANSFER_BUFFER = 512
_SHF_ALLOC = 0x2


@dataclass(frozen=True)
class FoSection:
    """One ELF section: ``kind`` is ``"rom"``, ``"ram"`` or ``"metadata"``; ``sh_type`` the
    pyelftools type name (or hex for processor-specific types), ``flags`` ``sh_flags``,
    ``size`` and ``align`` in bytes."""

    name: str
    kind: str
    sh_type: str
    flags: int
    size: int
    align: int

    @property
    def upper(self) -> int:
        """``size + align - 1`` (worst-case padding before the section)."""
        return self.size + max(self.align, 1) - 1 if self.size else 0


@dataclass
class FoSize:
    """Totals of one ``.fo`` (bytes): ROM/RAM lower and upper bounds, metadata, and the two
    install buffers of LLK-25: :attr:`code_chunk`, from the Kernel option ``chunk_size``
    (``com.microej.soar.kernel.featurecodechunk.size``), and the stream buffer
    ``transfer_buffer`` the install reads the file through: the Kernel option
    ``com.microej.runtime.kf.link.transferbuffer.size`` itself (the spec ties it to no
    property of the file)."""

    path: str
    sections: list = field(default_factory=list)
    elfclass: int = 32
    little_endian: bool = True
    chunk_size: int = DEFAULT_CODE_CHUNK
    transfer_buffer: int = DEFAULT_TRANSFER_BUFFER

    def _sum(self, kind: str, upper: bool = False) -> int:
        return sum(s.upper if upper else s.size for s in self.sections if s.kind == kind)

    @property
    def rom(self) -> int:
        """ROM lower bound: Σ size of the allocated PROGBITS sections (LLK-25)."""
        return self._sum("rom")

    @property
    def rom_upper(self) -> int:
        """ROM upper bound: Σ (size + align − 1) of those sections (LLK-26)."""
        return self._sum("rom", True)

    @property
    def ram(self) -> int:
        """RAM lower bound: Σ size of the allocated NOBITS sections (LLK-25)."""
        return self._sum("ram")

    @property
    def ram_upper(self) -> int:
        """RAM upper bound: Σ (size + align − 1) of those sections (LLK-26)."""
        return self._sum("ram", True)

    @property
    def metadata(self) -> int:
        """Managed-heap need (approximate): non-allocated sections."""
        return self._sum("metadata")

    @property
    def rodata(self) -> int:
        """Size of ``.rodata`` (the code, relocated chunk by chunk at install)."""
        return sum(s.size for s in self.sections if s.name == ".rodata")

    @property
    def code_chunk(self) -> int:
        """Code chunk buffer: ``min(.rodata size, chunk size)`` (LLK-25)."""
        return min(self.rodata, self.chunk_size)

    @property
    def chunk_too_large(self) -> bool:
        """A ``.rodata`` above the Kernel's chunk size is install error 58."""
        return self.rodata > self.chunk_size

    @property
    def slot_needed(self) -> int:
        """Smallest slot that surely holds the Feature: ``32 + rom_upper``."""
        return HEADER_SIZE + self.rom_upper

    def fits(self, slot_size: int) -> bool:
        """LLK-26 slot fit: ``32 + ROM upper bound <= slot_size``."""
        return self.slot_needed <= slot_size

    def to_json(self) -> dict:
        """Totals and bounds (bytes) as JSON data, with every section."""
        return {"path": self.path, "elfclass": self.elfclass, "little_endian": self.little_endian,
                "rom": self.rom, "rom_upper": self.rom_upper, "ram": self.ram,
                "ram_upper": self.ram_upper, "metadata": self.metadata,
                "code_chunk": self.code_chunk, "chunk_too_large": self.chunk_too_large,
                "chunk_size": self.chunk_size, "transfer_buffer": self.transfer_buffer,
                "slot_needed": self.slot_needed,
                "sections": [{"name": s.name, "kind": s.kind, "type": s.sh_type, "flags": s.flags,
                              "size": s.size, "align": s.align} for s in self.sections]}


def _classify(sh_type, flags: int) -> str:
    # pyelftools gives sh_type as a string for known types but as a raw int for .soar.rel
    # (0x70000000), so decide on the ALLOC flag and NOBITS only (LLK-27).
    if not flags & _SHF_ALLOC:
        return "metadata"
    return "ram" if sh_type == "SHT_NOBITS" or sh_type == 8 else "rom"


def size_fo(path: str | os.PathLike, *, chunk_size: int = DEFAULT_CODE_CHUNK,
            transfer_buffer: int = DEFAULT_TRANSFER_BUFFER) -> FoSize:
    """Read the sections of the ELF file ``path`` and classify them; ``chunk_size`` and
    ``transfer_buffer`` are the Kernel options of LLK-25 (bytes).

    Raises NotSupported (ENOSYS) when pyelftools (extra ``elf``) is missing, InvalidArgument
    (EINVAL) naming the file when it is not a readable ELF file or a buffer size is below 1,
    OSError when it cannot be opened.
    """
    return _read_elf(path, chunk_size, transfer_buffer, with_rom=False)[0]


def rom_image(path: str | os.PathLike) -> bytes:
    """The ROM sections' bytes of a ``.fo`` in file order, each at its alignment (0x00 padding).

    This is the *unrelocated* content (the Core Engine relocates code chunk by chunk while
    installing); its length lies between :attr:`FoSize.rom` and :attr:`FoSize.rom_upper`, so
    it reserves a realistic ROM area. Errors as :func:`size_fo`.
    """
    return _read_elf(path, DEFAULT_CODE_CHUNK, DEFAULT_TRANSFER_BUFFER, with_rom=True)[1]


def read_fo(path: str | os.PathLike, *, chunk_size: int = DEFAULT_CODE_CHUNK,
            transfer_buffer: int = DEFAULT_TRANSFER_BUFFER) -> tuple[FoSize, bytes]:
    """:func:`size_fo` and :func:`rom_image` of ``path`` from one read of the file."""
    return _read_elf(path, chunk_size, transfer_buffer, with_rom=True)


def feature_input(path: str | os.PathLike, ram: int | None = None) -> tuple[bytes, int, dict]:
    """What installing ``path`` as a Feature takes: ``(ROM bytes, RAM bytes, extra)``.

    A ``.fo`` (ELF, recognised by its magic) gives its unrelocated ROM sections
    (:func:`rom_image`) and, unless ``ram`` is given, its RAM upper bound; ``extra`` is then
    ``{"fo": FoSize.to_json()}``. Any other file is the raw ROM content with RAM ``ram`` or 0.
    One rule for ``feature install`` and ``build``. Errors as :func:`size_fo` (a ``.fo`` needs
    the ``elf`` extra); OSError when the file cannot be read."""
    with open(path, "rb") as f:
        head = f.read(4)
    if is_elf(head):
        size, rom = read_fo(path)
        return rom, size.ram_upper if ram is None else ram, {"fo": size.to_json()}
    with open(path, "rb") as f:
        return f.read(), 0 if ram is None else ram, {}


def _read_elf(path, chunk_size: int, transfer_buffer: int, with_rom: bool) -> tuple[FoSize, bytes]:
    """One pass over the sections: their sizes and, when ``with_rom``, the ROM image."""
    path = os.fspath(path)
    for what, v in (("code chunk size", chunk_size), ("transfer buffer size", transfer_buffer)):
        if v < 1:
            raise InvalidArgument(f"{path}: {what} {v} must be >= 1 byte")
    ELFError, ELFFile = _elf_modules()
    sections: list[FoSection] = []
    rom = bytearray()
    with open(path, "rb") as f:
        try:
            elf = ELFFile(f)
            for sec in elf.iter_sections():
                h = sec.header
                t = h["sh_type"]
                if t == "SHT_NULL":
                    continue
                flags, align = int(h["sh_flags"]), int(h["sh_addralign"])
                kind = _classify(t, flags)
                sections.append(FoSection(sec.name, kind, t if isinstance(t, str) else f"{int(t):#x}",
                                          flags, int(h["sh_size"]), align))
                if with_rom and kind == "rom":
                    rom.extend(b"\0" * (-len(rom) % max(align, 1)))
                    rom.extend(sec.data())
            size = FoSize(path, sections, elf.elfclass, elf.little_endian, chunk_size,
                          transfer_buffer)
        except (ELFError, ValueError) as exc:
            raise InvalidArgument(f"{path}: not a readable ELF (.fo) file: {exc}") from None
    return size, bytes(rom)


def _elf_modules():
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError:
        raise NotSupported("reading .fo files needs pyelftools: pip install 'flashstack[elf]'") from None
    return ELFError, ELFFile


def is_elf(data: bytes) -> bool:
    """True when ``data`` starts with the ELF magic."""
    return data[:4] == b"\x7fELF"


def largest_n(fos, kf_size: int, subsector: int = DEFAULT_SUBSECTOR) -> int:
    """Largest N for which every ``.fo`` of ``fos`` (:class:`FoSize`) fits one slot of a
    ``kf_size``-byte region of ``subsector``-byte subsectors (0 when none does)."""
    need = max((f.slot_needed for f in fos), default=HEADER_SIZE)
    subs = kf_size // subsector
    if need > subs * subsector:
        return 0
    return subs // -(-need // subsector)


def plan_fit(fos, kf_size: int, max_features: int, *, subsector: int = DEFAULT_SUBSECTOR,
             ram_size: int = DEFAULT_RAM_SIZE, ram_align: int = DEFAULT_RAM_ALIGN) -> dict:
    """Verdicts for installing all ``fos`` into one KF region with N = ``max_features``.

    Per file (``features``, in the given order): slot fit, ``slot_needed`` bytes, and
    ``ram_offset``, its RAM start as an offset from the buffer start (§8 placement with the RAM
    upper bound; None when it does not fit). Together: ``slots_used``, ``ram_span`` (bytes from
    the buffer start to the highest RAM end), ``fits_all`` and :func:`largest_n`. Sizes in bytes.
    """
    slot = slot_size_for(kf_size, max_features, subsector)
    live: list[tuple[int, int]] = []
    rows = []
    for fo in fos:
        at = place_ram(live, fo.ram_upper, 0, ram_size, ram_align) if ram_size > 0 else None
        if at is not None:
            live.append((at, at + fo.ram_upper))
        rows.append({"path": fo.path, "fits_slot": fo.fits(slot), "slot_needed": fo.slot_needed,
                     "ram_offset": at, "ram_fits": at is not None,
                     "chunk_too_large": fo.chunk_too_large})
    ram_span = max((e for _, e in live), default=0)
    fits_all = (len(fos) <= max_features and all(r["fits_slot"] and r["ram_fits"] for r in rows))
    return {"kf_size": kf_size, "subsector": subsector, "max_features": max_features,
            "slot_size": slot, "slots_used": len(fos), "ram_buffer_size": ram_size,
            "ram_align": ram_align, "ram_span": ram_span, "fits_all": fits_all,
            "largest_n": largest_n(fos, kf_size, subsector), "features": rows}
