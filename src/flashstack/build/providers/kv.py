"""``alios-kv`` partition content: an AliOS-Things KV store holding factory items.

Keys: the KV configuration — ``block_size`` (default 4096), ``total_size`` (default: as many
whole blocks as the partition holds, at most 255), ``max_key_len`` (128), ``max_val_len``
(512), ``align`` (4) — and the items: ``csv`` and/or ``json`` files (read by
:mod:`flashstack.kv.csvio`) and an inline ``[partitions.<label>.items]`` table whose values
are strings or ``{hex|text|file|u8..u64|i8..i64 = ...}`` (see
:func:`flashstack.build.manifest.decode_value`). Inline items come last, so they override
file items with the same key.

Every item is checked against the limits before anything is written; then the store is
built on a scratch copy of the partition with :class:`flashstack.kv.store.KVStore`
(mount, one ``set`` per item in order), which also proves the items fit (ENOSPC otherwise),
and the result is copied into the build.
"""

from __future__ import annotations

from ...errors import FlashError, PowerLoss
from ...flash_map import FlashArea
from ..manifest import ManifestError, decode_value
from .base import Options, Provider, copy_content, scratch_area

__all__ = ["KVProvider"]


class KVProvider(Provider):
    type = "alios-kv"

    def __init__(self, entry):
        super().__init__(entry)
        o = Options(entry)
        self.block_size = o.int("block_size", 4096, minimum=16)
        self.total_size = o.int("total_size", None, minimum=1)
        self.max_key_len = o.int("max_key_len", 128, minimum=1, maximum=255)
        self.max_val_len = o.int("max_val_len", 512, minimum=1, maximum=65535)
        self.align = o.int("align", 4)
        self.csv = o.file("csv")
        self.json = o.file("json")
        inline = o.table("items") or {}
        o.finish()
        self.items: list[tuple[bytes, bytes, str]] = []   # key, value, where it came from
        for path, kind in ((self.csv, "csv"), (self.json, "json")):
            if path is not None:
                self.items.extend((k, v, f"{kind} {path.name}") for k, v in self._read_items(path, kind))
        for key, value in inline.items():
            where = entry.where(f"items.{key}")
            self.items.append((key.encode("utf-8"), decode_value(value, where, entry.base_dir), "items"))
        self.scratch: FlashArea | None = None
        self.config = None

    def _read_items(self, path, kind: str) -> list[tuple[bytes, bytes]]:
        from ...kv import csvio  # store layer, imported when used

        reader = csvio.read_csv if kind == "csv" else csvio.read_json
        try:
            items = reader(path)
        except (ValueError, OSError) as exc:
            raise self.fail(f"cannot read {path}: {exc}", kind) from None
        return [(k.encode() if isinstance(k, str) else bytes(k), bytes(v)) for k, v in _pairs(items)]

    def _config(self, area: FlashArea):
        from ...kv.config import KVConfig

        total = self.total_size
        if total is None:
            total = min(area.size // self.block_size, 255) * self.block_size
        cfg = KVConfig(total_size=total, block_size=self.block_size, max_key_len=self.max_key_len,
                       max_val_len=self.max_val_len, align=self.align)
        try:
            cfg.validate()
        except FlashError as exc:
            raise self.fail(exc.strerror) from None
        if total > area.size:
            raise self.fail(f"total_size {total:#x} exceeds the partition size {area.size:#x}", "total_size")
        return cfg

    def _check_items(self, cfg) -> None:
        problems = []
        final: dict[bytes, bytes] = {}
        for key, value, src in self.items:
            name = key.decode("utf-8", "replace")
            where = f"{self.where()} ({self.type}): item {name!r} from {src}"
            if not key:
                problems.append(f"{where}: empty key")
            elif len(key) > cfg.max_key_len:
                problems.append(f"{where}: key of {len(key)} bytes exceeds max_key_len {cfg.max_key_len}")
            elif b"\xff" in key:
                problems.append(f"{where}: key holds a 0xFF byte (refused by the store)")
            if not value:
                problems.append(f"{where}: empty value (the KV refuses length 0)")
            elif len(value) > cfg.max_val_len:
                problems.append(f"{where}: value of {len(value)} bytes exceeds max_val_len {cfg.max_val_len}")
            final[key] = value
        if problems:
            raise ManifestError("; ".join(problems), problems)
        need = sum(cfg.record_len(len(k), len(v)) for k, v in final.items())
        room = (cfg.blocks - 1) * (cfg.block_size - 4)   # one block stays CLEAN for GC
        if need > room:
            raise self.fail(f"{len(final)} items need {need} bytes of records; the store of {cfg.blocks} "
                            f"blocks of {cfg.block_size} holds at most {room} (one block is kept for "
                            "garbage collection): over capacity")

    def check(self, area: FlashArea) -> None:
        from ...kv.store import KVStore

        cfg = self._config(area)
        self._check_items(cfg)
        scratch = scratch_area(area)
        try:
            store = KVStore(scratch, cfg)
            store.mount()
            for key, value, src in self.items:
                store.set(key, value)
        except PowerLoss:
            raise
        except FlashError as exc:
            raise self.fail(f"cannot build the store ({len(self.items)} items): {exc.strerror}") from None
        self.stats = store.stats()
        self.keys = [k.decode("utf-8", "replace") for k in store.keys()]
        self.config, self.scratch = cfg, scratch

    def render(self, area: FlashArea) -> None:
        if self.scratch is None:
            self.check(area)
        copy_content(self.scratch, area, self.block_size)

    def describe(self) -> dict:
        cfg = self.config
        return {"type": self.type,
                "config": None if cfg is None else {
                    "total_size": cfg.total_size, "block_size": cfg.block_size,
                    "max_key_len": cfg.max_key_len, "max_val_len": cfg.max_val_len, "align": cfg.align},
                "csv": str(self.csv) if self.csv else None, "json": str(self.json) if self.json else None,
                "keys": getattr(self, "keys", [])}


def _pairs(items):
    """(key, value) pairs from what csvio returns (a dict, or a list of pairs / objects)."""
    if isinstance(items, dict):
        return list(items.items())
    out = []
    for it in items:
        if isinstance(it, tuple) and len(it) == 2:
            out.append(it)
        else:
            out.append((it.key, it.value))
    return out
