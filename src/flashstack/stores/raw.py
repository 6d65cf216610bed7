"""``erased`` and ``raw``: a partition at the erase value, and bytes without a recognised
structure (reported as kind ``unknown`` with byte statistics; the ``file`` build type)."""

from __future__ import annotations

from pathlib import Path

from ..inspect.analysis import byte_summary, is_erased
from .base import Detection, PartitionView, StoreKind, report

__all__ = ["ErasedKind", "RawKind"]


class ErasedKind(StoreKind):
    name = "erased"
    title = "erased"
    order = 0
    provider = "flashstack.build.providers.raw:ErasedProvider"

    def detect(self, view: PartitionView) -> Detection | None:
        if not is_erased(view.data, view.erase_value):
            return None
        return Detection(self.name, 1.0, {"erase_value": view.erase_value}, {"erase_value": "bytes"})

    def describe(self, v: PartitionView, hint: dict | None, details: bool) -> dict | None:
        if not is_erased(v.data, v.erase_value):
            return None
        note = ""
        if hint and hint.get("type") not in (None, "erased"):
            note = f" (built as an empty {hint['type']})"
        return report("erased", f"erased ({v.erase_value:#04x}){note}")


class RawKind(StoreKind):
    """Bytes without a recognised structure: the fallback of detection (reported as kind
    ``unknown`` with byte statistics) and the ``file`` build type."""

    name = "raw"
    title = "unknown data"
    aliases = ("file", "unknown")
    order = 100
    provider = "flashstack.build.providers.raw:FileProvider"

    def detect(self, view: PartitionView) -> Detection | None:
        return None   # never claims bytes: it is what remains when nothing else does

    def describe(self, v: PartitionView, hint: dict | None, details: bool) -> dict:
        stats = byte_summary(v.data, v.erase_value, v.erase_page)
        summary = (f"unknown data: first non-erased byte at {stats['first_non_erased']:#x}, "
                   f"entropy {stats['entropy']:.2f} bits/byte")
        if hint and hint.get("type") == "file" and hint.get("file"):
            summary += f" (built from {Path(hint['file']).name})"
        return report("unknown", summary, bytes=stats)
