"""What a campaign tortures: the flash geometry and the :class:`Target` protocol.

A target is a small, picklable description (a dataclass of plain values) of one storage stack:
how to build its flash, mount a store from the image alone, run one workload operation, keep
the expected state (the *model*), and check a store remounted after a power cut. Workers of a
parallel campaign receive the target by value and rebuild everything from it, so a target
must never hold a device, an area or a store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import Any, ClassVar, Mapping, Sequence

from ..device import FlashDevice, PageLayout, SimulatedFlash
from ..errors import InvalidArgument, NotFound
from ..flash_map import FlashArea

__all__ = ["PartitionGeometry", "Target", "TargetOption", "CheckOutcome", "describe_op", "location_args",
           "target_args"]


@dataclass(frozen=True)
class TargetOption:
    """One command-line option a target declares (``flashstack torture KIND --flag``), so a new
    store kind brings its own options and the CLI never knows store names.

    ``field``: the target dataclass field it sets (its default is the option's default), or
    "" for an option that only picks a variant; ``flag``: e.g. ``"--block-size"``; ``kind``:
    ``"int"`` (bytes or a count, decimal or 0x hex), ``"flag"`` (a bool field), ``"text"`` (a
    name, e.g. a C symbol) or ``"choice"`` (one of ``choices``, given as the field holds them); ``variants``: choice value ->
    registry target name built instead (e.g. ``settings --backend zms`` -> ``settings-zms``);
    ``default``: the default of a variant-only option."""

    field: str
    flag: str
    help: str
    kind: str = "int"
    choices: tuple = ()
    variants: Mapping[str, str] = dc_field(default_factory=dict)
    default: Any = None

    @property
    def name(self) -> str:
        """The option's parameter name (``--id-64bit`` -> ``id_64bit``)."""
        return self.flag.lstrip("-").replace("-", "_")

    def parse(self, value: Any) -> Any:
        """The field value of a choice given as text (``"8"`` -> 8); others as given."""
        if self.kind == "choice" and value is not None:
            for c in self.choices:
                if str(c) == str(value):
                    return c
            raise InvalidArgument(f"{self.flag} {value}: choose from {', '.join(map(str, self.choices))}")
        return value


@dataclass(frozen=True)
class PartitionGeometry:
    """The flash under a store: an area of ``size`` bytes at offset 0 of its own device.

    Only the partition is modelled (stores see partition-relative offsets), so snapshots and
    restores copy the partition, not the whole chip. ``layout`` holds the erase-page runs
    ``((count, size), ...)`` of the partition; ``address`` the absolute (memory-mapped)
    address of its start, or None. Shapes in bytes.
    """

    size: int
    layout: tuple = ()
    write_block_size: int = 1
    erase_value: int = 0xFF
    allow_double_writes: bool = False
    program_page_size: int = 256
    address: int | None = None
    label: str = "storage_partition"
    area_id: int = 0

    @classmethod
    def uniform(cls, size: int, page: int, **kw) -> "PartitionGeometry":
        """``size`` bytes of ``page``-byte erase pages (EINVAL unless ``page`` divides ``size``)."""
        if page < 1 or size % page:
            raise InvalidArgument(f"geometry: size {size} is not a multiple of erase page {page}")
        return cls(size=size, layout=((size // page, page),), **kw)

    def spec(self) -> str:
        """``SIZE:PAGE:WRITE_BLOCK[:ERASE_VALUE]`` of a uniform geometry (the CLI's
        ``--geometry``; the erase value only when it is not 0xFF)."""
        if len(self.layout) != 1:
            raise InvalidArgument(f"geometry with pages {self.layout} is not uniform")
        text = f"{self.size}:{self.layout[0][1]}:{self.write_block_size}"
        return text if self.erase_value == 0xFF else f"{text}:{self.erase_value:#04x}"

    def with_spec(self, text: str) -> "PartitionGeometry":
        """This geometry as ``SIZE:PAGE[:WRITE_BLOCK[:ERASE_VALUE]]`` (decimal or 0x hex); EINVAL."""
        parts = text.split(":")
        try:
            nums = [int(x, 0) for x in parts]
        except ValueError:
            nums = []
        if len(nums) not in (2, 3, 4):
            raise InvalidArgument(f"geometry {text!r}: expected SIZE:PAGE[:WRITE_BLOCK[:ERASE_VALUE]]")
        g = PartitionGeometry.uniform(nums[0], nums[1])
        return replace(self, size=g.size, layout=g.layout,
                       write_block_size=nums[2] if len(nums) > 2 else self.write_block_size,
                       erase_value=nums[3] if len(nums) > 3 else self.erase_value)

    def build(self) -> tuple[SimulatedFlash, FlashArea]:
        """A fresh erased device holding exactly this partition, and the area over all of it."""
        dev = SimulatedFlash(layout=self.layout, write_block_size=self.write_block_size,
                             erase_value=self.erase_value, allow_double_writes=self.allow_double_writes,
                             program_page_size=self.program_page_size, name="torture0")
        area = FlashArea(self.area_id, 0, self.size, dev, label=self.label,
                         node_labels=(self.label,), address=self.address)
        return dev, area

    @classmethod
    def from_board(cls, board: str, partition: str | int, **kw) -> "PartitionGeometry":
        """The geometry of ``partition`` on ``board`` (a name or file, see
        :func:`flashstack.board.load_board`): a flash-map partition (node label, label or id)
        or an AliOS HAL partition of the board (``PARAMETER_2``). Extra keywords override
        fields (e.g. ``allow_double_writes``). NotFound (ENOENT) for an unknown partition."""
        from ..board import load_board

        b = load_board(board)
        name = int(partition) if isinstance(partition, str) and partition.isdigit() else partition
        try:
            part = b.partition(name)
        except NotFound:
            part = None
        if part is not None:
            assert part.device is not None, "a board's partitions name one of its devices"
            dev = b.device(part.device)
            off, size, address, area_id = part.offset, part.size, part.address, part.id
            label = (tuple(part.node_labels or ()) or (part.label or f"id {part.id}",))[0]
        else:
            row = _hal_row(b, partition)
            dev = b.device(row.device)
            address, size = row.info.partition_start_addr, row.info.partition_length
            off, area_id, label = address - (dev.base_address or 0), 0, str(partition)
        runs = _slice_layout(dev.layout, off, size)
        fields = dict(size=size, layout=runs, write_block_size=dev.write_block_size,
                      erase_value=dev.erase_value, program_page_size=dev.program_page_size or 256,
                      address=address, label=label, area_id=area_id)
        fields.update(kw)
        return cls(**fields)


def _hal_row(board, name):
    """The AliOS HAL partition row ``name`` (e.g. ``PARAMETER_2``) of ``board``; NotFound when
    it is neither a flash-map partition nor a HAL partition of the board."""
    from ..hal.board import hal_partitions_from_board
    from ..hal.types import parse_partition
    try:
        rows, generation = hal_partitions_from_board(board)
        value = parse_partition(name, generation)
    except InvalidArgument:
        raise NotFound(f"board {board.name}: no partition {name!r}") from None
    for r in rows:
        if r.partition == value:
            return r
    raise NotFound(f"board {board.name}: no partition {name!r} (nor HAL partition)")


class _Shape(FlashDevice):
    """Only the erase-page layout of a device (no operations): enough for a flash area's
    page queries."""

    name = "layout"

    def __init__(self, runs: Sequence[tuple[int, int]]):
        self.layout = PageLayout(runs)


def _slice_layout(runs: Sequence[tuple[int, int]], off: int, size: int) -> tuple:
    """Erase-page runs covering ``[off, off+size)`` of a device with page ``runs`` (the flash
    map's :meth:`FlashArea.page_runs`); EINVAL when the partition does not start and end on
    page boundaries (every store here erases whole pages of its partition)."""
    area = FlashArea(None, off, size, _Shape(runs))
    pages = area.erase_pages()
    if not pages or pages[0].start_offset != off or sum(p.size for p in pages) != size:
        raise InvalidArgument(f"partition {off:#x}+{size:#x} does not cover whole erase pages")
    return tuple(area.page_runs())


@dataclass
class CheckOutcome:
    """Result of checking one remounted store: ``violations`` (invariants broken, one line
    each), ``notes`` (facts worth counting that are not failures, e.g. "install interrupted:
    listed, content incomplete") and ``observed`` (the state read back, in model form)."""

    violations: list
    notes: list
    observed: Any = None


def describe_op(op: tuple) -> str:
    """A short human description of a workload operation (values shown by length)."""
    parts = []
    for x in op:
        if isinstance(x, (bytes, bytearray)):
            parts.append(f"<{len(x)} bytes>" if len(x) > 12 else x.hex() or "''")
        else:
            parts.append(repr(x) if isinstance(x, str) and x is not op[0] else str(x))
    return " ".join(parts)


def location_args(target, default: PartitionGeometry) -> list:
    """CLI arguments that rebuild ``target``'s flash: ``--board/--partition`` when it came from
    a board, ``--geometry`` when it differs from ``default``, else nothing."""
    if getattr(target, "board", None) is not None:
        return ["--board", target.board, "--partition", str(target.partition)]
    g = target.geometry
    if (g.size, g.layout, g.write_block_size, g.erase_value) != (
            default.size, default.layout, default.write_block_size, default.erase_value):
        return ["--geometry", g.spec()]
    return []


def target_args(target, options: dict, head: list | None = None) -> list:
    """The ``flashstack torture`` arguments naming ``target``: ``head`` (default: its kind),
    :func:`location_args` and, for each field of ``options`` (``{field: option}``) whose value
    differs from the default target's, ``option value`` (a bool field, False by default, as
    the bare flag)."""
    default = type(target)()
    args = (head or [target.kind]) + location_args(target, default.geometry)
    for name, option in options.items():
        value = getattr(target, name)
        if value != getattr(default, name):
            args += [option] if isinstance(value, bool) else [option, str(value)]
    return args


class Target:
    """Base class of campaign targets. Subclasses are picklable dataclasses.

    Operations are tuples whose first item names them; ``("mount",)`` is step 0 of every
    campaign and ``("reboot",)`` a remount inside a workload. Hooks:

    - :meth:`build` → ``(device, area)`` erased;
    - :meth:`mount(area)` → a store mounted from the image alone (may issue flash operations);
    - :meth:`apply(store, area, op)` → ``(store, result)``; ``result`` is a short, comparable
      value (e.g. ``"ok"``, ``"ENOSPC"``); PowerLoss propagates;
    - :meth:`initial_model` / :meth:`model_apply(model, op, result)` → the expected state after
      an acknowledged operation (models are never mutated in place);
    - :meth:`check(store, before, after, op)` → :class:`CheckOutcome` for a store remounted
      after a cut inside ``op``;
    - :meth:`check_state(store, model)` → violations of an uncut run;
    - :meth:`exercise(store, area, observed)` → violations found while driving the remounted
      store through at least one full garbage-collection cycle (``[]`` when not applicable);
    - :meth:`workload(name, ops, seed)` → the operation list;
    - :meth:`dump(area)` → text describing the image (the store's own scan);
    - :meth:`cli_args` → the arguments naming this target on the ``flashstack torture`` line.
    """

    kind = "custom"
    exercise_name = "post-cut exercise"  # what :meth:`exercise` does, for reports
    geometry: PartitionGeometry
    #: one line for ``flashstack torture --help``
    title: ClassVar[str] = ""
    #: the command-line options of this target (:class:`TargetOption`), its defaults
    cli_options: ClassVar[tuple[TargetOption, ...]] = ()
    default_workload: ClassVar[str] = "mixed"
    default_ops: ClassVar[int] = 500

    @classmethod
    def from_board(cls, board: str, partition: str, **kw) -> "Target":
        """This target on ``partition`` of ``board`` (see :meth:`PartitionGeometry.from_board`), for
        targets with ``board`` and ``partition`` fields; ``kw`` set the target's other fields.
        The flash keeps the device rule of the target's default geometry (double writes
        allowed or not). NotFound (ENOENT) for an unknown partition."""
        geo = PartitionGeometry.from_board(board, partition, allow_double_writes=cls().geometry.allow_double_writes)
        # the targets that have board and partition fields are the ones that call this
        return cls(geometry=geo, board=board, partition=partition, **kw)  # type: ignore[call-arg]

    @classmethod
    def at_location(cls, name: str, board: str | None, partition: str | None,
                    geometry: str | None, default_partition: str | None, **kw) -> "Target":
        """This target where the command's location options put it: on ``partition`` (default
        ``default_partition``) of ``board`` (default the built-in board) when either is given,
        else on a bare partition of ``geometry`` (``SIZE:PAGE[:WB[:E]]``), else on its default
        geometry; ``kw`` set its other fields. InvalidArgument (EINVAL) for a board together
        with a geometry, or no partition when ``default_partition`` is None (``name`` names the
        target in the message); NotFound (ENOENT) for an unknown partition."""
        if board is None and partition is None:
            if geometry is not None:
                kw["geometry"] = cls().geometry.with_spec(geometry)
            return cls(**kw)
        if geometry is not None:
            raise InvalidArgument("--geometry and --board/--partition exclude each other")
        if partition is None:
            if default_partition is None:
                raise InvalidArgument(f"torture target {name}: give --partition (its store kind has no default)")
            partition = default_partition
        from ..board import DEFAULT_BOARD
        return cls.from_board(board or DEFAULT_BOARD, partition, **kw)

    def build(self) -> tuple[SimulatedFlash, FlashArea]:
        return self.geometry.build()

    def mount(self, area: FlashArea):  # pragma: no cover - interface
        raise NotImplementedError

    def apply(self, store, area: FlashArea, op: tuple):
        if op[0] in ("mount", "reboot"):
            return self.mount(area), "ok"
        return store, self.apply_op(store, op)

    def apply_op(self, store, op: tuple):  # pragma: no cover - interface
        raise NotImplementedError

    def initial_model(self):
        return {}

    def model_apply(self, model, op: tuple, result):  # pragma: no cover - interface
        raise NotImplementedError

    def check(self, store, before, after, op: tuple) -> CheckOutcome:  # pragma: no cover
        raise NotImplementedError

    def check_state(self, store, model) -> list:
        return self.check(store, model, model, ("check",)).violations

    def exercise(self, store, area: FlashArea, observed) -> list:
        return []

    def torn_crc_match(self, before: bytes, cut: bytes, cut_at: tuple) -> bool:
        """True when the interrupted program (``cut_at`` = kind, partition offset, length) left a
        record whose CRC matches by chance (a format limit, :mod:`.limits`); ``before`` and
        ``cut`` are the partition images before the step and after the cut."""
        return False

    def workload(self, name: str, ops: int, seed: int) -> list:  # pragma: no cover - interface
        raise NotImplementedError

    def dump(self, area: FlashArea) -> str:
        return ""

    def cli_args(self) -> list:
        """Arguments after ``flashstack torture [replay]``. A target with :attr:`cli_options`
        gives its kind, :func:`location_args` and every option that differs from the default
        target's. Otherwise the class (``custom --target module:Class``), right for targets
        built with default parameters; a parameterised one overrides this (e.g. to name a
        module-level instance)."""
        cls = type(self)
        if cls.cli_options:
            have = cls.option_fields()
            return target_args(self, {o.field: o.flag for o in cls.cli_options if o.field in have})
        return ["custom", "--target", f"{cls.__module__}:{cls.__qualname__}"]

    @classmethod
    def option_fields(cls) -> set[str]:
        """Names of the dataclass fields the target takes."""
        return set(getattr(cls, "__dataclass_fields__", {}))

    @classmethod
    def option_default(cls, option: TargetOption) -> Any:
        """The default of ``option``: its target field's default (``option.default`` for a
        variant-only option)."""
        f = cls.__dataclass_fields__.get(option.field) if option.field else None  # type: ignore[attr-defined]
        if f is None:   # variant-only, or a field only a variant has
            return option.default if not option.field else (False if option.kind == "flag" else None)
        return f.default
