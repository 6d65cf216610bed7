"""Identify what a partition holds and summarise it.

Each probe takes a :class:`PartitionView` and returns a report dict or None ("not mine").
Probes run in a fixed order — erased, MCUboot, Zephyr ZMS, AliOS KV, Zephyr NVS, LLKERNEL,
littlefs —
and the first that recognises the bytes wins; otherwise the partition is "unknown data"
with its byte statistics. A hint (the partition's entry in a build record, or what the user
says) runs the named probe first and passes its configuration.

Report dict (all offsets partition-relative): ``kind``, ``summary`` (one line), ``health``
("ok", "warning", "error"), ``problems`` (list of strings), plus kind-specific fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .analysis import byte_summary, is_erased
from .littlefs import find_superblock, summarize_littlefs
from ..mcuboot.image import parse_image

__all__ = ["PartitionView", "PROBES", "identify", "KINDS"]


@dataclass
class PartitionView:
    """The bytes of one partition and what is known about it. ``area`` is a FlashArea over a
    private copy (store scanners need one); ``erase_page`` and ``write_block`` are bytes
    (``erase_page`` None for non-uniform pages); ``address`` is the absolute address of the
    partition start when memory-mapped."""

    name: str
    data: bytes
    area: object
    erase_value: int = 0xFF
    erase_page: int | None = 4096
    write_block: int = 1
    address: int | None = None


def _report(kind: str, summary: str, problems=(), warnings=(), **fields) -> dict:
    health = "error" if problems else "warning" if warnings else "ok"
    return {"kind": kind, "summary": summary, "health": health,
            "problems": list(problems) + list(warnings), **fields}


def probe_erased(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    if not is_erased(v.data, v.erase_value):
        return None
    note = ""
    if hint and hint.get("type") not in (None, "erased"):
        note = f" (built as an empty {hint['type']})"
    return _report("erased", f"erased ({v.erase_value:#04x}){note}")


def probe_mcuboot(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    img = parse_image(v.data)
    if img is None:
        return None
    hash_text = {True: "hash ok", False: "HASH MISMATCH", None: "no hash TLV"}[img.hash_ok]
    problems = list(img.problems)
    if img.hash_ok is False:
        problems.append(f"{img.hash_type} TLV does not match the image")
    summary = f"MCUboot image v{img.version}, {img.image_size} bytes, {hash_text}"
    if img.trailer_magic:
        summary += ", trailer magic set"
    return _report("mcuboot", summary, problems, mcuboot=img.to_json())


def probe_littlefs(v: PartitionView, hint: dict | None, details: bool) -> dict | None:
    sizes = [v.erase_page] if v.erase_page else []
    if hint and hint.get("config", {}).get("block_size"):
        sizes.insert(0, hint["config"]["block_size"])
    sb = find_superblock(v.data, sizes)
    if sb is None:
        return None
    info = summarize_littlefs(v.data, sb, details)
    problems = info.get("problems", [])
    if info["mounted"]:
        summary = (f"littlefs v{sb['version']}: {info['files']} files, {info['dirs']} dirs, "
                   f"{info['used_blocks']}/{sb['block_count']} blocks of {sb['block_size']} used")
    else:
        summary = f"littlefs v{sb['version']} superblock ({sb['block_count']} x {sb['block_size']})"
    return _report("littlefs", summary, problems, littlefs=info)


def probe_unknown(v: PartitionView, hint: dict | None, details: bool) -> dict:
    stats = byte_summary(v.data, v.erase_value, v.erase_page)
    summary = (f"unknown data: first non-erased byte at {stats['first_non_erased']:#x}, "
               f"entropy {stats['entropy']:.2f} bits/byte")
    if hint and hint.get("type") == "file" and hint.get("file"):
        summary += f" (built from {Path(hint['file']).name})"
    return _report("unknown", summary, bytes=stats)


def _store_probe(name: str) -> Callable:
    """A probe living in :mod:`flashstack.inspect.stores` (imports the store layers lazily)."""
    def probe(v, hint, details):
        from . import stores
        return getattr(stores, name)(v, hint, details)
    probe.__name__ = name
    return probe


def _zms_probe(v, hint, details):
    """:func:`flashstack.inspect.zms.probe_zms` (imports the ZMS layer lazily)."""
    from .zms import probe_zms
    return probe_zms(v, hint, details)


#: kind -> probe, in detection order
PROBES: dict[str, Callable] = {
    "erased": probe_erased,
    "mcuboot": probe_mcuboot,
    "zephyr-zms": _zms_probe,
    "alios-kv": _store_probe("probe_kv"),
    "zephyr-nvs": _store_probe("probe_nvs"),
    "llkernel": _store_probe("probe_llkernel"),
    "littlefs": probe_littlefs,
}
KINDS = tuple(PROBES) + ("unknown",)


def identify(v: PartitionView, hint: dict | None = None, details: bool = False) -> dict:
    """Run the probes (the hinted kind first) and return the first report; never raises for
    content problems (they go into ``problems``)."""
    order = list(PROBES)
    kind = (hint or {}).get("type")
    if kind in PROBES:
        order.remove(kind)
        order.insert(0, kind)
    for k in order:
        report = PROBES[k](v, hint if k == kind else None, details)
        if report is not None:
            return report
    return probe_unknown(v, hint if kind == "file" else None, details)
