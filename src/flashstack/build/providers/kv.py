"""``alios-kv`` partition content: an AliOS-Things KV store holding factory items.

Keys: the KV configuration — ``block_size`` (default 4096), ``total_size`` (default: as many
whole blocks as the partition holds, at most 255), ``max_key_len`` (128), ``max_val_len``
(512), ``align`` (4) — and the items: ``csv`` and/or ``json`` files (the formats of
:mod:`flashstack.kv.csvio`) and an inline ``[partitions.<label>.items]`` table whose values
are strings or ``{hex|text|file|u8..u64|i8..i64 = ...}`` (see
:func:`flashstack.build.manifest.decode_value`). Items are set in that order; a key given
twice is an error.

The store is built on a scratch copy of the partition: :class:`flashstack.kv.store.KVStore`
mounts it and :func:`flashstack.kv.csvio.import_items` validates every item (key and value
limits, duplicates, capacity by replaying the import) before setting them; the result is
then copied into the build.
"""

from __future__ import annotations

from ...errors import FlashError
from ...flash_map import FlashArea
from ..manifest import decode_value
from .base import Options, ScratchProvider, scratch_area

__all__ = ["KVProvider"]


class KVProvider(ScratchProvider):
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
        self.items = []   # csvio.KVItem, in set order
        for path in (self.csv, self.json):
            if path is not None:
                self.items.extend(self._read_items(path))
        from ...kv.csvio import KVItem
        for key, value in inline.items():
            where = entry.where(f"items.{key}")
            self.items.append(KVItem(key, decode_value(value, where, entry.base_dir), "inline", f"items.{key}"))
        self.config = None

    def _read_items(self, path) -> list:
        from ...kv import csvio  # store layer, imported when used

        kind = "csv" if path == self.csv else "json"
        try:
            return csvio.load_items(str(path), kind)
        except (ValueError, OSError) as exc:
            msg = exc.strerror if isinstance(exc, FlashError) else str(exc)
            raise self.fail(f"cannot read {path}: {msg}", kind) from None

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

    def check(self, area: FlashArea) -> None:
        from ...kv import csvio
        from ...kv.store import KVStore

        cfg = self._config(area)
        scratch = scratch_area(area)
        try:
            store = KVStore(scratch, cfg)
            store.mount()
            csvio.import_items(store, self.items)
        except FlashError as exc:
            raise self.fail(f"cannot build the store ({len(self.items)} items): {exc.strerror}") from None
        self.keys = [k.decode("utf-8", "replace") for k in store.keys()]
        self.config, self.scratch = cfg, scratch

    def copy_chunk(self) -> int:
        return self.block_size

    def describe(self) -> dict:
        cfg = self.config
        return {"type": self.type,
                "config": None if cfg is None else {
                    "total_size": cfg.total_size, "block_size": cfg.block_size,
                    "max_key_len": cfg.max_key_len, "max_val_len": cfg.max_val_len, "align": cfg.align},
                "csv": str(self.csv) if self.csv else None, "json": str(self.json) if self.json else None,
                "keys": getattr(self, "keys", [])}

