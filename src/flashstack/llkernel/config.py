"""KF region configuration and slot geometry (docs/llkernel.md §4, §5).

All addresses are absolute (the KF region is memory-mapped at ``kf_start``); the flash area
under it is addressed partition-relative as ``address - kf_start``. Upstream: MicroEJ
AbstractionLayer-KERNEL-FLASH 1.0.3 ``LLKERNEL_flash_configuration.h`` (defaults) and
``LLKERNEL_flash.c`` (slot size arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidArgument
from .header import HEADER_SIZE

__all__ = ["KfConfig", "DEFAULT_MAX_FEATURES", "DEFAULT_RAM_SIZE", "DEFAULT_RAM_ALIGN",
           "DEFAULT_PAGE_SIZE", "DEFAULT_SUBSECTOR", "config_for_area", "slot_size_for", "uniform_subsector"]

DEFAULT_MAX_FEATURES = 16        # com.microej.runtime.kernel.dynamicfeatures.max
DEFAULT_RAM_SIZE = 102_400       # LLKERNEL_RAM_BUFFER_SIZE
DEFAULT_RAM_ALIGN = 256          # LLKERNEL_RAM_ALIGN_SIZE
DEFAULT_PAGE_SIZE = 256          # LLKERNEL_FLASH_PAGE_SIZE
DEFAULT_SUBSECTOR = 4096         # LLKERNEL_FLASH_SUBSECTOR_SIZE
_U32 = 1 << 32


def _pow2(x: int) -> bool:
    return x > 0 and x & (x - 1) == 0


def slot_size_for(kf_size: int, n: int, subsector: int = DEFAULT_SUBSECTOR) -> int:
    """LLK-5 slot size in bytes: ``((kf_size // SUB) // N) * SUB``, divisions first as the
    reference does; 0 when ``n <= 0``."""
    return (kf_size // subsector // n) * subsector if n > 0 else 0


def uniform_subsector(pages, offset: int, size: int, partition: str) -> int:
    """The subsector (erase page, bytes) of a KF partition from its erase ``pages``.

    ``pages``: the device's :class:`~flashstack.device.PageInfo` records whose start lies in
    the partition (device-relative ``start_offset``, ``size``); ``offset``/``size`` locate the
    partition on its device. LLK-3/LLK-4 need equal subsectors and a partition starting on a
    page boundary; otherwise InvalidArgument (EINVAL) naming ``partition`` and the sizes found.
    """
    pages = list(pages)
    sizes = sorted({p.size for p in pages})
    if not pages or pages[0].start_offset != offset:
        raise InvalidArgument(f"partition {partition}: {offset:#x}+{size:#x} does not start on an "
                              "erase page boundary")
    if len(sizes) != 1:
        raise InvalidArgument(f"partition {partition}: erase pages are not uniform (sizes "
                              f"{', '.join(map(str, sizes))} bytes); LLKERNEL needs equal subsectors")
    return sizes[0]


@dataclass(frozen=True)
class KfConfig:
    """Geometry of a KF region: ``kf_start``/``kf_size`` bytes, erase ``subsector`` and program
    ``page_size`` bytes, ``max_features`` N, RAM buffer ``ram_base`` (None: scan only),
    ``ram_size`` and ``ram_align`` bytes. Validated by :meth:`validate` (EINVAL)."""

    kf_start: int
    kf_size: int
    subsector: int = DEFAULT_SUBSECTOR
    page_size: int = DEFAULT_PAGE_SIZE
    max_features: int = DEFAULT_MAX_FEATURES
    ram_base: int | None = None
    ram_size: int = DEFAULT_RAM_SIZE
    ram_align: int = DEFAULT_RAM_ALIGN

    # --- derived ------------------------------------------------------------------
    @property
    def kf_end(self) -> int:
        """Exclusive end address of the region."""
        return self.kf_start + self.kf_size

    @property
    def slot_size(self) -> int:
        """LLK-5: ``((kf_size // SUB) // N) * SUB`` (0 when N = 0)."""
        return slot_size_for(self.kf_size, self.max_features, self.subsector)

    @property
    def max_rom_size(self) -> int:
        """Largest ``size_ROM`` a slot takes (``slot_size - 32``)."""
        return max(self.slot_size - HEADER_SIZE, 0)

    @property
    def unused_tail(self) -> int:
        """Bytes at the end of the region that no slot covers (LLK-5)."""
        return self.kf_size - self.max_features * self.slot_size

    def slot_start(self, slot: int) -> int:
        """Absolute start (= handle) of slot ``slot`` (0 <= slot < N, unchecked)."""
        return self.kf_start + slot * self.slot_size

    def slot_of(self, address: int) -> int | None:
        """The slot whose start is exactly ``address`` (unsigned), else None (LLK-13)."""
        off = (address & 0xFFFFFFFF) - self.kf_start
        if self.slot_size == 0 or off < 0 or off % self.slot_size:
            return None
        slot = off // self.slot_size
        return slot if slot < self.max_features else None

    def subsectors_for(self, rom_size: int) -> int:
        """``ceil((32 + rom_size) / SUB)``: subsectors erased by an allocation (§8.5)."""
        return -(-(HEADER_SIZE + rom_size) // self.subsector)

    # --- validation ------------------------------------------------------------------
    def validate(self) -> "KfConfig":
        """LLK-4 checks that do not need the device; raises InvalidArgument (EINVAL)."""
        where = f"KF region {self.kf_start:#x}+{self.kf_size:#x}"
        sub, page = self.subsector, self.page_size
        if self.kf_start <= 0 or self.kf_start % sub:
            raise InvalidArgument(f"{where}: kf_start must be non-zero and a multiple of the "
                                  f"{sub}-byte subsector")
        if self.kf_size <= 0 or self.kf_end > _U32:
            raise InvalidArgument(f"{where}: size must be positive and end within 32-bit addresses")
        if not _pow2(page) or page < 32 or sub % page:
            raise InvalidArgument(f"{where}: page size {page} must be a power of two >= 32 "
                                  f"dividing the subsector {sub}")
        if self.max_features < 0:
            raise InvalidArgument(f"{where}: max_features {self.max_features} is negative")
        if self.max_features >= 1 and self.slot_size < sub:
            raise InvalidArgument(f"{where}: {self.max_features} slots do not fit: slot size "
                                  f"{self.slot_size} < subsector {sub}")
        if not _pow2(self.ram_align) or self.ram_align < 8:
            raise InvalidArgument(f"{where}: ram_align {self.ram_align} must be a power of two >= 8")
        if self.ram_size < 0:
            raise InvalidArgument(f"{where}: ram_size {self.ram_size} is negative")
        if self.ram_base is not None:
            if self.ram_base <= 0 or self.ram_base % self.ram_align:
                raise InvalidArgument(f"{where}: ram_base {self.ram_base:#x} must be non-zero and a "
                                      f"multiple of ram_align {self.ram_align}")
            if self.ram_base + self.ram_size > _U32:
                raise InvalidArgument(f"{where}: RAM buffer {self.ram_base:#x}+{self.ram_size:#x} "
                                      f"passes the 32-bit address space")
        return self

    def to_json(self) -> dict:
        """The geometry as JSON data (absolute addresses, sizes in bytes, ``slot_size`` derived;
        ``ram_buffer_address`` None when scan-only)."""
        return {"kf_start": self.kf_start, "kf_size": self.kf_size, "subsector_size": self.subsector,
                "page_size": self.page_size, "max_features": self.max_features,
                "slot_size": self.slot_size, "ram_buffer_address": self.ram_base,
                "ram_buffer_size": self.ram_size, "ram_align": self.ram_align}


def config_for_area(area, base: int | None = None, *, max_features: int = DEFAULT_MAX_FEATURES,
                    ram_base: int | None = None, ram_size: int = DEFAULT_RAM_SIZE,
                    ram_align: int = DEFAULT_RAM_ALIGN, kf_size: int | None = None,
                    page_size: int | None = None) -> KfConfig:
    """Build and validate the :class:`KfConfig` of a KF partition (LLK-3, LLK-4).

    ``area`` is a :class:`flashstack.flash_map.FlashArea`; ``base`` its absolute address
    (default ``area.address``); ``kf_size`` the bytes used from the area start (default the
    whole area); RAM values are absolute addresses and bytes. Subsector = the area's erase page (must be uniform), page =
    the device's ``program_page_size`` unless ``page_size`` is given. Raises InvalidArgument
    (EINVAL) naming the partition for every LLK-4 violation.
    """
    name = getattr(area, "name", "?")
    dev = area.device
    if base is None:
        base = area.address
    if base is None:
        raise InvalidArgument(f"partition {name}: no absolute base address (kf_start); give base=")
    if dev.write_block_size != 1:
        raise InvalidArgument(f"partition {name}: write block size {dev.write_block_size} != 1 "
                              f"(LLKERNEL programs start at arbitrary bytes of a page)")
    if dev.erase_value != 0xFF:
        raise InvalidArgument(f"partition {name}: erase value {dev.erase_value:#x} != 0xff")
    sub = uniform_subsector(area.erase_pages(), area.offset, area.size, name)
    size = area.size if kf_size is None else kf_size
    if not 0 < size <= area.size:
        raise InvalidArgument(f"partition {name}: KF size {size:#x} outside 1..{area.size:#x}")
    page = getattr(dev, "program_page_size", DEFAULT_PAGE_SIZE) if page_size is None else page_size
    try:
        return KfConfig(base, size, sub, page, max_features, ram_base, ram_size, ram_align).validate()
    except InvalidArgument as exc:
        raise InvalidArgument(f"partition {name}: {exc.strerror}") from None
