"""``alios-kv``: the AliOS-Things KV store (:mod:`flashstack.kv`) in the registry.

Detection reads the block headers ('K', state, 00 00): the block size is the smallest power
of two (>= the erase page, at most 4 KiB to start from) at which consecutive blocks from
offset 0 carry valid headers, the block count how many do. Decoding is the KV layer's own
scan and mount, on a private copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import FlashError
from ..kv.format import BLK_MAGIC, BLOCK_STATE_NAMES
from .base import Detection, PartitionView, PlanAdapter, StoreKind, report

__all__ = ["KVKind", "kv_block_header", "kv_block_size", "printable_key"]


def kv_block_header(data: bytes, off: int) -> str | None:
    """State name of a valid KV block header at ``off`` ('K', state, 00 00), else None."""
    if off + 4 > len(data) or data[off] != BLK_MAGIC or data[off + 2:off + 4] != b"\0\0":
        return None
    return BLOCK_STATE_NAMES.get(data[off + 1])


def kv_block_size(data: bytes, min_block: int = 1024) -> tuple[int, int] | None:
    """Infer ``(block_size, blocks)``: the smallest power-of-two block size (>= ``min_block``)
    at which at least two consecutive blocks from offset 0 carry valid block headers."""
    if kv_block_header(data, 0) is None:
        return None
    b = max(16, min_block)
    while 2 * b <= len(data):
        n = 0
        while (n + 1) * b <= len(data) and n < 255 and kv_block_header(data, n * b):
            n += 1
        if n >= 2:
            return b, n
        b *= 2
    return None


def printable_key(key: bytes) -> str:
    """A key as text when it is printable ASCII, else ``0x`` + hex (never a bytes repr)."""
    text = key.decode("latin-1")
    return text if key.isascii() and text.isprintable() else "0x" + key.hex()


def _min_block(view: PartitionView) -> int:
    return min(view.erase_page or 4096, 4096)


class _KVPlan(PlanAdapter):
    double_writes = True
    unit_name = "KV block"

    def min_unit(self, erase_page: int) -> int:
        # KV-1: a power of two that holds one item of maximum size (128 + 512 bytes by default)
        return max(erase_page, 4096)

    def refuse(self, unit: int, erase_page: int) -> str | None:
        if unit & (unit - 1):
            return f"KV block {unit:#x} is not a power of two"
        return super().refuse(unit, erase_page)

    def open(self, area, unit: int) -> Callable[[Any, bytes], Any]:
        from ..kv import KVConfig, KVStore
        store = KVStore(area, KVConfig(total_size=area.size, block_size=unit))
        store.mount()
        return store.set

    def key(self, workload, i: int) -> Any:
        return workload.key(i)

    def user_bytes(self, workload) -> int:
        return workload.key_size + workload.value_size


class KVKind(StoreKind):
    name = "alios-kv"
    title = "AliOS KV"
    aliases = ("kv", "aos-kv")
    order = 20
    provider = "flashstack.build.providers.kv:KVProvider"
    targets: ClassVar[dict[str, str]] = {"kv": "flashstack.torture.targets.kv:KVTarget"}
    default_partition = "storage_partition"
    plan = _KVPlan()

    def detect(self, view: PartitionView) -> Detection | None:
        geo = kv_block_size(view.data, _min_block(view))
        if geo is None:
            return None
        block, blocks = geo
        return Detection(self.name, 0.9, {"block_size": block, "total_size": block * blocks},
                         {"block_size": "block headers", "total_size": "block headers"})

    def config(self, params: dict):
        """A KVConfig from ``params`` (``total_size``, ``block_size``, ``max_key_len``,
        ``max_val_len``, ``align``); InvalidArgument (EINVAL) when it breaks KV-1."""
        from ..kv.config import KVConfig
        keys = ("total_size", "block_size", "max_key_len", "max_val_len", "align")
        cfg = KVConfig(**{k: params[k] for k in keys if params.get(k) is not None})
        cfg.validate()
        return cfg

    def open(self, area, params: dict, writable: bool) -> Any:
        from ..kv.store import KVStore, shadow_area
        cfg = self.config(params)
        return KVStore(area if writable else shadow_area(area, cfg), cfg)

    def describe(self, view: PartitionView, hint: dict | None, details: bool) -> dict | None:
        if kv_block_header(view.data, 0) is None:
            return None
        cfg, source = self._hinted_config(view, hint)
        if cfg is None:
            return None
        return _describe(view, cfg, source, details)

    def _hinted_config(self, view: PartitionView, hint: dict | None):
        from ..kv.config import KVConfig
        cfg = (hint or {}).get("config") or {}
        if cfg.get("block_size") and cfg.get("total_size"):
            keys = ("total_size", "block_size", "max_key_len", "max_val_len", "align")
            return KVConfig(**{k: cfg[k] for k in keys if k in cfg}), "build record"
        det = self.detect(view)
        if det is None:
            return None, None
        return KVConfig(**det.params), "inferred from block headers"


def _describe(v: PartitionView, cfg, source: str, details: bool) -> dict:
    from ..kv import scan as kv_scan
    from ..kv.store import KVStore

    problems: list[str] = []
    warnings: list[str] = []
    scan = None
    try:
        scan = kv_scan(v.area, cfg)   # read-only: blocks, records, duplicates, repairs, verdict
    except FlashError as exc:
        warnings.append(f"scan failed: {exc}")
    try:
        store = KVStore(v.area, cfg)
        store.mount(run_gc=False)   # the dump's blocks as they are: a pending GC is reported, not run
        items = store.items()
        stats = store.stats()
    except FlashError as exc:
        return report("alios-kv", f"AliOS KV ({source}) that does not mount: {exc}", [str(exc)])
    health = _kv_health(scan)
    problems.extend(health.pop("errors", []))
    warnings.extend(health.pop("warnings", []))
    blocks = stats["blocks"]
    states: dict[str, int] = {}
    for b in blocks:
        states[b["state"]] = states.get(b["state"], 0) + 1
    garbage = sum(b["dead"] for b in blocks)
    free = sum(b["free"] for b in blocks if b["state"] != "CLEAN")
    summary = (f"AliOS KV: {len(items)} keys in {cfg.blocks} blocks of {cfg.block_size} "
               f"({', '.join(f'{n} {s}' for s, n in sorted(states.items()))}); live {stats['live_bytes']} B, "
               f"garbage {garbage} B, free {free} B")
    if health.get("verdict") not in (None, "ok"):
        figures = [f"{health[k]} {k.replace('_', ' ')}" for k in ("crc_failures", "torn", "duplicates")
                   if health.get(k)]
        summary += f"; {health['verdict']}" + (f" ({', '.join(figures)})" if figures else "")
    out = {"config": {"total_size": cfg.total_size, "block_size": cfg.block_size,
                      "max_key_len": cfg.max_key_len, "max_val_len": cfg.max_val_len,
                      "align": cfg.align, "source": source},
           "keys": [printable_key(k) for k, _ in items],
           "items": {printable_key(k): val.hex() for k, val in items},
           "stats": {"live_keys": stats["live_keys"], "live_bytes": stats["live_bytes"],
                     "garbage_bytes": garbage, "free_bytes": free, "blocks": blocks,
                     "write_pos": stats["write_pos"]},
           "health": health}
    if details and scan is not None:
        out["scan"] = scan.to_json()
    return report("alios-kv", summary, problems, warnings, kv=out)


def _kv_health(scan) -> dict:
    """Health figures from the KV layer's scan report (:func:`flashstack.kv.scan`):
    records by status, CRC failures, duplicate keys, repairs mount would make, verdict."""
    if scan is None:
        return {}
    statuses: dict[str, int] = {}
    for r in scan.records:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    health = {"verdict": scan.verdict, "records": len(scan.records), "by_status": statuses,
              "crc_failures": sum(1 for r in scan.records if r.state == 0xEE and not r.crc_ok),
              "torn": statuses.get("torn", 0), "duplicates": len(scan.duplicates),
              "corrupt_areas": len(scan.corrupt), "mount_operations": len(scan.mount_ops),
              "gc_would_run": scan.gc_would_run}
    errors = list(scan.problems) if scan.verdict == "data loss" else []
    warnings = list(scan.problems) if scan.verdict != "data loss" else []
    health["errors"], health["warnings"] = errors, warnings
    return health
