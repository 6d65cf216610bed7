"""Page-buffered copy into Feature ROM (docs/llkernel.md §9, LLK-14..LLK-21).

One pending page for the whole store, a high-water mark per page of every open Feature's
ROM. Addresses are absolute. The behaviour replaces the buffering of MicroEJ KERNEL-FLASH
1.0.3 ``LLKERNEL_flash.c`` (copyToROM / flushCopyToROM) with its defects fixed: 0xFF in gaps
and tails, the pending page cleared every time it is programmed, a copy confined to the ROM
area of one allocated Feature and ascending within each page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..errors import FlashError

__all__ = ["OpenRom", "Copier"]


@dataclass
class OpenRom:
    """Copy state of one Feature allocated since the store was opened: ROM ``[start, end)``
    and ``hwm`` (page address -> end offset of the data already placed in that page)."""

    slot: int
    start: int
    end: int
    hwm: dict = field(default_factory=dict)


@dataclass
class _Pending:
    address: int          # page start
    buf: bytearray        # page image, 0xFF where nothing was placed
    start: int            # first offset placed in this round
    fill: int             # end offset of the data placed so far
    slot: int             # owner


class Copier:
    """The copy state machine. ``program(address, data)`` programs ``data`` at an absolute
    address (raising FlashError); failures are reported as ``(False, reason)``."""

    def __init__(self, page_size: int, program: Callable[[int, bytes], None]):
        self.page = page_size
        self._program = program
        self.open: dict[int, OpenRom] = {}
        self.pending: _Pending | None = None

    # --- Feature lifecycle ------------------------------------------------------------
    def open_feature(self, slot: int, slot_start: int, rom_start: int, rom_size: int) -> None:
        """Open ``slot``'s ROM for copies; its header page is used up to the ROM start."""
        rom = OpenRom(slot, rom_start, rom_start + rom_size)
        rom.hwm[slot_start] = rom_start - slot_start  # the header (page >= 32 bytes)
        self.open[slot] = rom

    def close_feature(self, slot: int) -> None:
        """Forget ``slot`` (freed): its pending page is discarded without programming (LLK-21)."""
        self.open.pop(slot, None)
        if self.pending is not None and self.pending.slot == slot:
            self.pending = None

    # --- copy ----------------------------------------------------------------------------
    def _owner(self, dest: int, size: int) -> OpenRom | None:
        for rom in self.open.values():
            if rom.start <= dest and dest + size <= rom.end:
                return rom
        return None

    def copy(self, dest: int, data: bytes) -> tuple[bool, str | None]:
        """Place ``data`` at ``dest`` (LLK-15..LLK-19). Validation precedes any effect."""
        size = len(data)
        rom = self._owner(dest, size)
        if rom is None:
            return False, (f"copy {dest:#x}+{size:#x} is not inside the ROM area of one Feature "
                           f"allocated since the store was opened")
        page, end = self.page, dest + size
        pos = dest
        while pos < end:
            base = pos - pos % page
            if pos - base < rom.hwm.get(base, 0):
                return False, (f"copy {dest:#x}+{size:#x} goes back in page {base:#x} (data already "
                               f"placed up to offset {rom.hwm[base]})")
            pos = min(base + page, end)
        first = dest - dest % page
        if self.pending is not None and self.pending.address != first:
            ok, why = self._program_pending()
            if not ok:
                return False, why
        pos = dest
        while pos < end:
            base = pos - pos % page
            off = pos - base
            pend = self.pending
            if pend is None or pend.address != base:
                pend = self.pending = _Pending(base, bytearray(b"\xff" * page), off, off, rom.slot)
            n = min(page - off, end - pos)
            pend.buf[off:off + n] = data[pos - dest:pos - dest + n]
            pend.fill = off + n
            rom.hwm[base] = pend.fill
            pos += n
            if pend.fill == page:
                ok, why = self._program_pending()
                if not ok:
                    return False, why
        return True, None

    def flush(self) -> tuple[bool, str | None]:
        """LLK-20: program the pending page, if any."""
        if self.pending is None:
            return True, None
        return self._program_pending()

    def _program_pending(self) -> tuple[bool, str | None]:
        """LLK-19: one program of ``[start, page end)``; the pending state is cleared first."""
        pend, self.pending = self.pending, None
        assert pend is not None, "called with a page pending"
        try:
            self._program(pend.address + pend.start, bytes(pend.buf[pend.start:]))
        except FlashError as exc:
            return False, f"program of page {pend.address:#x} failed: {exc}"
        return True, None
