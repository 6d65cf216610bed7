"""MCUboot image trailers: layout, decoding, the swap-type decision, and trailer writes.

Mirrors mcu-tools/mcuboot ``boot/bootutil/src/bootutil_public.c`` (``boot_read_swap_state``,
``boot_swap_type_multi``, ``boot_set_next``) and ``bootutil_misc.c`` / ``bootutil_area.c``
(offsets and sizes). Rule IDs (MCB-…) are defined in docs/mcuboot-trailer.md. Every offset
here is relative to the start of the flash area (slot or scratch), in bytes.
"""

from __future__ import annotations

import errno as _errno
import struct
from dataclasses import dataclass
from enum import IntEnum

from ..errors import FlashError, InvalidArgument, PowerLoss

__all__ = [
    "BOOT_EBADIMAGE",
    "BOOT_EBADVECT",
    "BOOT_EFLASH",
    "MODES",
    "TRAILER_STATES",
    "BootConfig",
    "Flag",
    "Magic",
    "McubootError",
    "SwapState",
    "SwapType",
    "TrailerLayout",
    "boot_magic",
    "boot_set_confirmed",
    "boot_set_pending",
    "boot_swap_type",
    "detect_max_align",
    "read_swap_state",
    "set_confirmed",
    "set_next",
    "set_pending",
    "swap_type",
    "swap_type_of",
    "trailer_layout",
    "write_trailer",
]

MODES = ("swap-move", "swap-scratch", "swap-offset")
BOOT_EFLASH, BOOT_EBADIMAGE, BOOT_EBADVECT = 1, 3, 4
_MAGIC_LEGACY = struct.pack("<4I", 0xF395C277, 0x7FEFD260, 0x0F505235, 0x8079B62C)
_MAGIC_TAIL = bytes.fromhex("2de15d29410b8d77679c110f1f8a")
#: states write_trailer accepts (MCB-WRITE-3)
TRAILER_STATES = ("none", "pending-test", "pending-permanent", "confirmed")


class SwapType(IntEnum):
    """bootutil's ``BOOT_SWAP_TYPE_*`` values."""

    NONE = 1
    TEST = 2
    PERM = 3
    REVERT = 4
    FAIL = 5
    PANIC = 0xFF


class Magic(IntEnum):
    GOOD = 1
    BAD = 2
    UNSET = 3


class Flag(IntEnum):
    SET = 1
    BAD = 2
    UNSET = 3


class McubootError(FlashError):
    """A bootutil call failed: ``.rc`` is bootutil's return code (1 BOOT_EFLASH, 3
    BOOT_EBADIMAGE, 4 BOOT_EBADVECT), ``.errno`` EINVAL for a bad trailer, EIO for flash errors."""

    default_errno = _errno.EINVAL

    def __init__(self, message: str, rc: int, code: int | None = None):
        super().__init__(message, code)
        self.rc = rc


@dataclass(frozen=True)
class BootConfig:
    """The bootloader's compile-time options: ``mode`` (one of MODES), ``max_align``
    (``BOOT_MAX_ALIGN``: 8, 16 or 32 bytes), ``max_img_sectors`` (``MCUBOOT_MAX_IMG_SECTORS``)
    and ``image_index`` (the image pair). Raises InvalidArgument (EINVAL) on other values."""

    mode: str = "swap-move"
    max_align: int = 8
    max_img_sectors: int = 128
    image_index: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidArgument(f"MCUboot mode {self.mode!r}: expected one of {', '.join(MODES)}")
        if self.max_align not in (8, 16, 32):
            raise InvalidArgument(f"BOOT_MAX_ALIGN {self.max_align}: expected 8, 16 or 32")
        if not 1 <= self.max_img_sectors <= 0x10000:
            raise InvalidArgument(f"MCUBOOT_MAX_IMG_SECTORS {self.max_img_sectors} out of range")
        if not 0 <= self.image_index <= 15:
            raise InvalidArgument(f"image index {self.image_index}: expected 0..15")

    @property
    def entries_per_sector(self) -> int:
        """Status entries per sector (MCB-STAT-1): 2 for swap-offset, else 3."""
        return 2 if self.mode == "swap-offset" else 3


@dataclass(frozen=True)
class SwapState:
    """One area's decoded trailer (``struct boot_swap_state``). ``swap_type`` is an int: 0 occurs."""

    magic: Magic
    swap_type: int
    image_num: int
    copy_done: Flag
    image_ok: Flag

    def to_json(self) -> dict:
        return {"magic": self.magic.name.lower(), "swap_type": self.swap_type, "image_num": self.image_num,
                "copy_done": self.copy_done.name.lower(), "image_ok": self.image_ok.name.lower()}


@dataclass(frozen=True)
class TrailerLayout:
    """Offsets of one area's trailer fields (MCB-LAYOUT-1), area-relative bytes.
    ``magic_write`` is (offset, length) of the single magic program operation."""

    size: int
    magic: int
    magic_write: tuple[int, int]
    image_ok: int
    copy_done: int
    swap_info: int
    unprotected_tlv_sizes: int | None
    swap_size: int
    status: int
    status_entries: int
    entry_size: int
    info_size: int
    trailer_size: int


def _up(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def _down(x: int, a: int) -> int:
    return x // a * a


def boot_magic(max_align: int) -> bytes:
    """The 16-byte trailer magic a bootloader built with ``max_align`` accepts (MCB-MAGIC-1)."""
    if max_align == 8:
        return _MAGIC_LEGACY
    return struct.pack("<H", max_align) + _MAGIC_TAIL


def detect_max_align(tail: bytes) -> int | None:
    """The ``max_align`` whose magic ends ``tail`` (as imgtool dumpinfo infers it), else None."""
    last = bytes(tail[-16:])
    if last == _MAGIC_LEGACY:
        return 8
    if len(last) == 16 and last[2:] == _MAGIC_TAIL:
        return struct.unpack_from("<H", last)[0]
    return None


def trailer_layout(slot_size: int, write_align: int, cfg: BootConfig, *, scratch: bool = False) -> TrailerLayout:
    """Field offsets of an area of ``slot_size`` bytes with write size ``write_align`` (MCB-LAYOUT-1,
    MCB-LAYOUT-2); ``scratch`` gives the scratch area's (n status entries instead of
    n·max_img_sectors). EINVAL when ``write_align > max_align`` (bootutil cannot write it)."""
    ma, w = cfg.max_align, write_align
    if w < 1 or w > ma:
        raise InvalidArgument(f"write size {w} bytes: bootutil needs 1 <= write size <= BOOT_MAX_ALIGN ({ma})")
    iok = _down(slot_size - 16 - ma, ma)
    offset_mode = cfg.mode == "swap-offset"
    info = 4 * ma + (ma if offset_mode else 0) + _up(16, ma)
    n = cfg.entries_per_sector
    entries = n if scratch else n * cfg.max_img_sectors
    trailer = entries * w + info
    if trailer > slot_size:
        raise InvalidArgument(f"area of {slot_size} bytes is smaller than its MCUboot trailer ({trailer} bytes)")
    return TrailerLayout(size=slot_size, magic=slot_size - 16, magic_write=(_down(slot_size - 16, ma), _up(16, ma)),
                         image_ok=iok, copy_done=iok - ma, swap_info=iok - 2 * ma,
                         unprotected_tlv_sizes=iok - 3 * ma if offset_mode else None,
                         swap_size=iok - (4 if offset_mode else 3) * ma, status=slot_size - trailer,
                         status_entries=entries, entry_size=w, info_size=info, trailer_size=trailer)


def area_layout(area, cfg: BootConfig, *, scratch: bool = False) -> TrailerLayout:
    """:func:`trailer_layout` of a FlashArea (its size and write size)."""
    return trailer_layout(area.size, area.align, cfg, scratch=scratch)


def _flag(b: int, erased: int) -> Flag:
    if b == erased:
        return Flag.UNSET
    return Flag.SET if b == 1 else Flag.BAD


def read_swap_state(area, *, cfg: BootConfig) -> SwapState:
    """``boot_read_swap_state``: decode ``area``'s trailer (MCB-READ-1..3). The fields are
    decoded independently. Raises the area's read errors (EIO, …)."""
    lay = trailer_layout(area.size, 1, cfg, scratch=True)   # field offsets do not depend on the write size
    tail = area.read(lay.swap_size, area.size - lay.swap_size)
    e = area.erased_val

    def at(off: int) -> int:
        return tail[off - lay.swap_size]

    magic = bytes(tail[-16:])
    m = Magic.UNSET if magic == bytes([e]) * 16 else Magic.GOOD if magic == boot_magic(cfg.max_align) else Magic.BAD
    info = at(lay.swap_info)
    st, num = (1, 0) if info == e or (info & 0xF) > 4 else (info & 0xF, info >> 4)
    return SwapState(magic=m, swap_type=st, image_num=num, copy_done=_flag(at(lay.copy_done), e),
                     image_ok=_flag(at(lay.image_ok), e))


def swap_type(primary: SwapState, secondary: SwapState, *, cfg: BootConfig) -> SwapType:
    """``boot_swap_type_multi``: the swap the trailers request (MCB-TYPE-1). Only magic,
    image_ok and copy_done count; fail and panic are never returned here."""
    if secondary.magic is Magic.GOOD:
        if cfg.mode == "swap-offset" and secondary.image_ok is Flag.UNSET and secondary.copy_done is Flag.SET:
            return SwapType.REVERT
        if secondary.image_ok is Flag.UNSET:
            return SwapType.TEST
        if secondary.image_ok is Flag.SET:
            return SwapType.PERM
    if primary.magic is Magic.GOOD and primary.image_ok is Flag.UNSET and primary.copy_done is Flag.SET:
        return SwapType.REVERT
    return SwapType.NONE


def swap_type_of(primary_area, secondary_area, *, cfg: BootConfig) -> SwapType:
    """:func:`swap_type` of two areas (reads both; a secondary read error counts as all-unset,
    as bootutil does)."""
    try:
        sec = read_swap_state(secondary_area, cfg=cfg)
    except FlashError:
        sec = SwapState(Magic.UNSET, 1, 0, Flag.UNSET, Flag.UNSET)
    return swap_type(read_swap_state(primary_area, cfg=cfg), sec, cfg=cfg)


def _write_field(area, off: int, value: bytes) -> None:
    """``boot_write_trailer``: one program of ``align_up(len, w)`` bytes, padded with the erase value."""
    w = area.align
    area.write(off, value + bytes([area.erased_val]) * (_up(len(value), w) - len(value)))


def _write_magic(area, lay: TrailerLayout, cfg: BootConfig) -> None:
    off, n = lay.magic_write
    area.write(off, bytes([area.erased_val]) * (n - 16) + boot_magic(cfg.max_align))


def set_next(area, active: bool, confirm: bool, *, cfg: BootConfig) -> None:
    """``boot_set_next``: mark ``area`` pending (not active) or confirmed (active), MCB-WRITE-1.
    Raises McubootError rc 4 (active) / 3 (pending) on a bad magic, rc 1 (EIO) on a flash
    error; nothing is written on a bad magic."""
    confirm = confirm or active
    lay = area_layout(area, cfg)
    try:
        st = read_swap_state(area, cfg=cfg)
        if st.magic is Magic.GOOD:
            if active and st.image_ok is Flag.UNSET:
                _write_field(area, lay.image_ok, b"\x01")
        elif st.magic is Magic.UNSET:
            if not active:
                _write_magic(area, lay, cfg)
                if confirm:
                    _write_field(area, lay.image_ok, b"\x01")
                _write_field(area, lay.swap_info, bytes([(cfg.image_index << 4) | (3 if confirm else 2)]))
        else:
            rc = BOOT_EBADVECT if active else BOOT_EBADIMAGE
            raise McubootError(f"partition {area.name}: trailer magic is neither erased nor valid for "
                               f"BOOT_MAX_ALIGN {cfg.max_align}; nothing written (rc {rc})", rc)
    except (McubootError, PowerLoss):     # a simulated power cut stays a fault, not an rc
        raise
    except FlashError as exc:
        raise McubootError(f"partition {area.name}: flash error while writing the trailer: {exc}",
                           BOOT_EFLASH, _errno.EIO) from exc


def set_pending(secondary_area, permanent: bool = False, *, cfg: BootConfig) -> None:
    """``boot_set_pending_multi``: request a test (or permanent) swap to the image in the secondary."""
    set_next(secondary_area, False, permanent, cfg=cfg)


def set_confirmed(primary_area, *, cfg: BootConfig) -> None:
    """``boot_set_confirmed_multi``: confirm the image in the primary slot."""
    set_next(primary_area, True, True, cfg=cfg)


def _rc(fn, *args, **kwargs) -> int:
    try:
        fn(*args, **kwargs)
    except McubootError as exc:
        return exc.rc
    return 0


def boot_set_pending(permanent: int, *, secondary, cfg: BootConfig) -> int:
    """Seed API ``boot_set_pending(permanent)``: 0, or BOOT_EBADIMAGE (3) / BOOT_EFLASH (1)."""
    return _rc(set_pending, secondary, bool(permanent), cfg=cfg)


def boot_set_confirmed(*, primary, cfg: BootConfig) -> int:
    """Seed API ``boot_set_confirmed()``: 0, or BOOT_EBADVECT (4) / BOOT_EFLASH (1)."""
    return _rc(set_confirmed, primary, cfg=cfg)


def boot_swap_type(*, primary, secondary, cfg: BootConfig) -> int:
    """Seed API ``boot_swap_type()``: the BOOT_SWAP_TYPE_* value of the pair."""
    return int(swap_type_of(primary, secondary, cfg=cfg))


def write_trailer(area, state: str, *, cfg: BootConfig, style: str = "bootutil", slot: str = "secondary") -> None:
    """Program an erased trailer for a build (MCB-WRITE-3): ``state`` in TRAILER_STATES,
    ``style`` "bootutil" (the bytes of set_pending/set_confirmed) or "imgtool" (magic and
    image_ok only). EINVAL for a state that does not belong to ``slot``, an unknown style, or
    a trailer that is not erased; device errors as raised."""
    if state not in TRAILER_STATES or style not in ("bootutil", "imgtool") or slot not in ("primary", "secondary"):
        raise InvalidArgument(f"partition {area.name}: trailer state {state!r} / style {style!r} / slot {slot!r} "
                              f"unknown (states: {', '.join(TRAILER_STATES)})")
    if state == "none":
        return
    if (slot == "primary") != (state == "confirmed"):
        raise InvalidArgument(f"partition {area.name}: state {state!r} does not apply to a {slot} slot "
                              "(confirmed is for primary slots, pending-* for secondary slots)")
    lay = area_layout(area, cfg)
    start = area.size - lay.info_size
    if area.read(start, lay.info_size) != bytes([area.erased_val]) * lay.info_size:
        raise InvalidArgument(f"partition {area.name}: trailer at {start:#x} is not erased; build writes "
                              "only into erased trailers")
    confirm = state in ("pending-permanent", "confirmed")
    _write_magic(area, lay, cfg)
    if confirm:
        _write_field(area, lay.image_ok, b"\x01")
    if style == "bootutil" and slot == "secondary":
        _write_field(area, lay.swap_info, bytes([(cfg.image_index << 4) | (3 if confirm else 2)]))
