"""``llkernel`` partition content: a MicroEJ KF region, empty or with installed Features.

Keys: ``max_features`` (N, default 16), ``base`` (absolute address of the region; default the
partition's memory-mapped address), ``ram_base`` (link address of the Kernel RAM buffer;
required when Features are installed), ``ram_size`` (102400), ``ram_align`` (256),
``kf_size`` (default the partition size), ``page_size`` (default the device's program page),
and ``[[partitions.<label>.features]]`` tables with ``file`` and ``ram_size``. ``file`` is
installed exactly as ``flashstack feature install`` does it
(:func:`flashstack.llkernel.fo.feature_input`): a ``.fo`` (ELF) gives its unrelocated ROM
sections and, without ``ram_size``, its RAM upper bound; any other file is the raw ROM blob
with ``ram_size`` bytes of RAM (default 0).

An empty region is the erased partition (LLKERNEL has no format step); the configuration is
still validated. Features are installed through :meth:`flashstack.llkernel.FeatureStore.install`,
in manifest order (slot 0 first), on a scratch copy of the partition during the check;
the result is copied into the build.
"""

from __future__ import annotations

import hashlib

from ...errors import FlashError
from ...flash_map import FlashArea
from ...llkernel.config import DEFAULT_RAM_SIZE
from .base import Options, ScratchProvider, scratch_area

__all__ = ["LLKernelProvider"]

_HEADER = 32


class LLKernelProvider(ScratchProvider):
    type = "llkernel"

    def __init__(self, entry):
        super().__init__(entry)
        o = Options(entry)
        self.max_features = o.integer("max_features", 16, minimum=0, maximum=4096)
        self.base = o.integer("base", None, minimum=1)
        self.ram_base = o.integer("ram_base", None, minimum=1)
        self.ram_size = o.integer("ram_size", DEFAULT_RAM_SIZE, minimum=0)
        self.ram_align = o.integer("ram_align", 256, minimum=8)
        self.kf_size = o.integer("kf_size", None, minimum=1)
        self.page_size = o.integer("page_size", None, minimum=32)
        self.features: list[dict] = []
        for i, table in enumerate(o.array("features") or []):
            key = f"features[{i}]"
            if not isinstance(table, dict):
                raise self.fail("must be a table with file and ram_size", key)
            unknown = set(table) - {"file", "ram_size"}
            if unknown:
                raise self.fail(f"unknown key(s) {sorted(unknown)} (known: file, ram_size)", key)
            if not isinstance(table.get("file"), str):
                raise self.fail("needs file = \"feature.bin\"", key)
            path = entry.path(table["file"])
            if not path.is_file():
                raise self.fail(f"file {str(path)!r} not found", f"{key}.file")
            ram = table.get("ram_size")
            if ram is not None and (not isinstance(ram, int) or isinstance(ram, bool) or ram < 0):
                raise self.fail(f"ram_size must be a non-negative integer, got {ram!r}", f"{key}.ram_size")
            from ...llkernel.fo import feature_input   # a .fo installs as `feature install` does
            rom, ram, _ = feature_input(path, ram)
            self.features.append({"file": path, "ram_size": ram, "data": rom})
        o.finish()
        self.installed: list[dict] = []
        self.config: dict = {}

    def _store(self, area: FlashArea):
        from ...llkernel.store import FeatureStore  # store layer, imported when used

        base = self.base if self.base is not None else area.address
        if base is None:
            raise self.fail(f"partition {area.name} has no memory-mapped address; give base = 0x...",
                            "base")
        return FeatureStore(area, base, max_features=self.max_features, ram_base=self.ram_base,
                            ram_size=self.ram_size, ram_align=self.ram_align, kf_size=self.kf_size,
                            page_size=self.page_size)

    def check(self, area: FlashArea) -> None:
        store = self._store(area)   # validates the configuration (EINVAL), reads only
        self.config = store.config.to_json()
        if self.features and self.ram_base is None:
            raise self.fail("installing Features needs ram_base (the Kernel RAM buffer address)",
                            "ram_base")
        if len(self.features) > self.max_features:
            raise self.fail(f"{len(self.features)} features for {self.max_features} slots", "features")
        limit = store.slot_size - _HEADER
        for i, f in enumerate(self.features):
            if len(f["data"]) > limit:
                raise self.fail(f"{f['file']} has {len(f['data'])} bytes; a slot of {store.slot_size} "
                                f"bytes takes at most {limit}", f"features[{i}].file")
            if f["ram_size"] > self.ram_size:
                raise self.fail(f"ram_size {f['ram_size']} exceeds the RAM buffer of {self.ram_size}",
                                f"features[{i}].ram_size")
        # install on a scratch copy now, so RAM or slot exhaustion is found before writing
        scratch = scratch_area(area)
        self._install(self._store(scratch))
        self.scratch = scratch

    def copy_chunk(self) -> int:
        return self.config["subsector_size"]

    def _install(self, store) -> None:
        self.installed = []
        for i, f in enumerate(self.features):
            try:
                feature = store.install(f["data"], f["ram_size"])
            except FlashError as exc:
                raise self.fail(f"cannot install {f['file']}: {exc.strerror}", f"features[{i}]") from None
            self.installed.append({**feature.to_json(), "file": str(f["file"]),
                                   "sha256": hashlib.sha256(f["data"]).hexdigest()})

    def describe(self) -> dict:
        return {"type": self.type, "config": self.config, "features": self.installed}
