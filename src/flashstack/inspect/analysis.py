"""Byte statistics for partitions whose content is not recognised.

All offsets are relative to the start of the given bytes (partition-relative for a partition).
"""

from __future__ import annotations

import math
from collections import Counter

__all__ = ["entropy", "is_erased", "first_non_erased", "last_non_erased", "byte_summary"]


def entropy(data: bytes | bytearray) -> float:
    """Shannon entropy in bits per byte (0.0 for empty or constant data, 8.0 at most)."""
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


def is_erased(data: bytes, erase_value: int = 0xFF) -> bool:
    """True when every byte equals ``erase_value``."""
    return data.count(erase_value) == len(data)


def first_non_erased(data: bytes, erase_value: int = 0xFF) -> int | None:
    """Offset of the first byte differing from ``erase_value``, None if all erased."""
    stripped = data.lstrip(bytes([erase_value]))
    return None if not stripped else len(data) - len(stripped)


def last_non_erased(data: bytes, erase_value: int = 0xFF) -> int | None:
    """Offset of the last byte differing from ``erase_value``, None if all erased."""
    stripped = data.rstrip(bytes([erase_value]))
    return None if not stripped else len(stripped) - 1


def byte_summary(data: bytes, erase_value: int = 0xFF, page_size: int | None = None) -> dict:
    """Entropy (of the non-erased span), first/last non-erased offsets, erased byte count and,
    with ``page_size``, how many pages are entirely erased."""
    first = first_non_erased(data, erase_value)
    last = last_non_erased(data, erase_value)
    span = data[first:last + 1] if first is not None and last is not None else b""
    out = {"entropy": round(entropy(span), 3), "first_non_erased": first, "last_non_erased": last,
           "erased_bytes": data.count(erase_value), "size": len(data)}
    if page_size:
        ev = bytes([erase_value]) * page_size
        pages = [data[i:i + page_size] for i in range(0, len(data), page_size)]
        out["erased_pages"] = sum(1 for p in pages if p == ev[:len(p)])
        out["pages"] = len(pages)
    return out
