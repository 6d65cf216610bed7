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
from typing import ClassVar

from ..errors import IntegrityError, InvalidArgument, NoSpace, NotFound, error_for, quoted
from ..flash_map import FlashArea
from ..torture.target import CheckOutcome, PartitionGeometry, Target, TargetOption, target_args
from ..torture.targets.kv import KVTarget
from ..torture.targets.llkernel import FeatureTarget
from ..torture.targets.nvs import NVSTarget
from ..torture.targets.zms import ZMSTarget
from ..torture.workloads import parse_workload
from . import protocol as P
from .build import BuildSpec, build_helper
from .machine import NativeFlash, Proc

__all__ = ["C_TARGETS", "CUSTOM_WORKLOADS", "CCustomTarget", "CFeatureStore", "CFeatureTarget", "CKVTarget",
           "CNVSTarget", "CStore", "CZMSTarget", "helper_for",
           "kconfig_enabled", "spec_args"]

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
    """A mounted C store: one helper process. ``copy.deepcopy`` is a copy of its RAM (a fork),
    made lazily: the copy forks when first used, its first call travelling with the fork, or
    when the original is about to change (its next call forks every copy still pending on
    it first). The engine's checkpoints are copied once per cut and never called, so a cut
    costs one fork. It refuses to pickle (a process cannot leave this Python process)."""

    __slots__ = ("__weakref__", "_parent", "_proc")

    def __init__(self, proc: Proc | None = None, parent: Proc | None = None):
        self._proc, self._parent = proc, parent
        if parent is not None:
            parent.pending.add(self)

    @property
    def proc(self) -> Proc:
        self.materialize()
        assert self._proc is not None
        return self._proc

    def materialize(self) -> None:
        """Fork the pending copy now (its parent process is about to change)."""
        if self._proc is None:
            assert self._parent is not None
            self._parent.pending.discard(self)
            self._proc, self._parent = self._parent.fork(), None

    def __deepcopy__(self, memo) -> CStore:
        return CStore(parent=self._proc if self._proc is not None else self._parent)

    def __reduce__(self):
        raise TypeError("a C store (a helper process) cannot be pickled")

    def call(self, op: int, a: int = 0, b: int = 0, payload: bytes = b"", steps_done: int = 0,
             interrupted: int = 0, what: str = "a call") -> tuple[int, bytes]:
        if self._proc is None:
            assert self._parent is not None
            self._parent.pending.discard(self)
            self._proc = self._parent.fork(op, a, b, payload, steps_done, interrupted, what)
            self._parent = None
            return self._proc.result(what)
        return self._proc.call(op, a, b, payload, steps_done, interrupted, what)


def kconfig_enabled(defines, name: str) -> bool:
    """Whether ``defines`` (``-D`` values, ``NAME`` or ``NAME=VALUE``) turn Kconfig option
    ``name`` on: present, with no value or a value other than ``0``/``n``."""
    for d in defines:
        key, eq, value = str(d).partition("=")
        if key == name:
            return not eq or value.strip() not in ("0", "n", "")
    return False


def _raise_rc(rc: int, what: str) -> None:
    if rc == -errno.ENOSPC:
        raise NoSpace(f"{what}: the C store returned -ENOSPC")
    if rc == -errno.ENOENT:
        raise NotFound(f"{what}: the C store returned -ENOENT")
    raise error_for(rc, f"{what}: the C store returned {rc}")


class _Native:
    """Build and mount for C targets (mixed into a Python twin's target), and what ``torture
    c`` needs to know of each API: its name, options, defaults and flashstack's own twin, so
    the command never switches on API names (:data:`C_TARGETS`)."""

    #: the ``torture c --api`` name and a one-line description of what is driven
    api: ClassVar[str]
    api_help: ClassVar[str]
    #: the target fields ``torture c`` sets from options for this API
    c_options: ClassVar[tuple[TargetOption, ...]] = ()
    #: the board partition used when only ``--board`` is given
    default_partition: ClassVar[str] = "storage_partition"
    build_spec: BuildSpec
    geometry: PartitionGeometry
    map_address = False  # map the image at geometry.address in the helper (memory-mapped flash)

    def model_twin(self) -> Target:
        """flashstack's own store for this API on the same geometry (``--compare-model``).
        InvalidArgument (EINVAL) when there is none."""
        raise InvalidArgument(f"--compare-model: flashstack has no store of its own for "
                              f"--api {self.api}")

    def prepared(self) -> Target:
        """The target ready to run (e.g. with what only the compiled C can tell)."""
        assert isinstance(self, Target)
        return self

    def cli_args(self) -> list:
        """``c``, the build's arguments, the location and every option that differs from the
        default target's."""
        assert isinstance(self, Target)
        return target_args(self, {o.field: o.flag for o in self.c_options},
                           head=["c", *spec_args(self.build_spec)])

    def full_spec(self) -> BuildSpec:
        """What is compiled: the user's build plus what the target itself defines."""
        return self.build_spec

    def build(self) -> tuple[NativeFlash, FlashArea]:
        g = self.geometry
        dev = NativeFlash(helper_for(self.full_spec()), layout=g.layout,
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


class _ProbedDict(_Native):
    """Key-value access for C stores driven through a get/set/delete API: a store that
    cannot list its keys is asked for the keys of the models last checked (kept on the device,
    which lives as long as the campaign runner) and the GC exercise's key."""

    api_names = ("set", "delete", "get", "delete by prefix")

    def encode_key(self, key) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def decode_key(self, raw: bytes):  # pragma: no cover - interface
        raise NotImplementedError

    def _request(self, store: CStore, op: int, what: str, pairs) -> bytes:
        rc, out = store.call(op, payload=P.pack_kv(pairs), what=what)
        if rc:
            _raise_rc(rc, what)
        return out

    def observe(self, store: CStore) -> dict:
        keys = sorted(store.proc.dev.probe_keys | {self.churn_key}, key=repr)  # type: ignore[attr-defined]
        out = self._request(store, P.OP_OBSERVE, self.api_names[2],
                            [(self.encode_key(k), b"") for k in keys])
        return {self.decode_key(k): v for k, v in P.unpack_kv(out)}

    def _set_probe(self, store: CStore, *models) -> None:
        keys: set = set()
        for m in models:
            keys |= set(m)
        store.proc.dev.probe_keys = keys

    def check(self, store, before, after, op) -> CheckOutcome:
        self._set_probe(store, before, after)
        return super().check(store, before, after, op)  # type: ignore[misc]

    def check_state(self, store, model) -> list:
        self._set_probe(store, model)
        return super().check_state(store, model)  # type: ignore[misc]

    def kv_set(self, store, key, value) -> None:
        self._request(store, P.OP_SET, f"{self.api_names[0]} {quoted(key)}",
                      [(self.encode_key(key), bytes(value))])

    def kv_delete(self, store, key) -> None:
        self._request(store, P.OP_DEL, f"{self.api_names[1]} {quoted(key)}", [(self.encode_key(key), b"")])

    def kv_delete_prefix(self, store, prefix) -> None:
        self._request(store, P.OP_DELP, f"{self.api_names[3]} {quoted(prefix)}",
                      [(str(prefix).encode(), b"")])


@dataclass(frozen=True)
class CNVSTarget(_ProbedDict, NVSTarget):
    """``--api zephyr-nvs``: the user's ``nvs_mount/nvs_write/nvs_delete/nvs_read`` on the NVS
    target's geometry, workloads and invariants (ids are the keys)."""

    kind = "c"
    api = "zephyr-nvs"
    api_help = "nvs_mount/write/delete/read"
    c_options = NVSTarget.cli_options[:2]   # sector size and count; data CRC is the Kconfig's
    default_ops = 200
    build_spec: BuildSpec = field(default_factory=lambda: BuildSpec("zephyr-nvs"))
    api_names = ("nvs_write id", "nvs_delete id", "nvs_read", "")

    def __post_init__(self):
        # the C store's format follows its Kconfig: -D CONFIG_NVS_DATA_CRC sets data_crc (the
        # largest value, the scan of a dump and the --compare-model twin depend on it)
        if kconfig_enabled(self.build_spec.defines, "CONFIG_NVS_DATA_CRC"):
            object.__setattr__(self, "data_crc", True)

    def boot_args(self) -> tuple[int, int]:
        ss = self.sector_size or self.geometry.layout[0][1]
        return ss, self.sector_count or self.geometry.size // ss

    def open(self, area):  # pragma: no cover - the C store is mounted, never opened
        raise TypeError("a C target has no Python store")

    def encode_key(self, key) -> bytes:
        return int(key).to_bytes(2, "little")

    def decode_key(self, raw: bytes):
        return int.from_bytes(raw, "little")

    def model_twin(self) -> Target:
        return NVSTarget(geometry=self.geometry, sector_size=self.sector_size,
                         sector_count=self.sector_count, data_crc=self.data_crc)


@dataclass(frozen=True)
class CZMSTarget(_ProbedDict, ZMSTarget):
    """``--api zephyr-zms``: the user's ``zms_mount/zms_write/zms_delete/zms_read`` on the ZMS
    target's geometry, workloads and invariants (32-bit ids are the keys; NOR flash)."""

    kind = "c"
    api = "zephyr-zms"
    api_help = "zms_mount/write/delete/read"
    c_options = ZMSTarget.cli_options[:2]
    default_ops = 200
    build_spec: BuildSpec = field(default_factory=lambda: BuildSpec("zephyr-zms"))
    api_names = ("zms_write id", "zms_delete id", "zms_read", "")

    def boot_args(self) -> tuple[int, int]:
        ss = self.sector_size or self.geometry.layout[0][1]
        return ss, self.sector_count or self.geometry.size // ss

    def structure(self, store) -> list:
        return []  # the RAM index is the C code's

    def encode_key(self, key) -> bytes:
        return int(key).to_bytes(4, "little")

    def decode_key(self, raw: bytes):
        return int.from_bytes(raw, "little")

    def model_twin(self) -> Target:
        return ZMSTarget(geometry=self.geometry, sector_size=self.sector_size,
                         sector_count=self.sector_count)


@dataclass(frozen=True)
class CKVTarget(_ProbedDict, KVTarget):
    """``--api alios-kv``: the user's ``aos_kv_init/set/get/del/del_by_prefix`` on the AliOS KV
    target's geometry (default 8 KiB, 2 x 4 KiB, byte-programmable), workloads and key-value
    invariants. The store's own configuration (block size, alignment) is the C code's; the
    RAM-index structure checks of the Python KV do not apply."""

    kind = "c"
    api = "alios-kv"
    api_help = "aos_kv_init/set/get/del/del_by_prefix"
    default_ops = 200
    build_spec: BuildSpec = field(default_factory=lambda: BuildSpec("alios-kv"))
    api_names = ("aos_kv_set", "aos_kv_del", "aos_kv_get", "aos_kv_del_by_prefix")

    def encode_key(self, key) -> bytes:
        return str(key).encode()

    def decode_key(self, raw: bytes):
        return raw.decode("utf-8", "backslashreplace")

    def structure(self, store) -> list:
        return []

    def deep_structure(self, store) -> list:
        return []

    def model_twin(self) -> Target:
        return KVTarget(geometry=self.geometry)


def _kf_geometry() -> PartitionGeometry:
    # the llkernel target's 64 KiB KF region at 0x90000000, on multi-program NOR: the
    # reference rewrites whole program pages, header bytes included
    return PartitionGeometry.uniform(64 * 1024, 4096, address=0x90000000, label="kf_partition",
                            allow_double_writes=True)


@dataclass(frozen=True)
class _Feature:
    handle: int
    rom_address: int
    rom_size: int
    ram_address: int
    ram_size: int


class CFeatureStore:
    """The feature-storage calls of :class:`~flashstack.torture.targets.llkernel.FeatureTarget`
    as LLKERNEL_IMPL_* calls into the C store; sizes of a listed Feature come from its
    header in the image (the API has no call for them)."""

    def __init__(self, store: CStore, area: FlashArea, kf_start: int):
        self.store, self.area, self.kf_start = store, area, kf_start
        self.last_error = ""

    def _call(self, op: int, a: int = 0, b: int = 0, payload: bytes = b"", what: str = "") -> tuple:
        from ..llkernel.header import to_int32
        rc, out = self.store.call(op, to_int32(a), to_int32(b), payload, what=what)
        if rc:
            self.last_error = f"{what} returned {rc}"
        return rc, out

    def allocate_feature(self, rom_size: int, ram_size: int) -> int | None:
        _, out = self._call(P.OP_ALLOC, rom_size, ram_size, what="LLKERNEL_IMPL_allocateFeature")
        handle = int.from_bytes(out[:4], "little")
        if not handle:
            self.last_error = "LLKERNEL_IMPL_allocateFeature returned 0"
        return handle or None

    def copy_to_rom(self, address: int, data: bytes) -> int:
        rc, _ = self._call(P.OP_COPY, payload=address.to_bytes(4, "little") + bytes(data),
                           what="LLKERNEL_IMPL_copyToROM")
        return rc

    def flush_copy_to_rom(self) -> int:
        return self._call(P.OP_FLUSH, what="LLKERNEL_IMPL_flushCopyToROM")[0]

    def free_feature(self, handle: int) -> None:
        self._call(P.OP_FREE, handle, what="LLKERNEL_IMPL_freeFeature")

    def on_feature_initialization_error(self, handle: int, code: int) -> int:
        return self._call(P.OP_INITERR, handle, code, what="LLKERNEL_IMPL_onFeatureInitializationError")[0]

    def features(self) -> list:
        from ..llkernel.header import HEADER_SIZE, FeatureHeader
        _, out = self._call(P.OP_LIST, what="LLKERNEL_IMPL_getFeatureHandle")
        feats = []
        for i in range(0, len(out) - 11, 12):
            h, rom, ram = (int.from_bytes(out[i + j:i + j + 4], "little") for j in (0, 4, 8))
            head = FeatureHeader.unpack(self.area.read(h - self.kf_start, HEADER_SIZE)) \
                if self.kf_start <= h < self.kf_start + self.area.size - HEADER_SIZE else FeatureHeader()
            feats.append(_Feature(h, rom, head.rom_size, ram, head.ram_size))
        return feats


def _symbol_bounds(exe: Path, name: str) -> tuple[int, int]:
    """Address and size of the data symbol ``name`` in the helper (``nm -S``); EINVAL when
    the build has no such symbol."""
    import subprocess
    proc = subprocess.run(["nm", "-S", str(exe)], check=False, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        parts = line.split()
        # a function-local static is named name.N
        if len(parts) == 4 and parts[3].split(".")[0] == name:
            return int(parts[0], 16), int(parts[1], 16)
    from ..errors import InvalidArgument
    raise InvalidArgument(f"the C build has no symbol {name!r} (the Kernel RAM buffer); give "
                          "--ram-symbol")


@dataclass(frozen=True)
class CFeatureTarget(_Native, FeatureTarget):
    """``--api llkernel``: the user's LLKERNEL_IMPL_* (e.g. MicroEJ LLKERNEL_flash.c) on the
    feature-storage target's churn workload and invariants. The KF region is mapped at its
    address (default 64 KiB at 0x90000000); the target defines ``LLKERNEL_KF_START``,
    ``LLKERNEL_KF_BLOCK_SIZE``, ``LLKERNEL_FLASH_SUBSECTOR_SIZE`` and ``LLKERNEL_FLASH_PAGE_SIZE``
    from it, links ``_java_max_nb_dynamic_features`` at ``max_features``, and checks RAM
    ranges against the C build's ``ram_symbol`` (see :meth:`with_c_ram`)."""

    kind = "c"
    api = "llkernel"
    api_help = "the LLKERNEL_IMPL_* feature storage"
    c_options = (FeatureTarget.cli_options[0],
                 TargetOption("ram_symbol", "--ram-symbol", "The C build's Kernel RAM buffer (RAM "
                              "ranges are checked against it).", "text"))
    default_partition = "kf_partition"
    map_address = True
    geometry: PartitionGeometry = field(default_factory=_kf_geometry)
    build_spec: BuildSpec = field(default_factory=lambda: BuildSpec("llkernel"))
    ram_symbol: str = "kernel_ram_buffer"

    def full_spec(self) -> BuildSpec:
        from dataclasses import replace
        g = self.geometry
        ours = (f"LLKERNEL_FLASH_BASE={g.address or 0:#x}u", f"LLKERNEL_KF_START={g.address or 0:#x}u",
                f"LLKERNEL_KF_BLOCK_SIZE={g.size:#x}u", f"LLKERNEL_FLASH_SUBSECTOR_SIZE={g.layout[0][1]:#x}u",
                f"LLKERNEL_FLASH_PAGE_SIZE={g.program_page_size:#x}u", "LLKERNEL_LOG_LEVEL=0")
        return replace(self.build_spec, defines=ours + tuple(self.build_spec.defines),
                       symbols=(("_java_max_nb_dynamic_features", self.max_features),))

    def with_c_ram(self) -> CFeatureTarget:
        """This target with ``ram_base``/``ram_size`` of the C build's RAM buffer (compiles)."""
        from dataclasses import replace
        base, size = _symbol_bounds(helper_for(self.full_spec()), self.ram_symbol)
        return replace(self, ram_base=base, ram_size=size)

    def prepared(self) -> CFeatureTarget:
        return self.with_c_ram()

    def model_twin(self) -> Target:
        return FeatureTarget(geometry=self.geometry, max_features=self.max_features,
                             ram_base=self.ram_base, ram_size=self.ram_size)

    def mount(self, area):
        return CFeatureStore(_Native.mount(self, area), area, self.geometry.address or 0)

    def dump(self, area) -> str:
        from .._report import dumps
        return dumps(FeatureTarget.mount(self, area).scan())


def _default_custom_geometry() -> PartitionGeometry:
    return PartitionGeometry.uniform(8192, 4096)


@dataclass(frozen=True)
class CCustomTarget(_Native, Target):
    """``--api custom``: the user's ``fs_boot()``, ``fs_step(i)`` and ``fs_check()``. The model
    is the number of steps that returned; after a cut ``fs_check()`` runs in a fresh boot with
    ``fs_completed_steps()`` = the steps that returned before the interrupted one."""

    kind = "c"
    api = "custom"
    api_help = "your fs_boot/fs_step/fs_check"
    default_workload = "steps"
    default_ops = 200
    geometry: PartitionGeometry = field(default_factory=_default_custom_geometry)
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


#: ``torture c --api`` name -> C target class: the one place that lists the APIs
C_TARGETS: dict[str, type[_Native]] = {
    cls.api: cls for cls in (CNVSTarget, CZMSTarget, CKVTarget, CFeatureTarget, CCustomTarget)}
