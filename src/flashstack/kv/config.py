"""``KVConfig``: the porting guide's knobs and their validation (docs/alios-kv.md §3, KV-1).

Upstream: ``components/kv/internal/kv_conf.h`` @1aa6efc6 (``KV_CONFIG_*``),
``kernel/modules/fs/kv/include/kvmgr.h`` (``CONFIG_AOS_KV_*``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidArgument
from .format import align_up, item_header_size

__all__ = ["KVConfig", "storage_segments"]


@dataclass(frozen=True)
class KVConfig:
    """KV geometry and limits. Sizes in bytes.

    ``partition`` is the HAL partition (default ``HAL_PARTITION_PARAMETER_2`` = 6) used when the
    store is opened through a HAL; ``total_size`` (8192) a multiple of ``block_size`` (4096, a
    power of two); ``max_key_len`` 1..255 (128); ``max_val_len`` 1..65535 (512); ``align`` 4 or 8;
    ``secure_level`` 0 (off), 1 or 2; ``span`` = ``(first, second, ptn_size)`` selects the HAL
    multi-partition mode (``CONFIG_AOS_KV_MULTIPTN_MODE``, docs/alios-hal.md §6).
    """

    total_size: int = 8192
    block_size: int = 4096
    max_key_len: int = 128
    max_val_len: int = 512
    align: int = 4
    secure_level: int = 0
    partition: int = 6
    span: tuple | None = None

    # --- derived ----------------------------------------------------------------
    @property
    def blocks(self) -> int:
        return self.total_size // self.block_size

    @property
    def pos32(self) -> bool:
        """32-bit positions when ``total_size >= 0x10000`` (the reference's rule)."""
        return self.total_size >= 0x10000 or self.block_size >= 0x10000

    @property
    def header_size(self) -> int:
        return item_header_size(self.pos32)

    @property
    def item_max_len(self) -> int:
        """``ITEM_MAX_LEN`` = HDR + max key + max value, unaligned (648 by default)."""
        return self.header_size + self.max_key_len + self.max_val_len

    def record_len(self, key_len: int, val_len: int) -> int:
        return align_up(self.header_size + key_len + val_len, self.align)

    def validate(self) -> None:
        """KV-1 rules that need no storage; raises InvalidArgument (EINVAL) naming the rule."""
        def bad(msg):
            raise InvalidArgument(f"KV config: {msg}")
        B = self.block_size
        if B < 16 or B & (B - 1):
            bad(f"block_size {B} is not a power of two >= 16")
        if self.total_size <= 0 or self.total_size % B:
            bad(f"total_size {self.total_size} is not a multiple of block_size {B}")
        if not 2 <= self.blocks <= 255:
            bad(f"total_size/block_size = {self.blocks} blocks; 2..255 required")
        if not 1 <= self.max_key_len <= 255:
            bad(f"max_key_len {self.max_key_len} outside 1..255")
        if not 1 <= self.max_val_len <= 65535:
            bad(f"max_val_len {self.max_val_len} outside 1..65535")
        if self.align not in (4, 8):
            bad(f"align {self.align} must be 4 or 8")
        if self.span is not None and (len(self.span) != 3 or self.span[2] % B):
            bad(f"span {self.span!r} must be (first, second, ptn_size) with ptn_size a multiple of "
                f"block_size {B}")
        if self.secure_level not in (0, 1, 2):
            bad(f"secure_level {self.secure_level} must be 0, 1 or 2")
        if align_up(self.item_max_len, self.align) >= B - 4:
            bad(f"an item of maximum size ({align_up(self.item_max_len, self.align)} bytes) does not fit "
                f"a block of {B} bytes; raise block_size or lower max_key_len/max_val_len")


def storage_segments(storage) -> list:
    """``[(storage_offset, length, FlashArea)]`` behind a FlashArea, HAL partition view or span."""
    if hasattr(storage, "segments"):
        return storage.segments()
    return [(0, storage.size, storage)]


def validate_storage(config: KVConfig, storage, *, writing: bool = True) -> None:
    """KV-1 rules against the storage: device write block 1, multi-program (only when
    ``writing``; a read-only analysis does not program), erase value 0xFF, KV area inside the
    storage, every block boundary on an erase-page boundary. InvalidArgument (EINVAL)."""
    name = getattr(storage, "name", "storage")
    if config.total_size > storage.size:
        raise InvalidArgument(f"KV on {name}: total_size {config.total_size:#x} exceeds the storage "
                              f"length {storage.size:#x}")
    for seg_off, seg_len, area in storage_segments(storage):
        dev = area.device
        p = dev.parameters
        where = f"KV on {name} (device {dev.name})"
        if p.write_block_size != 1:
            raise InvalidArgument(f"{where}: write block size {p.write_block_size}; the KV programs "
                                  "single state bytes and needs write block size 1")
        if writing and not p.caps.no_explicit_erase and not p.multi_program:
            raise InvalidArgument(f"{where}: device cannot re-program a byte (multi_program off, e.g. "
                                  "allow_double_writes=False); KV state bytes are programmed up to 3 times")
        if p.erase_value != 0xFF:
            raise InvalidArgument(f"{where}: erase value {p.erase_value:#x}; the KV format needs 0xFF")
        lay = dev.layout
        for b in range(config.blocks + 1):
            off = b * config.block_size
            if seg_off <= off <= seg_off + seg_len and off - seg_off <= area.size:
                if not lay.is_boundary(area.offset + off - seg_off):
                    page = lay.by_offset(min(area.offset + off - seg_off, dev.size - 1))
                    raise InvalidArgument(
                        f"{where}: KV block boundary {off:#x} is not an erase-page boundary (erase page "
                        f"{page.size:#x} bytes); block_size {config.block_size:#x} must be a multiple of "
                        "the erase page and the storage must start on one")
