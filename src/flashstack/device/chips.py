"""Flash chip geometry and typical timings (docs/device.md §8).

A built-in table of common parts (§8.1, standard library only) and an optional lookup in
the ``spiflash`` database (§8.2, extra ``chips``), imported lazily on first use. Sizes are
bytes, times µs. Entry points: :func:`get` (built-in, DEV-46), :func:`from_spiflash`
(§8.2), :func:`lookup` (built-in first, then spiflash; what ``SimulatedFlash(chip=...)``
uses).
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass

from ..errors import InvalidArgument, NotFound, NotSupported
from .timing import SPI_NOR_READ_SETUP_US, SPI_NOR_READ_US_PER_BYTE, ChipTiming

__all__ = ["Chip", "BUILTIN_CHIPS", "get", "lookup", "from_spiflash", "parse_jedec",
           "ChipWarning"]

KiB = 1024
MiB = 1024 * KiB


class ChipWarning(UserWarning):
    """A chip entry was used with a guessed or disputed value (spiflash lookups)."""


@dataclass(frozen=True)
class Chip:
    """One flash part: geometry, program model, typical timing and rated erase cycles.

    ``jedec``: 3-byte JEDEC id (manufacturer, type, capacity) or None for internal flash;
    ``layout``: runs of ``(count, erase page size)``; ``timing``: :class:`ChipTiming` or None.
    Erase value is 0xFF and erase explicit for every entry (§8.1).
    """

    key: str
    part: str
    jedec: bytes | None
    size: int
    layout: tuple[tuple[int, int], ...]
    write_block_size: int = 1
    program_page_size: int = 256
    multi_program: bool = True
    timing: ChipTiming | None = None
    rated_cycles: int = 100_000
    erase_value: int = 0xFF
    source: str = "built-in"

    @property
    def jedec_hex(self) -> str | None:
        """JEDEC ID as lowercase hex (``"ef4018"``), None when unknown."""
        return self.jedec.hex() if self.jedec is not None else None


def _spi_nor(key, part, jedec, size, program_us, erase_4k_us, byte_first=None, byte_next=None,
             rated=100_000) -> Chip:
    timing = ChipTiming(t_page_program_us=program_us, t_erase_us={4 * KiB: erase_4k_us},
                        t_byte_first_us=byte_first, t_byte_next_us=byte_next,
                        read_setup_us=SPI_NOR_READ_SETUP_US, read_us_per_byte=SPI_NOR_READ_US_PER_BYTE)
    return Chip(key, part, bytes.fromhex(jedec), size, ((size // (4 * KiB), 4 * KiB),), 1, 256, True,
                timing, rated)


# STM32F4: 16 µs per word program at x32 parallelism; sector erase 250 / 550 / 1000 ms (§8.1 ≈)
_STM32F4_TIMING = ChipTiming(t_page_program_us=16,
                             t_erase_us={16 * KiB: 250_000, 64 * KiB: 550_000, 128 * KiB: 1_000_000})
_STM32F4_BANK = ((4, 16 * KiB), (1, 64 * KiB), (7, 128 * KiB))

#: §8.1 built-in table, keyed by lower-case key.
BUILTIN_CHIPS: dict[str, Chip] = {c.key: c for c in (
    _spi_nor("w25q128jv", "Winbond W25Q128JV", "ef4018", 16 * MiB, 400, 45_000, 30, 2.5),
    _spi_nor("w25q64jv", "Winbond W25Q64JV", "ef4017", 8 * MiB, 400, 45_000, 30, 2.5),
    _spi_nor("mx25r6435f", "Macronix MX25R6435F", "c22817", 8 * MiB, 896, 48_000),
    _spi_nor("mt25ql128", "Micron MT25QL128ABA", "20ba18", 16 * MiB, 128, 50_000),
    _spi_nor("sst26vf064b", "Microchip SST26VF064B", "bf2643", 8 * MiB, 1_500, 18_000),
    Chip("stm32f411xe", "ST STM32F411xE internal", None, 512 * KiB,
         ((4, 16 * KiB), (1, 64 * KiB), (3, 128 * KiB)), 1, 4, True, _STM32F4_TIMING, 10_000),
    Chip("stm32f407xg", "ST STM32F407xG internal", None, 1 * MiB, _STM32F4_BANK, 1, 4, True,
         _STM32F4_TIMING, 10_000),
    Chip("stm32f429xi", "ST STM32F429xI internal, 2 banks", None, 2 * MiB, _STM32F4_BANK * 2, 1, 4,
         True, _STM32F4_TIMING, 10_000),
    Chip("stm32l475xg", "ST STM32L475xG internal", None, 1 * MiB, ((512, 2 * KiB),), 8, 8, False,
         ChipTiming(t_page_program_us=81.69, t_erase_us={2 * KiB: 22_020}), 10_000),
    Chip("nrf52840", "Nordic nRF52840 internal", None, 1 * MiB, ((256, 4 * KiB),), 4, 4, True,
         ChipTiming(t_page_program_us=41, t_erase_us={4 * KiB: 85_000}), 10_000),
)}


def parse_jedec(value) -> bytes | None:
    """A JEDEC id given as ``"ef4018"`` (``0x``, spaces, ``:`` allowed), ``0xEF4018`` or
    ``b"\\xef\\x40\\x18"`` as 3 bytes; None when ``value`` does not look like one."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value) if len(value) == 3 else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value.to_bytes(3, "big") if 0 <= value < 1 << 24 else None
    if isinstance(value, str):
        s = value.strip().lower().replace(" ", "").replace(":", "")
        s = s[2:] if s.startswith("0x") else s
        if len(s) == 6:
            try:
                return bytes.fromhex(s)
            except ValueError:
                return None
    return None


def _builtin(spec) -> Chip | None:
    jedec = parse_jedec(spec)
    if jedec is not None:
        for c in BUILTIN_CHIPS.values():
            if c.jedec == jedec:
                return c
    if isinstance(spec, str):
        s = spec.strip().lower()
        for c in BUILTIN_CHIPS.values():
            if s in (c.key, c.part.lower()):
                return c
    return None


def _close_matches(spec) -> list[str]:
    names = list(BUILTIN_CHIPS) + [c.part for c in BUILTIN_CHIPS.values()]
    lowered = {n.lower(): n for n in names}
    hits = difflib.get_close_matches(str(spec).strip().lower(), list(lowered), n=5, cutoff=0.6)
    return [lowered[h] for h in hits]


def get(spec) -> Chip:
    """DEV-46: the built-in chip whose key or part name equals ``spec`` (case-insensitive), or
    whose JEDEC id equals it (``"ef4018"``, ``0xEF4018``, ``b"\\xef\\x40\\x18"``).

    Raises NotFound (a LookupError, errno ENOENT) listing close matches.
    """
    chip = _builtin(spec)
    if chip is None:
        close = _close_matches(spec)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise NotFound(f"chip {spec!r} is not in the built-in table{hint} "
                       f"(known: {', '.join(BUILTIN_CHIPS)})")
    return chip


def lookup(spec, *, erase_page_size: int | None = None, use_spiflash: bool = True) -> Chip:
    """The built-in chip for ``spec``, else (``use_spiflash``) the ``spiflash`` part (§8.2).

    Errors: NotFound (ENOENT) when neither knows it; NotSupported (ENOSYS) naming the
    ``chips`` extra when spiflash would be needed but is missing; InvalidArgument (EINVAL)
    for ambiguous or incomplete spiflash entries.
    """
    chip = _builtin(spec)
    if chip is not None:
        return chip
    if not use_spiflash:
        return get(spec)
    try:
        return from_spiflash(spec, erase_page_size=erase_page_size)
    except NotFound as e:
        close = _close_matches(spec)
        hint = f"; close built-in matches: {', '.join(close)}" if close else ""
        raise NotFound(f"{e.strerror}; not in the built-in table either{hint}") from None


# --- spiflash (§8.2) ----------------------------------------------------------------------

def _spiflash():
    """Import spiflash lazily (DEV-48); clear errors for a missing or conflicting package."""
    try:
        import spiflash
    except ImportError:
        raise NotSupported("chip lookup in the spiflash database needs the 'chips' extra: "
                           "pip install 'flashstack[chips]'") from None
    if not hasattr(spiflash, "lookup") or not hasattr(spiflash, "find"):
        raise NotSupported("the installed 'spiflash' module has no lookup(): probably 'pyspiflash', "
                           "which uses the same package name; uninstall it and install "
                           "'flashstack[chips]'")
    return spiflash


def _uniform_erase_sizes(f) -> list[set[int]]:
    """Per record of ``f``: sizes of its uniform erasers (one block (size, count) covering the
    chip, chip erase excluded; erasers without opcode count)."""
    per_record = []
    for rec in f.records or ():
        sizes = set()
        for er in rec.erasers or ():
            blocks = tuple(er.blocks or ())
            if len(blocks) == 1:
                b = blocks[0]
                if b.size * b.count == f.size and b.size < f.size:
                    sizes.add(b.size)
        if sizes:
            per_record.append(sizes)
    return per_record


def _candidates(sf, spec) -> list:
    jedec = parse_jedec(spec)
    if jedec is not None:
        found = sf.lookup(jedec)
    elif isinstance(spec, str):
        want = spec.strip().lower()
        found = [f for f in sf.find(spec.strip()) if want in (n.lower() for n in f.names)]
    else:
        raise InvalidArgument(f"chip {spec!r}: expected a part name or a JEDEC id")
    return [f for f in found if f.type == sf.FlashType.NOR]


def _geometry(f, erase_page_size: int | None) -> tuple[int, int, int]:
    """(size, erase page, program page) of a spiflash entry per §8.2."""
    if f.size is None:
        raise InvalidArgument(f"spiflash part {f.name} ({f.id_hex}) has no size")
    per_record = _uniform_erase_sizes(f)
    if erase_page_size is not None:
        if erase_page_size < 1 or f.size % erase_page_size:
            raise InvalidArgument(f"erase page {erase_page_size} does not divide {f.name} size {f.size}")
        page = erase_page_size
    elif not per_record:
        raise InvalidArgument(f"spiflash part {f.name} ({f.id_hex}) has no uniform eraser; "
                              f"give erase_page_size=")
    else:
        page = min(min(r) for r in per_record)
        # records disagree when some list sizes that no record offering `page` lists too
        # (S25FL128S: 64 KiB vs 256 KiB sectors); a record that merely omits the small eraser
        # is consistent with one that lists it.
        everything = set().union(*per_record)
        companions = set().union(*(r for r in per_record if page in r))
        if everything - companions:
            warnings.warn(f"spiflash part {f.name} ({f.id_hex}): sources disagree on the uniform "
                          f"erase size {sorted(everything)}; using the smallest, {page} "
                          f"(override with erase_page_size=)", ChipWarning, stacklevel=4)
    program_page = f.page_size
    if program_page is None:
        warnings.warn(f"spiflash part {f.name} ({f.id_hex}) has no program page size; using 256",
                      ChipWarning, stacklevel=4)
        program_page = 256
    return f.size, page, program_page


def _sfdp_timing(f, erase_page: int) -> ChipTiming | None:
    """Coarse timing from the part's SFDP basic parameter table, when it has one (§8.2)."""
    bfpt = getattr(getattr(f, "sfdp", None), "bfpt", None)
    if bfpt is None or not bfpt.page_program_us:
        return None
    for et in bfpt.erase_types or ():
        if et.size == erase_page and et.typical_us:
            return ChipTiming(t_page_program_us=bfpt.page_program_us,
                              t_erase_us={erase_page: et.typical_us},
                              read_setup_us=SPI_NOR_READ_SETUP_US,
                              read_us_per_byte=SPI_NOR_READ_US_PER_BYTE)
    return None


def from_spiflash(spec, *, erase_page_size: int | None = None) -> Chip:
    """A :class:`Chip` for a part of the spiflash database, by name or JEDEC id (§8.2).

    NOR entries only; by name only entries listing the name exactly (case-insensitive);
    erase page = smallest uniform eraser (``erase_page_size`` overrides); wbs 1, erase value
    0xFF, multi-program, 100 000 rated cycles. Timing from the built-in table when the JEDEC
    id is there, else from SFDP, else None.

    Errors: NotFound (ENOENT) no NOR entry; InvalidArgument (EINVAL) entries with different
    geometry, no size, no uniform eraser; NotSupported (ENOSYS) spiflash missing (DEV-48).
    """
    sf = _spiflash()
    found = _candidates(sf, spec)
    if not found:
        raise NotFound(f"chip {spec!r}: no NOR flash with that name or JEDEC id in spiflash")
    geos = []
    for f in found:
        try:
            geos.append((f, _geometry(f, erase_page_size)))
        except InvalidArgument:
            if len(found) == 1:
                raise
    if not geos:
        _geometry(found[0], erase_page_size)  # raises with the first entry's reason
    if len({g for _, g in geos}) > 1:
        listing = "; ".join(f"{f.name} {f.id_hex} size {g[0]} erase page {g[1]}" for f, g in geos)
        raise InvalidArgument(f"chip {spec!r} is ambiguous in spiflash: {listing}")
    f, (size, page, program_page) = geos[0]
    jedec = bytes(f.id[:3]) if getattr(f, "id", None) is not None and len(f.id) >= 3 else None
    known = next((c for c in BUILTIN_CHIPS.values() if jedec is not None and c.jedec == jedec), None)
    timing = (known.timing if known is not None and known.timing is not None
              and page in known.timing.t_erase_us else None)
    if timing is None:
        timing = _sfdp_timing(f, page)
    return Chip(key=f.name.lower(), part=f.name, jedec=jedec, size=size,
                layout=((size // page, page),), write_block_size=1, program_page_size=program_page,
                multi_program=True, timing=timing, rated_cycles=100_000, source="spiflash")
