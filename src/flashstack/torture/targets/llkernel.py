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
from typing import ClassVar

from ..target import CheckOutcome, PartitionGeometry, Target, TargetOption
from ..workloads import feature_content, feature_workload
from ..._report import dumps

__all__ = ["FeatureTarget"]

HEADER = 32
_CHUNK = 1000  # uneven copy chunks: pages are completed across calls (LLK page buffering)


def _rom(content, rom_size: int) -> bytes:
    """A Feature's ROM bytes: ``content`` itself, or generated from it as a seed."""
    return content if isinstance(content, bytes) else feature_content(content, rom_size)


def _specs(model: dict) -> dict:
    """``model`` with every entry as ``(rom_size, ram_size, content, complete)`` (entries of
    generated workloads carry three: installed, hence complete)."""
    return {h: spec if len(spec) == 4 else (*spec, True) for h, spec in model.items()}


def _default_geometry() -> PartitionGeometry:
    # A 64 KiB KF region of 4 KiB subsectors, memory-mapped at 0x90000000 (QSPI XIP).
    return PartitionGeometry.uniform(64 * 1024, 4096, address=0x90000000, label="kf_partition")


@dataclass(frozen=True)
class FeatureTarget(Target):
    """Feature storage on ``geometry`` (default 64 KiB at 0x90000000) with ``max_features``
    slots and a RAM buffer ``ram_base`` + ``ram_size`` aligned to ``ram_align``."""

    kind = "llkernel"
    title = "MicroEJ feature storage, install/remove churn (flashstack.llkernel)."
    cli_options: ClassVar[tuple[TargetOption, ...]] = (
        TargetOption("max_features", "--max-features", "Slots N."),
        TargetOption("ram_base", "--ram-base", "Kernel RAM buffer address."),
        TargetOption("ram_size", "--ram-size", "Kernel RAM buffer size."),
    )
    default_workload = "churn"
    default_ops = 20
    exercise_name = "install/free exercise"
    geometry: PartitionGeometry = field(default_factory=_default_geometry)
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
    # Generated workloads: ("install", rom_size, ram_size, seed) and ("remove", index). Sessions
    # recorded from tests (:mod:`..recording`) also use the store's primitives: ("install",
    # rom_size, ram_size, rom bytes), ("alloc", rom_size, ram_size), ("copy", address, bytes),
    # ("flush",) and ("free", handle).
    def apply_op(self, store, op: tuple):
        name = op[0]
        if name == "install":
            _, rom_size, ram_size, content = op
            handle = store.allocate_feature(rom_size, ram_size)
            if handle is None:
                return "ENOSPC"
            rom = _rom(content, rom_size)
            base = handle + HEADER
            for off in range(0, rom_size, _CHUNK):
                if store.copy_to_rom(base + off, rom[off:off + _CHUNK]) != 0:
                    return f"copy failed: {store.last_error}"
            if store.flush_copy_to_rom() != 0:
                return f"flush failed: {store.last_error}"
            return ("installed", handle)
        if name == "remove":
            feats = store.features()
            if not feats:
                return "none"
            handle = feats[op[1] % len(feats)].handle
            store.free_feature(handle)
            return ("removed", handle)
        if name == "alloc":
            handle = store.allocate_feature(op[1], op[2])
            return "ENOSPC" if handle is None else ("allocated", handle)
        if name == "copy":
            return "ok" if store.copy_to_rom(op[1], op[2]) == 0 else "error"
        if name == "flush":
            return "ok" if store.flush_copy_to_rom() == 0 else "error"
        if name == "free":
            listed = op[1] in {f.handle for f in store.features()}
            store.free_feature(op[1])
            return ("removed", op[1]) if listed else "none"
        raise ValueError(f"unknown operation {op[0]!r}")

    def model_apply(self, model: dict, op: tuple, result):
        """``{handle: (rom_size, ram_size, content, complete)}``: content is a seed or the ROM
        bytes; an allocated Feature is incomplete (erased ROM) until a flush, and again after
        a copy into it (a page may stay pending until the next flush)."""
        new = dict(model)
        if isinstance(result, tuple) and result[0] == "installed":
            new[result[1]] = (op[1], op[2], op[3], True)
        elif isinstance(result, tuple) and result[0] == "allocated":
            new[result[1]] = (op[1], op[2], b"\xff" * op[1], False)
        elif isinstance(result, tuple) and result[0] == "removed":
            new.pop(result[1], None)
        elif op[0] == "copy" and result == "ok":
            for h, (rom_size, ram_size, content, _) in _specs(model).items():
                start = h + HEADER
                if isinstance(content, bytes) and start <= op[1] < start + rom_size:
                    at = op[1] - start
                    rom = content[:at] + op[2] + content[at + len(op[2]):]
                    new[h] = (rom_size, ram_size, rom[:rom_size], False)
        elif op[0] == "flush" and result == "ok":
            for h, (rom_size, ram_size, content, done) in _specs(model).items():
                if not done and isinstance(content, bytes):
                    new[h] = (rom_size, ram_size, content, True)
        return new

    def observe(self, store) -> dict:
        """The model of the Features a store lists (a recorded session's start): each one
        complete with the ROM bytes it holds; one whose header does not describe its slot
        (a torn install) with unknown sizes, checked only for staying listed."""
        out = {}
        for f in store.features():
            spec = (f.rom_size, f.ram_size, None, True)
            if self._header_ok(f, spec) and f.rom_size <= store.slot_size - HEADER:
                rom = store.area.read(f.rom_address - store.kf_start, f.rom_size)
                out[f.handle] = (f.rom_size, f.ram_size, rom, True)
            else:
                out[f.handle] = (None, None, None, False)
        return out

    def structure(self, store) -> list:
        """No rule beyond :meth:`check`'s (a recorded session's structure check)."""
        return []

    # --- checks --------------------------------------------------------------------------------
    def _content_ok(self, store, f, spec) -> bool:
        rom_size, _, content, _ = spec
        if f.rom_size != rom_size or f.rom_address != f.handle + HEADER:
            return False
        start = f.rom_address - store.kf_start
        return store.area.read(start, rom_size) == _rom(content, rom_size)

    def _header_ok(self, f, spec) -> bool:
        rom_size, ram_size, _, _ = spec
        if rom_size is None:
            return True             # a torn header as the test left it: only its presence counts
        return (f.rom_size == rom_size and f.ram_size == ram_size and f.rom_address == f.handle + HEADER
                and self.ram_base <= f.ram_address and f.ram_address % self.ram_align == 0
                and f.ram_address + f.ram_size <= self.ram_base + self.ram_size)

    def _complete(self, store, f, spec) -> bool:
        """Header and content as installed (what the Kernel boots); False while incomplete."""
        return spec[3] and self._header_ok(f, spec) and self._content_ok(store, f, spec)

    def check(self, store, before, after, op) -> CheckOutcome:
        listed = {f.handle: f for f in store.features()}
        before, after = _specs(before), _specs(after)
        bad, notes, intact = [], [], []
        complete = set()  # header and content as installed: what the Kernel boots
        for h in sorted(set(before) | set(after) | set(listed)):
            f, b, a = listed.get(h), before.get(h), after.get(h)
            name = f"feature {h:#x}"
            if b is not None and a is not None:
                if f is None:
                    bad.append(f"{name} (installed before the cut) is no longer listed")
                elif not self._header_ok(f, b):
                    bad.append(f"{name}: header changed (ROM {f.rom_size} at {f.rom_address:#x}, "
                               f"RAM {f.ram_size} at {f.ram_address:#x})")
                elif b == a and b[3] and not self._content_ok(store, f, b):
                    bad.append(f"{name}: ROM content damaged")
                else:
                    if b != a:                                       # interrupted copy/flush
                        notes.append("copy interrupted: " + ("content complete" if
                                     self._complete(store, f, a) else "content incomplete"))
                    if b[0] is not None:                     # not a torn header found so
                        intact.append(f)
                    if self._complete(store, f, b) or self._complete(store, f, a):
                        complete.add(h)
            elif b is None and a is not None:                        # interrupted install
                if f is None:
                    notes.append("install interrupted: feature absent")
                elif not self._header_ok(f, a):
                    notes.append("install interrupted: listed with a torn header")
                elif self._complete(store, f, a):
                    notes.append("install interrupted: listed, content complete")
                    intact.append(f)
                    complete.add(h)
                else:
                    notes.append("install interrupted: listed, content incomplete")
                    intact.append(f)
            elif b is not None and a is None:                        # interrupted free
                if f is None:
                    notes.append("free interrupted: feature gone")
                elif self._header_ok(f, b) and (not b[3] or self._content_ok(store, f, b)):
                    notes.append("free interrupted: feature present")
                    if b[0] is not None:
                        intact.append(f)
                    if self._complete(store, f, b):
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
