"""``FeatureStore``: MicroEJ Features kept in equal slots of a KF flash partition.

Pythonic side of the LLKERNEL contract (docs/llkernel.md): upstream MicroEJ
AbstractionLayer-KERNEL-FLASH 1.0.3 ``LLKERNEL_flash.c`` over the API of MicroEJ docs
``LLKERNEL_impl.h``, header-compatible, with the defects of §18 fixed. Handles and addresses
are absolute unsigned 32-bit values; the flash area is accessed at ``address - kf_start``.
Operations report failure the C way (None, ``LLKERNEL_ERROR``) and leave the reason, naming
the partition and the slot, handle or address, in :attr:`FeatureStore.last_error`; only
configuration errors raise (InvalidArgument, EINVAL). ``PowerLoss`` always propagates.

Torn headers (spec §13): a header program cut after the 4-byte USED status is listed like any
Feature until the Kernel frees it (``onFeatureInitializationError`` code 1). **[fs]** Its RAM
range is ignored for placement when it lies outside the RAM buffer or its ``ram_size`` is
larger than the buffer (:func:`~flashstack.llkernel._ram.torn_ram_size`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import DeviceIOError, FlashError, InvalidArgument, NoSpace
from .config import DEFAULT_MAX_FEATURES, DEFAULT_RAM_ALIGN, DEFAULT_RAM_SIZE, KfConfig, config_for_area
from ._copier import Copier
from .header import (ERASED_WORD, HEADER_SIZE, INIT_ERRORS_THAT_FREE, LLKERNEL_ERROR, LLKERNEL_OK,
                     REMOVED_MAGIC, USED_MAGIC, FeatureHeader, init_error_name, to_int32)
from ._ram import place_ram
from .scan import ScanReport, scan_region

__all__ = ["Feature", "FeatureStore"]

log = logging.getLogger("flashstack.llkernel")
_REMOVED_BYTES = REMOVED_MAGIC.to_bytes(4, "little")


@dataclass(frozen=True)
class Feature:
    """One installed Feature: dense ``index``, ``slot``, ``handle`` (= slot start, unsigned),
    ROM/RAM absolute addresses and sizes in bytes, ``nb_subsectors``, stored ``feature_index``."""

    index: int
    slot: int
    handle: int
    rom_address: int
    rom_size: int
    ram_address: int
    ram_size: int
    nb_subsectors: int
    feature_index: int
    status: str = "used"

    def to_json(self) -> dict:
        """Every field, plus ``handle_int32`` (the C ``int32_t`` form of the handle)."""
        return {"index": self.index, "slot": self.slot, "handle": self.handle,
                "handle_int32": to_int32(self.handle), "rom_address": self.rom_address,
                "rom_size": self.rom_size, "ram_address": self.ram_address, "ram_size": self.ram_size,
                "nb_subsectors": self.nb_subsectors, "feature_index": self.feature_index,
                "status": self.status}


class FeatureStore:
    """Features in a KF partition ``area`` (a FlashArea) mapped at absolute ``base``.

    Configuration (LLK-3..LLK-5): ``max_features`` N (default 16), ``ram_base`` (link address
    of the Kernel RAM buffer; needed to allocate, not to scan), ``ram_size`` (102 400) and
    ``ram_align`` (256) bytes, optional ``kf_size`` (smaller than the area) and ``page_size``
    (default the device's ``program_page_size``). Raises InvalidArgument (EINVAL) on a bad
    configuration. Opening scans all N slot headers (reads only).
    """

    @classmethod
    def mount_readonly(cls, area, base: int | None = None, **kwargs) -> "FeatureStore":
        """The store on an in-memory copy of ``area`` (:meth:`FlashArea.memory_copy
        <flashstack.flash_map.FlashArea.memory_copy>`, same absolute address): ``area`` is
        read once and never written, even by an install or remove on the returned store.
        Keyword arguments as the constructor."""
        return cls(area.memory_copy(name=f"copy:{area.name}"), base, **kwargs)

    def __init__(self, area, base: int | None = None, *, max_features: int = DEFAULT_MAX_FEATURES,
                 ram_base: int | None = None, ram_size: int = DEFAULT_RAM_SIZE,
                 ram_align: int = DEFAULT_RAM_ALIGN, kf_size: int | None = None,
                 page_size: int | None = None):
        self.area = area
        self.config: KfConfig = config_for_area(
            area, base, max_features=max_features, ram_base=ram_base, ram_size=ram_size,
            ram_align=ram_align, kf_size=kf_size, page_size=page_size)
        self.copier = Copier(self.config.page_size, self._program)
        self._slots: list[int] = []   # USED slots in slot order: the Feature list (LLK-11)
        self.last_error: str | None = None
        self.rescan()

    # --- flash access (absolute addresses) ---------------------------------------------------
    def _read(self, address: int, n: int) -> bytes:
        return self.area.read(address - self.config.kf_start, n)

    def _program(self, address: int, data: bytes) -> None:
        self.area.write(address - self.config.kf_start, data)

    def _erase_subsector(self, address: int) -> None:
        self.area.erase(address - self.config.kf_start, self.config.subsector)

    def _header(self, slot: int) -> FeatureHeader:
        return FeatureHeader.unpack(self._read(self.config.slot_start(slot), HEADER_SIZE))

    def _status(self, slot: int) -> int:
        return int.from_bytes(self._read(self.config.slot_start(slot), 4), "little")

    def _fail(self, message: str):
        self.last_error = f"{self.where}: {message}"
        log.info("LLKERNEL: %s", self.last_error)
        return None

    @property
    def where(self) -> str:
        """``partition NAME (KF 0xSTART+0xSIZE)``: the prefix of every message of this store."""
        c = self.config
        return f"partition {getattr(self.area, 'name', '?')} (KF {c.kf_start:#x}+{c.kf_size:#x})"

    @property
    def kf_start(self) -> int:
        """Absolute address of the KF region (``config.kf_start``)."""
        return self.config.kf_start

    @property
    def slot_size(self) -> int:
        """Bytes per Feature slot (``config.slot_size``)."""
        return self.config.slot_size

    # --- scan, count, handles -------------------------------------------------------------------
    def rescan(self) -> int:
        """LLK-10: read the status of all N slots, rebuild the list, return the count. Writes nothing."""
        self._slots = [i for i in range(self.config.max_features) if self._status(i) == USED_MAGIC]
        for slot in list(self.copier.open):
            if slot not in self._slots:
                self.copier.close_feature(slot)
        return len(self._slots)

    def allocated_features_count(self) -> int:
        """``getAllocatedFeaturesCount``: Features allocated and not freed (boot scan, reads only)."""
        return self.rescan()

    def feature_handle(self, index: int) -> int | None:
        """``getFeatureHandle``: handle (unsigned) of the ``index``-th Feature, None if out of range."""
        if 0 <= index < len(self._slots):
            return self.config.slot_start(self._slots[index])
        return None

    def _used_slot(self, handle: int) -> int | None:
        slot = self.config.slot_of(handle)
        if slot is None or self._status(slot) != USED_MAGIC:
            return None
        return slot

    def _used_header(self, handle: int) -> FeatureHeader | None:
        """The header at ``handle`` when it is the start of a USED slot (one header read)."""
        slot = self.config.slot_of(handle)
        if slot is None:
            return None
        h = self._header(slot)
        return h if h.used else None

    def feature_address_rom(self, handle: int) -> int | None:
        """``getFeatureAddressROM``: stored ROM address of a USED slot start, else None (LLK-13)."""
        h = self._used_header(handle)
        return None if h is None else h.rom_address

    def feature_address_ram(self, handle: int) -> int | None:
        """``getFeatureAddressRAM``: stored RAM address of a USED slot start, else None (LLK-13)."""
        h = self._used_header(handle)
        return None if h is None else h.ram_address

    # --- allocate / free ------------------------------------------------------------------------
    def next_free_slot(self) -> int | None:
        """The slot the next :meth:`allocate_feature` takes (the lowest one not USED,
        docs/llkernel.md §8 step 3), or None when all N are USED. Reads only."""
        return _first_free([self._header(i) for i in range(self.config.max_features)])

    def allocate_feature(self, size_rom: int, size_ram: int) -> int | None:
        """``allocateFeature`` (§8): reserve a slot for ``size_rom`` bytes of ROM and a RAM area of
        ``size_ram`` bytes; the handle (absolute slot start, unsigned), or None with the reason
        in :attr:`last_error`.

        Erases ``ceil((32 + size_rom) / SUB)`` subsectors from the slot start, programs the
        header page. Raises InvalidArgument (EINVAL) only when no ``ram_base`` is configured.
        """
        cfg = self.config
        self.last_error = None
        if cfg.max_features == 0:
            return self._fail("allocate: max_features is 0")
        if cfg.ram_base is None:
            raise InvalidArgument(f"{self.where}: allocation needs ram_base "
                                  "(link address of the Kernel RAM buffer)")
        if size_rom < 0 or size_ram < 0:
            return self._fail(f"allocate: negative size (ROM {size_rom}, RAM {size_ram})")
        if HEADER_SIZE + size_rom > cfg.slot_size:
            return self._fail(f"allocate: ROM {size_rom} + 32-byte header exceeds the slot size "
                              f"{cfg.slot_size}")
        if size_ram > cfg.ram_size:
            return self._fail(f"allocate: RAM {size_ram} exceeds the RAM buffer {cfg.ram_size}")
        headers = [self._header(i) for i in range(cfg.max_features)]
        used = [i for i, h in enumerate(headers) if h.used]
        self._slots = used
        slot = _first_free(headers)
        if slot is None:
            return self._fail(f"allocate: maximum number of features installed ({cfg.max_features})")
        live = [(headers[i].ram_address, headers[i].ram_address + headers[i].ram_size) for i in used]
        ram = place_ram(live, size_ram, cfg.ram_base, cfg.ram_size, cfg.ram_align)
        if ram is None:
            return self._fail(f"allocate: no room for {size_ram} bytes in the RAM buffer "
                              f"{cfg.ram_base:#x}+{cfg.ram_size:#x}")
        start = cfg.slot_start(slot)
        k = cfg.subsectors_for(size_rom)
        hdr = FeatureHeader(USED_MAGIC, k, start + HEADER_SIZE, size_rom, ram, size_ram, len(used),
                            ERASED_WORD)
        try:
            for j in range(k):
                self._erase_subsector(start + j * cfg.subsector)
            page = hdr.pack() + b"\xff" * (cfg.page_size - HEADER_SIZE)
            self._program(start, page)
        except FlashError as exc:
            self.rescan()
            return self._fail(f"allocate: flash error in slot {slot} at {start:#x}: {exc}")
        self._slots = sorted(used + [slot])
        self.copier.open_feature(slot, start, start + HEADER_SIZE, size_rom)
        return start

    def free_feature(self, handle: int) -> None:
        """``freeFeature`` (LLK-22/23): erase the header subsector, program REMOVED. No effect
        unless ``handle`` is the start of a USED slot; a flash error rebuilds the list."""
        self.last_error = None
        slot = self._used_slot(handle)
        if slot is None:
            self._fail(f"free: {handle & 0xFFFFFFFF:#x} is not the start of a USED slot")
            return
        self.copier.close_feature(slot)
        start = self.config.slot_start(slot)
        try:
            self._erase_subsector(start)
            self._program(start, _REMOVED_BYTES)
        except FlashError as exc:
            self._fail(f"free: flash error in slot {slot} at {start:#x}: {exc}")
            self.rescan()
            return
        self._slots.remove(slot)

    # --- copy ----------------------------------------------------------------------------------
    def copy_to_rom(self, dest: int, src, size: int | None = None) -> int:
        """``copyToROM`` (§9): ``size`` bytes of ``src`` (bytes-like; all of it by default) to
        absolute ``dest``. ``LLKERNEL_OK`` or ``LLKERNEL_ERROR``; may leave the last page pending."""
        self.last_error = None
        size = len(src) if size is None else size
        if size < 0:
            self._fail(f"copy to {dest:#x}: negative size {size}")
            return LLKERNEL_ERROR
        if size == 0:
            return LLKERNEL_OK
        if len(src) < size:
            self._fail(f"copy to {dest:#x}: source holds {len(src)} bytes, {size} requested")
            return LLKERNEL_ERROR
        ok, why = self.copier.copy(dest & 0xFFFFFFFF, bytes(memoryview(src)[:size]))
        if not ok:
            assert why is not None, "the copier names every failure"
            self._fail(why)
            return LLKERNEL_ERROR
        return LLKERNEL_OK

    def flush_copy_to_rom(self) -> int:
        """``flushCopyToROM`` (LLK-20): program the pending page; OK or ERROR."""
        self.last_error = None
        ok, why = self.copier.flush()
        if not ok:
            assert why is not None, "the copier names every failure"
            self._fail(why)
            return LLKERNEL_ERROR
        return LLKERNEL_OK

    # --- boot errors ------------------------------------------------------------------------------
    def on_feature_initialization_error(self, handle: int, error_code: int) -> int:
        """``onFeatureInitializationError`` (LLK-24): free on codes 1, 2, 5; always OK."""
        log.info("LLKERNEL: Feature %#x failed to initialize: %s (%d)", handle & 0xFFFFFFFF,
                 init_error_name(error_code), error_code)
        if error_code in INIT_ERRORS_THAT_FREE:
            self.free_feature(handle)
        return LLKERNEL_OK

    # --- conveniences ----------------------------------------------------------------------------
    def features(self) -> list[Feature]:
        """The current Feature list in index order, decoded from the headers."""
        out = []
        for index, slot in enumerate(self._slots):
            h = self._header(slot)
            out.append(Feature(index, slot, self.config.slot_start(slot), h.rom_address, h.rom_size,
                               h.ram_address, h.ram_size, h.nb_subsectors, h.feature_index,
                               h.state))
        return out

    def install(self, rom: bytes, ram_size: int, chunk: int = 4096) -> Feature:
        """Allocate, copy ``rom`` in ``chunk``-byte calls, flush; the new :class:`Feature`.

        Raises NoSpace (ENOSPC) when the allocation fails, DeviceIOError (EIO) when a copy or
        the flush fails (the half-installed Feature is freed first), InvalidArgument (EINVAL)
        for a chunk size below 1.
        """
        rom = bytes(rom)
        if chunk < 1:
            raise InvalidArgument(f"{self.where}: install: chunk size {chunk} "
                                  "must be >= 1")
        handle = self.allocate_feature(len(rom), ram_size)
        if handle is None:
            raise NoSpace(f"{self.last_error} (installing {len(rom)} ROM / {ram_size} RAM bytes)")
        base = handle + HEADER_SIZE
        rc = LLKERNEL_OK
        for off in range(0, len(rom), chunk):
            rc = self.copy_to_rom(base + off, rom[off:off + chunk])
            if rc != LLKERNEL_OK:
                break
        if rc == LLKERNEL_OK:
            rc = self.flush_copy_to_rom()
        if rc != LLKERNEL_OK:
            why = self.last_error
            self.free_feature(handle)
            raise DeviceIOError(f"{why} (install into {handle:#x}; the Feature was freed)")
        return next(f for f in self.features() if f.handle == handle)

    def scan(self) -> ScanReport:
        """Read-only analysis of every slot header with anomalies (see :mod:`.scan`)."""
        return scan_region(self._read, self.config)

    def __repr__(self) -> str:
        c = self.config
        return (f"FeatureStore({getattr(self.area, 'name', '?')} @ {c.kf_start:#x}+{c.kf_size:#x}, "
                f"N={c.max_features}, slot {c.slot_size:#x}, {len(self._slots)} features)")


def _first_free(headers: list[FeatureHeader]) -> int | None:
    return next((i for i, h in enumerate(headers) if not h.used), None)
