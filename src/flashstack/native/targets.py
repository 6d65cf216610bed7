"""Torture targets for C code: the team's own storage sources, compiled with flashstack's
shims, driven through a known API (``zephyr-nvs``) or their own ``fs_boot`` / ``fs_step`` /
``fs_check`` (``custom``), on a :class:`~flashstack.native.machine.NativeFlash`.

A C target is its Python twin's target (same geometry, workloads, model and invariants) with
the store replaced by a C helper process: :class:`CStore`. The campaign engine checkpoints a
store before each step by copying it; copying a CStore forks its process, so a cut starts from
the exact RAM state the C code had before the step. A mount is a fresh process.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import IntegrityError, NoSpace, NotFound, error_for
from ..flash_map import FlashArea
from ..torture.target import CheckOutcome, Geometry, Target, location_args
from ..torture.targets.nvs import NVSTarget
from ..torture.workloads import parse_workload
from . import protocol as P
from .build import BuildSpec, build_helper
from .machine import NativeFlash, Proc

__all__ = ["CUSTOM_WORKLOADS", "CCustomTarget", "CNVSTarget", "CStore", "helper_for", "spec_args"]

_HELPERS: dict = {}

#: workloads of ``--api custom``: name -> (description, default parameters)
CUSTOM_WORKLOADS = {
    "steps": ("fs_step(1), fs_step(2), ... fs_step(ops) in order, with seeded reboots",
              {"reboot": 0.02}),
}


def helper_for(spec: BuildSpec) -> Path:
    """The compiled helper of ``spec`` (built once per process and cached on disk)."""
    exe = _HELPERS.get(spec)
    if exe is None or not exe.exists():
        exe = _HELPERS[spec] = build_helper(spec)
    return exe


def spec_args(spec: BuildSpec) -> list:
    """The ``flashstack torture c`` arguments that rebuild ``spec``."""
    args = ["--api", spec.api]
    for s in spec.sources:
        args += ["--source", str(s)]
    for d in spec.includes:
        args += ["-I", str(d)]
    for d in spec.defines:
        args += ["-D", str(d)]
    if spec.bits != 32:
        args += ["--bits", str(spec.bits)]
    return args


class CStore:
    """A mounted C store: one helper process. ``copy.deepcopy`` is a copy of its RAM (a fork);
    a copy of a copy not used yet forks when first used, its first call travelling with the
    fork (the engine's checkpoints are copied once per cut and never called). It refuses to
    pickle (a process cannot leave this Python process)."""

    __slots__ = ("__weakref__", "_parent", "_proc")

    def __init__(self, proc: Proc | None = None, parent: Proc | None = None):
        self._proc, self._parent = proc, parent

    @property
    def proc(self) -> Proc:
        if self._proc is None:
            assert self._parent is not None
            self._proc, self._parent = self._parent.fork(), None
        return self._proc

    def __deepcopy__(self, memo) -> CStore:
        if self._proc is not None:  # a live process changes: copy its RAM now
            return CStore(self._proc.fork())
        return CStore(parent=self._parent)  # a copy not yet used: the same checkpoint

    def __reduce__(self):
        raise TypeError("a C store (a helper process) cannot be pickled")

    def call(self, op: int, a: int = 0, b: int = 0, payload: bytes = b"", steps_done: int = 0,
             interrupted: int = 0, what: str = "a call") -> tuple[int, bytes]:
        if self._proc is None:
            assert self._parent is not None
            self._proc = self._parent.fork(op, a, b, payload, steps_done, interrupted, what)
            self._parent = None
            return self._proc.result(what)
        return self._proc.call(op, a, b, payload, steps_done, interrupted, what)


def _raise_rc(rc: int, what: str) -> None:
    if rc == -errno.ENOSPC:
        raise NoSpace(f"{what}: the C store returned -ENOSPC")
    if rc == -errno.ENOENT:
        raise NotFound(f"{what}: the C store returned -ENOENT")
    raise error_for(rc, f"{what}: the C store returned {rc}")


class _Native:
    """Build and mount for C targets (mixed into a Python twin's target)."""

    build_spec: BuildSpec
    geometry: Geometry
    map_address = False  # map the image at geometry.address in the helper (memory-mapped flash)

    def build(self) -> tuple[NativeFlash, FlashArea]:
        g = self.geometry
        dev = NativeFlash(helper_for(self.build_spec), layout=g.layout,
                          write_block_size=g.write_block_size, erase_value=g.erase_value,
                          allow_double_writes=g.allow_double_writes,
                          program_page_size=g.program_page_size, name="torture0",
                          address=g.address if self.map_address else None)
        area = FlashArea(g.area_id, 0, g.size, dev, label=g.label, node_labels=(g.label,),
                         address=g.address)
        return dev, area

    def boot_args(self) -> tuple[int, int]:
        return 0, 0

    def mount(self, area: FlashArea) -> CStore:
        dev = area.device
        assert isinstance(dev, NativeFlash)
        store = CStore(parent=dev.zygote())  # a reboot: a fresh copy of the zygote
        a, b = self.boot_args()
        rc, _ = store.call(P.OP_BOOT, a, b, what="mount")
        if rc != 0:
            raise IntegrityError(f"mount of the C store returned {rc} (any non-zero result is a "
                                 "failed mount)")
        return store


@dataclass(frozen=True)
class CNVSTarget(_Native, NVSTarget):
    """``--api zephyr-nvs``: the user's ``nvs_mount/nvs_write/nvs_delete/nvs_read`` on the NVS
    target's geometry, workloads and invariants (ids are the keys)."""

    kind = "c"
    build_spec: BuildSpec = field(default_factory=lambda: BuildSpec("zephyr-nvs"))

    def boot_args(self) -> tuple[int, int]:
        ss = self.sector_size or self.geometry.layout[0][1]
        return ss, self.sector_count or self.geometry.size // ss

    def open(self, area):  # pragma: no cover - the C store is mounted, never opened
        raise TypeError("a C target has no Python store")

    def _probe(self, store: CStore, keys) -> dict:
        payload = P.pack_kv((int(k).to_bytes(2, "little"), b"") for k in sorted(keys))
        rc, out = store.call(P.OP_OBSERVE, payload=payload, what="nvs_read")
        if rc:
            _raise_rc(rc, "nvs_read")
        return {int.from_bytes(k, "little"): v for k, v in P.unpack_kv(out)}

    def observe(self, store: CStore) -> dict:
        # NVS cannot list its ids: read the ids of the models last checked (kept on the
        # device, which lives as long as the campaign runner) and the GC exercise's id
        return self._probe(store, store.proc.dev.probe_keys | {self.churn_key})

    def _set_probe(self, store: CStore, *models) -> None:
        keys: set = set()
        for m in models:
            keys |= set(m)
        store.proc.dev.probe_keys = keys

    def check(self, store, before, after, op) -> CheckOutcome:
        self._set_probe(store, before, after)
        return super().check(store, before, after, op)

    def check_state(self, store, model) -> list:
        self._set_probe(store, model)
        return super().check_state(store, model)

    def kv_set(self, store, key, value) -> None:
        rc, _ = store.call(P.OP_SET, payload=P.pack_kv([(int(key).to_bytes(2, "little"), bytes(value))]),
                           what=f"nvs_write id {key}")
        if rc:
            _raise_rc(rc, f"nvs_write id {key}")

    def kv_delete(self, store, key) -> None:
        rc, _ = store.call(P.OP_DEL, payload=P.pack_kv([(int(key).to_bytes(2, "little"), b"")]),
                           what=f"nvs_delete id {key}")
        if rc:
            _raise_rc(rc, f"nvs_delete id {key}")

    def cli_args(self) -> list:
        args = ["c", *spec_args(self.build_spec), *location_args(self, NVSTarget().geometry)]
        if self.sector_size:
            args += ["--sector-size", str(self.sector_size)]
        if self.sector_count:
            args += ["--sector-count", str(self.sector_count)]
        return args


def _default_custom_geometry() -> Geometry:
    return Geometry.uniform(8192, 4096)


@dataclass(frozen=True)
class CCustomTarget(_Native, Target):
    """``--api custom``: the user's ``fs_boot()``, ``fs_step(i)`` and ``fs_check()``. The model
    is the number of steps that returned; after a cut ``fs_check()`` runs in a fresh boot with
    ``fs_completed_steps()`` = the steps that returned before the interrupted one."""

    kind = "c"
    geometry: Geometry = field(default_factory=_default_custom_geometry)
    build_spec: BuildSpec = field(default_factory=lambda: BuildSpec("custom"))
    board: str | None = None
    partition: str | None = None
    exercise_name = "fs_check"

    def initial_model(self) -> int:
        return 0

    def apply_op(self, store: CStore, op: tuple):
        rc, _ = store.call(P.OP_STEP, op[1], what=f"fs_step({op[1]})")
        return "ok" if rc == 0 else f"rc {rc}"

    def model_apply(self, model: int, op: tuple, result):
        return model + 1 if op[0] == "step" else model

    def _check(self, store: CStore, done: int, interrupted: int = 0) -> list:
        rc, out = store.call(P.OP_CHECK, steps_done=done, interrupted=interrupted, what="fs_check()")
        lines = [ln for ln in out.decode("utf-8", "backslashreplace").splitlines() if ln.strip()]
        if rc == 0:
            return []
        return [f"fs_check(): {ln}" for ln in lines] or [f"fs_check() returned {rc}"]

    def check(self, store, before, after, op) -> CheckOutcome:
        return CheckOutcome(self._check(store, before, op[1] if op[0] == "step" else 0), [], before)

    def check_state(self, store, model) -> list:
        return self._check(store, model)

    def workload(self, name: str, ops: int, seed: int) -> list:
        import random
        _, p = parse_workload(name, CUSTOM_WORKLOADS)
        rng = random.Random(seed)
        out: list = []
        i = 0
        while i < ops:
            if out and rng.random() < p["reboot"]:
                out.append(("reboot",))
            else:
                i += 1
                out.append(("step", i))
        return out

    def dump(self, area) -> str:
        return _hexdump(area)

    def cli_args(self) -> list:
        return ["c", *spec_args(self.build_spec), *location_args(self, CCustomTarget().geometry)]


def _hexdump(area, width: int = 32) -> str:
    """Non-erased lines of the partition (offset, hex); erased runs are summarised."""
    data = area.device.snapshot()
    ev = bytes([area.device.parameters.erase_value]) * width
    lines, skipped = [], 0
    for off in range(0, len(data), width):
        chunk = data[off:off + width]
        if chunk == ev[:len(chunk)]:
            skipped += 1
            continue
        if skipped:
            lines.append(f"  ... {skipped * width} erased bytes")
            skipped = 0
        lines.append(f"{off:06x}  {chunk.hex(' ')}")
    if skipped:
        lines.append(f"  ... {skipped * width} erased bytes")
    return "\n".join(lines)

