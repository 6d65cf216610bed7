"""Target: MicroEJ feature storage (:class:`flashstack.llkernel.FeatureStore`, docs/llkernel.md).

The model maps a Feature's handle to ``(rom_size, ram_size, content_seed)``. An install is
``allocateFeature`` + ``copyToROM`` in uneven chunks + ``flushCopyToROM``; a remove is
``freeFeature``. After a cut, remounted (boot scan):

- every Feature fully installed before the cut is listed, header and ROM content intact;
- an interrupted install leaves the Feature absent or listed; listed, its content may be
  incomplete and its header torn (spec §13) — reported as notes, not failures;
- an interrupted free leaves the Feature present (content intact) or gone;
- no other Feature disappears or appears;
- the RAM ranges of Features with intact headers never overlap and lie in the RAM buffer;
- the store then still installs and frees a Feature (exercise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..target import CheckOutcome, Geometry, Target, target_args
from ..workloads import feature_content, feature_workload
from ..._report import dumps

__all__ = ["FeatureTarget"]

HEADER = 32
_CHUNK = 1000  # uneven copy chunks: pages are completed across calls (LLK page buffering)


def _default_geometry() -> Geometry:
    # A 64 KiB KF region of 4 KiB subsectors, memory-mapped at 0x90000000 (QSPI XIP).
    return Geometry.uniform(64 * 1024, 4096, address=0x90000000, label="kf_partition")


@dataclass(frozen=True)
class FeatureTarget(Target):
    """Feature storage on ``geometry`` (default 64 KiB at 0x90000000) with ``max_features``
    slots and a RAM buffer ``ram_base`` + ``ram_size`` aligned to ``ram_align``."""

    kind = "llkernel"
    exercise_name = "install/free exercise"
    geometry: Geometry = field(default_factory=_default_geometry)
    max_features: int = 4
    ram_base: int = 0x20010000
    ram_size: int = 16 * 1024
    ram_align: int = 256
    board: str | None = None
    partition: str | None = None

    def mount(self, area):
        from ...llkernel import FeatureStore
        return FeatureStore(area, max_features=self.max_features, ram_base=self.ram_base,
                            ram_size=self.ram_size, ram_align=self.ram_align)

    def slot_size(self) -> int:
        sub = self.geometry.layout[0][1]
        return (self.geometry.size // sub // max(1, self.max_features)) * sub

    # --- operations ------------------------------------------------------------------------
    def apply_op(self, store, op: tuple):
        if op[0] == "install":
            _, rom_size, ram_size, seed = op
            handle = store.allocate_feature(rom_size, ram_size)
            if handle is None:
                return "ENOSPC"
            rom = feature_content(seed, rom_size)
            base = handle + HEADER
            for off in range(0, rom_size, _CHUNK):
                if store.copy_to_rom(base + off, rom[off:off + _CHUNK]) != 0:
                    return f"copy failed: {store.last_error}"
            if store.flush_copy_to_rom() != 0:
                return f"flush failed: {store.last_error}"
            return ("installed", handle)
        if op[0] == "remove":
            feats = store.features()
            if not feats:
                return "none"
            handle = feats[op[1] % len(feats)].handle
            store.free_feature(handle)
            return ("removed", handle)
        raise ValueError(f"unknown operation {op[0]!r}")

    def model_apply(self, model: dict, op: tuple, result):
        if not isinstance(result, tuple):
            return model
        new = dict(model)
        if result[0] == "installed":
            new[result[1]] = (op[1], op[2], op[3])
        else:
            new.pop(result[1], None)
        return new

    # --- checks --------------------------------------------------------------------------------
    def _content_ok(self, store, f, spec) -> bool:
        rom_size, _, seed = spec
        if f.rom_size != rom_size or f.rom_address != f.handle + HEADER:
            return False
        start = f.rom_address - store.kf_start
        return store.area.read(start, rom_size) == feature_content(seed, rom_size)

    def _header_ok(self, f, spec) -> bool:
        rom_size, ram_size, _ = spec
        return (f.rom_size == rom_size and f.ram_size == ram_size and f.rom_address == f.handle + HEADER
                and self.ram_base <= f.ram_address and f.ram_address % self.ram_align == 0
                and f.ram_address + f.ram_size <= self.ram_base + self.ram_size)

    def check(self, store, before, after, op) -> CheckOutcome:
        listed = {f.handle: f for f in store.features()}
        bad, notes, intact = [], [], []
        complete = set()  # header and content as installed: what the Kernel boots
        for h in sorted(set(before) | set(after) | set(listed)):
            f, b, a = listed.get(h), before.get(h), after.get(h)
            name = f"feature {h:#x}"
            if b is not None and a is not None and b == a:           # untouched by op
                if f is None:
                    bad.append(f"{name} (installed before the cut) is no longer listed")
                elif not self._header_ok(f, b):
                    bad.append(f"{name}: header changed (ROM {f.rom_size} at {f.rom_address:#x}, "
                               f"RAM {f.ram_size} at {f.ram_address:#x})")
                elif not self._content_ok(store, f, b):
                    bad.append(f"{name}: ROM content damaged")
                else:
                    intact.append(f)
                    complete.add(h)
            elif b is None and a is not None:                        # interrupted install
                if f is None:
                    notes.append("install interrupted: feature absent")
                elif not self._header_ok(f, a):
                    notes.append("install interrupted: listed with a torn header")
                elif self._content_ok(store, f, a):
                    notes.append("install interrupted: listed, content complete")
                    intact.append(f)
                    complete.add(h)
                else:
                    notes.append("install interrupted: listed, content incomplete")
                    intact.append(f)
            elif b is not None and a is None:                        # interrupted free
                if f is None:
                    notes.append("free interrupted: feature gone")
                elif self._header_ok(f, b) and self._content_ok(store, f, b):
                    notes.append("free interrupted: feature present")
                    intact.append(f)
                    complete.add(h)
                else:
                    bad.append(f"{name}: free interrupted left it listed with damaged header/content")
            elif f is not None:
                bad.append(f"{name} is listed but was never installed")
        bad += self._overlaps(intact)
        return CheckOutcome(bad, notes, (listed, complete))

    @staticmethod
    def _overlaps(feats) -> list:
        out = []
        spans = sorted((f.ram_address, f.ram_address + f.ram_size, f.handle) for f in feats if f.ram_size)
        for (s1, e1, h1), (s2, e2, h2) in zip(spans, spans[1:]):
            if s2 < e1:
                out.append(f"RAM of features {h1:#x} [{s1:#x}, {e1:#x}) and {h2:#x} [{s2:#x}, {e2:#x}) "
                           "overlap")
        return out

    def check_state(self, store, model) -> list:
        return self.check(store, model, model, ("check",)).violations

    def exercise(self, store, area, observed) -> list:
        """Boot as the Kernel does (a Feature whose install was cut fails its checks and is
        freed through ``onFeatureInitializationError(handle, CORRUPTED_CONTENT)``, spec §13),
        then install one small Feature, check it and every other, and free it again."""
        listed, complete = observed
        for h in sorted(set(listed) - complete):
            store.on_feature_initialization_error(h, 1)  # LLKERNEL_FEATURE_INIT_ERROR_CORRUPTED_CONTENT
        before = set(complete)
        handle = store.allocate_feature(100, 0)
        if handle is None:
            if len(before) < self.max_features:
                return [f"after the cut no Feature of 100 bytes can be allocated: {store.last_error}"]
            return []
        data = feature_content(handle, 100)
        if store.copy_to_rom(handle + HEADER, data) != 0 or store.flush_copy_to_rom() != 0:
            return [f"after the cut a copy into {handle:#x} fails: {store.last_error}"]
        again = self.mount(area)
        listed = {f.handle: f for f in again.features()}
        out = []
        if handle not in listed or area.read(handle + HEADER - again.kf_start, 100) != data:
            out.append(f"feature {handle:#x} installed after the cut is not listed intact after a reboot")
        missing = sorted(set(before) - set(listed))
        out += [f"feature {h:#x} vanished when another was installed after the cut" for h in missing]
        again.free_feature(handle)
        if handle in {f.handle for f in self.mount(area).features()}:
            out.append(f"feature {handle:#x} still listed after free")
        return out

    def workload(self, name: str, ops: int, seed: int) -> list:
        return feature_workload(name, ops, seed, self.max_features, self.slot_size(), self.ram_size)

    def dump(self, area) -> str:
        report = self.mount(area).scan()
        return dumps(report)

    def cli_args(self) -> list:
        return target_args(self, {"max_features": "--max-features"})
