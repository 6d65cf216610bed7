"""Power loss as a test parameter: record what a test does to a store, then cut it.

While a test runs, :class:`StoreRecorder` watches the key-value stores it mounts (Zephyr NVS,
ZMS, AliOS KV, and what runs on them: Settings on NVS or ZMS) and the LLKERNEL feature stores
it opens. Each mount of a store starts a *session*: the partition image before the mount, then
every acknowledged ``write``/``set``/``delete``/``delete_by_prefix`` as a torture operation
(``("set", key, value)``, ``("del", key)``, ``("delp", prefix)``; NoSpace and NotFound results
included); for a feature store each install, allocate, copy, flush and free
(:class:`~.targets.llkernel.FeatureTarget` operations). A session ends when the
test changes the partition behind the store (a direct device write, ``restore``, a cut of its
own) or when an operation fails with the image changed: what follows would not replay.

:func:`check_session` then hands the session to the campaign engine (:mod:`.engine`, the same
one ``flashstack torture`` runs) as a workload on the store's own torture target: step 0
mounts the recorded image, the recorded operations follow, and the engine cuts a seeded
sample of flash operations (or every one), remounts from the image alone and checks the
target's invariants: the mount succeeds, every acknowledged operation before the cut holds,
the interrupted one left each key old or new. A session whose uncut replay does not end in the
image the test left (a device option a geometry cannot express, a test that changed the
store's settings by hand) is reported as not replayable instead of being cut.

The pytest option ``--power-loss`` (:mod:`.pytest_plugin`) drives this for a test suite.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, fields
from typing import Any, Callable

from ..errors import NoSpace, NotFound, PowerLoss
from ..flash_map import FlashArea
from .engine import Campaign, Runner, run_campaign
from .report import Report
from .target import PartitionGeometry

__all__ = ["Session", "StoreRecorder", "SessionResult", "check_session", "MODES"]

#: ``--power-loss`` modes: cut points per session (None: every flash operation).
MODES = {"none": 0, "sampled": 2, "exhaustive": None}
#: Largest partition recorded (bytes): the recorder keeps a copy of it per live session.
MAX_PARTITION = 1 << 20


@dataclass
class Session:
    """One mount of one store and what the test did with it afterwards."""

    kind: str                      # "nvs", "zms", "kv" or "llkernel"
    store: Any
    area: FlashArea
    image: bytes                   # the partition before the mount
    ops: list = field(default_factory=list)
    last: bytes = b""              # the partition after the last recorded operation
    live: bool = True
    busy: bool = False             # inside a recorded call (nested calls are not operations)
    hal: bool = False              # a KV store on the AliOS HAL view of ``area``


def _partition_of(area: Any) -> bytes:
    """The partition bytes as they stand (not counted: taken from the device's snapshot)."""
    return bytes(area.device.snapshot()[area.offset:area.offset + area.size])


def _area_of(store) -> tuple[Any, bool]:
    """The flash area under a KV store and whether the store reads it through a HAL partition
    view (one segment covering the whole view); ``(None, False)`` for other storage."""
    from ..kv.config import storage_segments
    storage = store.storage
    if isinstance(storage, FlashArea):
        return storage, False
    segs = storage_segments(storage)
    if len(segs) == 1 and segs[0][0] == 0 and segs[0][1] == storage.size:
        return segs[0][2], True
    return None, False


def _nvs_op(name: str, args: tuple) -> tuple:
    if name == "delete" or not args[1]:
        return ("del", args[0])       # an empty value deletes (NVS-20, ZMS alike)
    return ("set", args[0], bytes(args[1]))


def _kv_key(key) -> str:
    return key if isinstance(key, str) else bytes(key).decode("utf-8", "backslashreplace")


def _kv_op(name: str, args: tuple) -> tuple:
    if name == "set":
        return ("set", _kv_key(args[0]), bytes(args[1]))
    if name == "delete":
        return ("del", _kv_key(args[0]))
    return ("delp", _kv_key(args[0]))


def _feature_op(name: str, args: tuple) -> tuple | None:
    """A FeatureStore call as a FeatureTarget operation (None: it writes nothing)."""
    if name == "install":
        rom = bytes(args[0])
        return ("install", len(rom), int(args[1]), rom)
    if name == "allocate_feature":
        return ("alloc", int(args[0]), int(args[1]))
    if name == "copy_to_rom":
        size = len(args[1]) if len(args) < 3 else args[2]
        return ("copy", int(args[0]), bytes(memoryview(args[1])[:size]))
    if name == "flush_copy_to_rom":
        return ("flush",)
    if name == "free_feature":
        return ("free", int(args[0]))
    from ..llkernel.header import INIT_ERRORS_THAT_FREE
    return ("free", int(args[0])) if args[1] in INIT_ERRORS_THAT_FREE else None


@dataclass(frozen=True)
class _Kind:
    """How to watch one store class and torture what was recorded on it. ``mount`` is the
    method that opens the store (a FeatureStore reads its slots in its constructor)."""

    name: str
    module: str
    cls: str
    ops: tuple
    op_of: Callable[[str, tuple], tuple | None]
    mount: str = "mount"


KINDS = (
    _Kind("nvs", "flashstack.nvs.store", "NVSStore", ("write", "delete"), _nvs_op),
    _Kind("zms", "flashstack.zms.store", "ZMSStore", ("write", "delete"), _nvs_op),
    _Kind("kv", "flashstack.kv.store", "KVStore", ("set", "delete", "delete_by_prefix"), _kv_op),
    _Kind("llkernel", "flashstack.llkernel.store", "FeatureStore",
          ("install", "allocate_feature", "copy_to_rom", "flush_copy_to_rom", "free_feature",
           "on_feature_initialization_error"), _feature_op, mount="__init__"),
)


class StoreRecorder:
    """Wraps the store classes' ``mount`` and writing methods while active (:meth:`start` /
    :meth:`stop`) and collects one :class:`Session` per mount."""

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self._by_store: dict[int, Session] = {}
        self._saved: list[tuple[type, str, Any]] = []

    def start(self) -> None:
        import importlib
        for kind in KINDS:
            cls = getattr(importlib.import_module(kind.module), kind.cls)
            self._wrap(cls, kind.mount, self._mount_wrapper(kind))
            for name in kind.ops:
                self._wrap(cls, name, self._op_wrapper(kind, name))

    def stop(self) -> None:
        for cls, name, orig in reversed(self._saved):
            if orig is None:
                delattr(cls, name)      # it was inherited
            else:
                setattr(cls, name, orig)
        self._saved.clear()
        self._by_store.clear()

    def _wrap(self, cls: type, name: str, make: Callable[[Callable], Callable]) -> None:
        self._saved.append((cls, name, cls.__dict__.get(name)))
        setattr(cls, name, make(getattr(cls, name)))

    def _mount_wrapper(self, kind: _Kind):
        def wrap(orig):
            def mount(store, *a, **kw):
                if kind.mount == "__init__":          # the area is the first argument
                    area, hal = (a[0] if a else kw.get("area")), False
                else:
                    area, hal = _area_of(store) if kind.name == "kv" else (store.area, False)
                outer = self._by_store.get(id(store))
                busy = outer is not None and outer.busy
                if busy or not isinstance(area, FlashArea) or not self._recordable(area):
                    return orig(store, *a, **kw)
                if outer is not None:
                    outer.live = False
                image = _partition_of(area)
                result = orig(store, *a, **kw)
                s = Session(kind.name, store, area, image, last=_partition_of(area), hal=hal)
                self.sessions.append(s)
                self._by_store[id(store)] = s
                return result
            return mount
        return wrap

    @staticmethod
    def _recordable(area) -> bool:
        dev = getattr(area, "device", None)
        return (isinstance(area, FlashArea) and dev is not None and area.size <= MAX_PARTITION
                and hasattr(dev, "snapshot") and getattr(dev, "endurance", None) is None)

    def _op_wrapper(self, kind: _Kind, name: str):
        def wrap(orig):
            def op(store, *a, **kw):
                s = self._by_store.get(id(store))
                if s is None or not s.live or s.busy or kw:
                    return orig(store, *a, **kw)
                if _partition_of(s.area) != s.last:
                    s.live = False  # changed behind the store's back: the rest cannot replay
                    return orig(store, *a, **kw)
                s.busy = True
                try:
                    result = orig(store, *a, **kw)
                except (NoSpace, NotFound):
                    self._record(s, kind, name, a)
                    raise
                except PowerLoss:
                    s.live = False
                    raise
                except Exception:
                    if _partition_of(s.area) != s.last:
                        s.live = False
                    raise
                finally:
                    s.busy = False
                self._record(s, kind, name, a)
                return result
            return op
        return wrap

    @staticmethod
    def _record(s: Session, kind: _Kind, name: str, args: tuple) -> None:
        try:
            op = kind.op_of(name, args)
        except (TypeError, ValueError, IndexError):
            s.live = False  # arguments the torture vocabulary cannot carry
            return
        if op is not None:
            s.ops.append(op)
        elif _partition_of(s.area) != s.last:
            s.live = False  # a call that should not write did
            return
        s.last = _partition_of(s.area)


def _geometry(area: FlashArea, **kw) -> PartitionGeometry:
    dev = area.device
    return PartitionGeometry(size=area.size, layout=tuple(area.page_runs()),
                    write_block_size=dev.write_block_size, erase_value=dev.erase_value,
                    allow_double_writes=bool(getattr(dev, "allow_double_writes", False)),
                    program_page_size=getattr(dev, "program_page_size", 256),
                    address=area.address, label=area.label or "storage_partition", **kw)


def _target(s: Session):
    """The store's torture target with the session's geometry and store options."""
    from .targets.kv import KVTarget
    from .targets.llkernel import FeatureTarget
    from .targets.nvs import NVSTarget
    from .targets.zms import ZMSTarget
    c = s.store.config
    geo = _geometry(s.area)
    if s.kind == "llkernel":
        if c.ram_base is None:
            raise ValueError("a store without a RAM buffer (scan only) is not replayed")
        return FeatureTarget(geometry=geo, max_features=c.max_features, ram_base=c.ram_base,
                             ram_size=c.ram_size, ram_align=c.ram_align)
    if s.kind == "nvs":
        return NVSTarget(geometry=geo, sector_size=c.sector_size, sector_count=c.sector_count,
                         data_crc=c.data_crc)
    if s.kind == "zms":
        return ZMSTarget(geometry=geo, sector_size=c.sector_size, sector_count=c.sector_count,
                         data_crc=c.data_crc, id_64bit=c.id_64bit,
                         erase_less=s.area.device.parameters.caps.no_explicit_erase)
    return KVTarget(geometry=geo, block_size=c.block_size, total_size=c.total_size, align=c.align,
                    hal=s.hal)


def _opener(s: Session) -> Callable[[FlashArea], Any]:
    """A function that opens a store like the recorded one (every constructor option) on an
    area of the replay device."""
    store = s.store
    cls = type(store)
    if s.kind == "kv":
        storage = _target(s).storage   # the area itself, or its HAL view
        return lambda area: cls(storage(area), store.config)
    if s.kind == "llkernel":
        c = store.config
        return lambda area: cls(area, c.kf_start, max_features=c.max_features,
                                ram_base=c.ram_base, ram_size=c.ram_size, ram_align=c.ram_align,
                                kf_size=c.kf_size, page_size=c.page_size)
    cfg = store.config
    args = [getattr(cfg, f.name) for f in fields(cfg)]
    return lambda area: cls(area, *args)


def recorded_target(s: Session):
    """The session as a torture target: the store's own target (observe, model, checks, GC
    exercise) whose device starts as the recorded image, whose mount opens the store with the
    recorded options and whose workload is the recorded operations."""
    inner = _target(s)
    opener = _opener(s)
    image, ops = s.image, list(s.ops)
    base = type(inner)

    def build(self):
        dev, area = base.build(self)
        dev.restore(image)
        return dev, area

    def mount(self, area):
        store = opener(area)
        if hasattr(store, "mount"):   # a FeatureStore is open once constructed
            store.mount()
        return store

    def initial_model(self):
        _, area = self.build()
        return self.observe(self.mount(area))

    body = {"build": build, "mount": mount, "initial_model": initial_model,
            "workload": lambda self, name, n, seed: list(ops),
            "cli_args": lambda self: ["(recorded from a test: no command line)"]}
    cls = type(f"Recorded{base.__name__}", (base,), body)
    target = cls(**{f.name: getattr(inner, f.name) for f in fields(inner)})
    _, area = target.build()
    if target.structure(target.mount(area)):
        # the test mounted an image that already breaks the store's structure rule (e.g. an
        # interrupted GC's duplicate records): only the per-key rule can hold across cuts
        body["structure"] = lambda self, store: []
        cls = type(cls.__name__, (base,), body)
        target = cls(**{f.name: getattr(inner, f.name) for f in fields(inner)})
    return target


@dataclass
class SessionResult:
    """What checking one session gave: ``report`` (None when not replayable, with ``why``)."""

    session: Session
    report: Report | None
    why: str = ""

    @property
    def failures(self) -> list[str]:
        r = self.report
        if r is None:
            return []
        out = [f"uncut replay: {v}" for v in r.run_violations]
        out += [f"cut {f.index} ({f.tear}) in step {f.step} [{f.op}]: " + "; ".join(f.violations)
                for f in r.failures]
        return out


def check_session(s: Session, cuts: int | None, seed: int | str = 0,
                  tears: tuple = ("clean", "prefix", "bits"), gc_check: float = 0.0) -> SessionResult:
    """Cut the recorded session at ``cuts`` seeded flash operations (None: every one) in each
    of ``tears``; ``seed`` (an int, or text such as a test id) fixes the sample and the tears."""
    if isinstance(seed, str):
        seed = zlib.crc32(seed.encode())
    try:
        target = recorded_target(s)
        campaign = Campaign(target, workload="recorded", ops=len(s.ops), seed=seed, cuts=cuts,
                            tears=tears, gc_check=gc_check)
        r = Runner(campaign)
        r.run_to(len(r.steps))
    except Exception as exc:  # the uncut replay itself does not run as the test did
        return SessionResult(s, None, f"replay raised {type(exc).__name__}: {exc}")
    if r.dev.snapshot() != s.last:
        return SessionResult(s, None, "the uncut replay ends in another image than the test's")
    return SessionResult(s, run_campaign(campaign, jobs=1))
