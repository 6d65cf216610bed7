"""Target: the AliOS-Things KV store (:class:`flashstack.kv.KVStore`, docs/alios-kv.md).

Invariants are those of :mod:`flashstack.torture.kvlike` plus the store's own: no key has two
live copies after a remount (the RAM index the mount builds, §12.2 / issue #1215).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..kvlike import DictTarget
from ..target import Geometry, target_args
from ..workloads import DictSpace, dict_workload
from ..._report import dumps

__all__ = ["KVTarget"]


def _default_geometry() -> Geometry:
    # The default AliOS KV: 8 KiB = 2 blocks of 4 KiB on byte-programmable NOR (KV-1).
    return Geometry.uniform(8192, 4096, allow_double_writes=True)


def _dups(dups: dict) -> list:
    return [f"key {k!r} has {len(pos)} live copies at " + ", ".join(f"{p:#06x}" for p in pos)
            for k, pos in sorted(dups.items())]


def _key(i: int) -> str:
    return f"{'abcd'[i % 4]}/k{i:03d}"


@dataclass(frozen=True)
class KVTarget(DictTarget):
    """AliOS KV on ``geometry`` (default 8 KiB, 2 x 4 KiB blocks); ``block_size`` and
    ``total_size`` (default: the whole partition) as :class:`flashstack.kv.KVConfig`; ``hal``
    puts the store on a HAL partition view instead of the flash area; ``align`` 4 or 8.
    ``board``/``partition`` only name where the geometry came from (for reproducers)."""

    kind = "kv"
    geometry: Geometry = field(default_factory=_default_geometry)
    block_size: int = 4096
    total_size: int | None = None
    board: str | None = None
    partition: str | None = None
    hal: bool = False
    align: int = 4
    churn_size = 480

    def gc_cycle_done(self, erased: list) -> bool:
        # GC reclaims one DIRTY block per run and never moves a block of cold live records
        # (spec §11, §14 wear note): a full cycle is a partition's worth of block erases.
        return sum(erased) >= len(erased)

    def config(self):
        from ...kv import KVConfig
        return KVConfig(total_size=self.total_size or self.geometry.size, block_size=self.block_size,
                        align=self.align)

    def storage(self, area):
        """The area itself, or with ``hal`` its HAL partition view: a fresh one-row HAL table
        (PARAMETER_2 over the whole area) per boot, as the firmware's ``hal_flash_*`` layer."""
        if not self.hal:
            return area
        from ...hal import PAR_OPT_READ_EN, PAR_OPT_WRITE_EN, HalFlash, HalLogicPartition
        row = HalLogicPartition(0, "PARAMETER2", area.offset, area.size, PAR_OPT_READ_EN | PAR_OPT_WRITE_EN)
        return HalFlash({6: row}, {0: (area.device, 0)}).partition(6)

    def torn_crc_match(self, before: bytes, cut: bytes, cut_at: tuple) -> bool:
        from ..limits import torn_kv_record_matches
        return torn_kv_record_matches(before, cut, cut_at, self.config().pos32)

    def mount(self, area):
        from ...kv import KVStore
        store = KVStore(self.storage(area), self.config())
        store.mount()
        return store

    def observe(self, store) -> dict:
        # a key that is not UTF-8 can only come from a damaged record: keep it visible
        return {k.decode("utf-8", "backslashreplace"): v for k, v in store.items()}

    def kv_set(self, store, key, value) -> None:
        store.set(key, value)

    def kv_delete(self, store, key) -> None:
        store.delete(key)

    def kv_delete_prefix(self, store, prefix) -> None:
        store.delete_by_prefix(prefix)

    def structure(self, store) -> list:
        # the RAM index the remount built: every live copy of every key (KV-27)
        return _dups({k.decode("utf-8", "backslashreplace"): [c[0] for c in copies]
                      for k, copies in store.index.items() if len(copies) > 1})

    def deep_structure(self, store) -> list:
        # scan() re-runs the mount on a private copy of the image (KV-32): its own verdict
        return [f"scan(): {v}" for v in _dups(store.scan().duplicates)]

    def workload(self, name: str, ops: int, seed: int) -> list:
        return dict_workload(name, ops, seed, DictSpace(_key, 512, ("a/", "b/", "c/", "d/")))

    def dump(self, area) -> str:
        from ...kv import scan
        report = scan(self.storage(area), self.config())
        return dumps(report)

    def cli_args(self) -> list:
        return target_args(self, {"block_size": "--block-size", "total_size": "--total-size",
                                  "hal": "--hal", "align": "--align"})
