"""The build job: manifest → plan → validate everything → render in memory → write once.

Model: pyocd's ``FlashBuilder`` plans flash work before doing it. Here the whole image is
made on in-memory devices of the board; files are written only after every partition
rendered without error, through a temporary folder (:mod:`flashstack.build.output`).
"""

from __future__ import annotations

import errno as _errno
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..device import PageLayout
from ..errors import FlashError, InvalidArgument, NotFound, errno_name
from .manifest import Manifest, ManifestError, PartitionEntry, load_manifest
from .output import HEX_NAME, RECORD_NAME, dumps_record, extra_outputs, hex_ranges, hex_text, write_outputs
from .providers import Provider, make_provider

if TYPE_CHECKING:
    from ..board import Board
    from ..flash_map import PartitionSpec

__all__ = ["BuildPlan", "BuildResult", "PlannedPartition", "build", "plan_build", "demo_manifest_path",
           "render_plan"]


def demo_manifest_path() -> Path:
    """Path of the built-in example manifest for the ``flashstack-demo`` board (package data)."""
    return Path(str(resources.files("flashstack").joinpath("data", "build", "demo", "manifest.toml")))


@dataclass
class PlannedPartition:
    """One partition of the plan: its board spec, its provider (None = left erased)."""

    spec: PartitionSpec
    provider: Provider | None

    @property
    def label(self) -> str:
        """Node label, else label property, else ``id N`` (``PartitionSpec.name``)."""
        return self.spec.name


@dataclass
class BuildPlan:
    """A checked manifest on its board: one :class:`PlannedPartition` per board partition, in
    board order (those the manifest does not name have no provider and stay erased)."""

    manifest: Manifest
    board: Board
    partitions: list[PlannedPartition] = field(default_factory=list)


@dataclass
class BuildResult:
    """What a build produced: ``images`` (device name → bytes), the ``record`` dict, and the
    ``files`` written (empty when ``out_dir`` was None)."""

    plan: BuildPlan
    images: dict[str, bytes]
    record: dict
    files: list[Path] = field(default_factory=list)
    #: stale image files of another build that ``clean`` removed from the output folder
    removed: list[Path] = field(default_factory=list)


_IMAGE_SUFFIXES = (".bin", ".hex", ".ihex", ".uf2")


def stale_outputs(out_dir: str | os.PathLike, files, record: dict) -> tuple[list[Path], str | None]:
    """What in ``out_dir`` belongs to another build: ``(image files this build does not
    write, why the folder's build record is another build's or None)``. A record of another
    board or manifest makes every image file there another build's; so does an image file
    this build does not replace (e.g. ``qspi0.bin`` of a board with two devices, or a
    ``flash0.bin`` left beside a HEX-only build), which ``inspect`` would read with this
    build's record."""
    out = Path(out_dir)
    if not out.is_dir():
        return [], None
    why = None
    old = out / RECORD_NAME
    if old.is_file():
        try:
            prev = json.loads(old.read_text())
        except (OSError, ValueError):
            prev = {}
        prev = prev if isinstance(prev, dict) else {}
        if prev.get("board") not in (None, record["board"]):
            why = f"its {RECORD_NAME} is a build for board {prev.get('board')}, not {record['board']}"
        elif prev.get("manifest") not in (None, record["manifest"]):
            why = f"its {RECORD_NAME} is a build of {prev.get('manifest')}, not {record['manifest']}"
    stale = sorted(p for p in out.iterdir() if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES
                   and p.name not in files)
    return stale, why


def _check_out_dir(out_dir, files, record: dict, clean: bool) -> list[Path]:
    """The stale files to remove (``clean``), or InvalidArgument (EEXIST) naming them."""
    stale, why = stale_outputs(out_dir, files, record)
    if clean or not (stale or why):
        return stale if clean else []
    reasons = [why] if why else []
    if stale:
        reasons.append("it holds image files this build does not write: " + ", ".join(p.name for p in stale))
    raise InvalidArgument(f"output folder {os.fspath(out_dir)}: " + "; ".join(reasons)
                          + "; inspect would mix two builds. Use another folder, or --clean to remove "
                          "the other build's image files", _errno.EEXIST)


def _find_spec(board, label: str):
    """The PartitionSpec a manifest label names (:meth:`Board.partition`: node label, then
    label property, then id, here also written as a decimal string). NotFound (ENOENT) when
    nothing matches, InvalidArgument (EINVAL) for a label property shared by partitions."""
    try:
        return board.partition(label)
    except NotFound:
        if label.isdigit():
            return board.partition(int(label))
        raise


def _known(board) -> str:
    return ", ".join(p.name for p in board.partitions)


def plan_build(manifest: Manifest, board=None) -> BuildPlan:
    """Resolve every manifest entry to a board partition and parse its options.

    Collects all problems (unknown labels, duplicates, unknown types, bad keys, missing
    files) and raises one ManifestError (EINVAL) listing them; nothing is written.
    """
    if board is None:
        from ..board import load_board
        board = load_board(manifest.board, include_dirs=manifest.include_dirs)
    problems: list[str] = []
    chosen: dict[int, PartitionEntry] = {}
    providers: dict[int, Provider] = {}
    for entry in manifest.partitions:
        try:
            spec = _find_spec(board, entry.label)
        except NotFound:
            problems.append(f"{entry.where()}: unknown partition label {entry.label!r} on board "
                            f"{board.name} (known: {_known(board)})")
            continue
        except InvalidArgument as exc:
            problems.append(f"{entry.where()}: {exc.strerror}")
            continue
        key = id(spec)
        if key in chosen:
            problems.append(f"{entry.where()}: names the same partition as "
                            f"{chosen[key].label!r}")
            continue
        chosen[key] = entry
        try:
            providers[key] = make_provider(entry)
        except ManifestError as exc:
            problems.extend(exc.problems)
    problems.extend(_overlaps(manifest, board, chosen))
    for name in manifest.device_base:
        if name not in {d.name for d in board.devices}:
            problems.append(f"{manifest.source}: [devices.{name}]: board {board.name} has no device "
                            f"{name!r} (devices: {', '.join(d.name for d in board.devices)})")
    if problems:
        raise ManifestError("; ".join(problems), problems)
    plan = BuildPlan(manifest=manifest, board=board)
    plan.partitions = [PlannedPartition(spec, providers.get(id(spec))) for spec in board.partitions]
    return plan


def _overlaps(manifest: Manifest, board, chosen: dict) -> list[str]:
    """Two manifest entries whose partitions share bytes (e.g. a partition and one of its
    sub-partitions) would overwrite each other: refuse."""
    specs = {id(p): p for p in board.partitions}
    named = [(specs[k], e) for k, e in chosen.items()]
    out = []
    for i, (a, ea) in enumerate(named):
        for b, eb in named[i + 1:]:
            if a.device == b.device and a.offset < b.offset + b.size and b.offset < a.offset + a.size:
                out.append(f"{eb.where()}: overlaps partition {ea.label} ({a.device} {a.offset:#x}+{a.size:#x}); "
                           "give content to only one of them")
    return out


def _checked_area(ob, part: PlannedPartition):
    area = ob.flash_map.by_id(part.spec.id) if part.spec.id is not None else ob.area(part.label)
    return area.privileged()


def render_plan(plan: BuildPlan) -> tuple[dict[str, bytes], dict[str, dict]]:
    """Check every provider against its partition, then render all of them on in-memory
    devices. Returns (device images, provider descriptions by partition label).
    ManifestError (EINVAL) lists every check failure; a render failure is re-raised as
    ManifestError naming the partition (PowerLoss is never caught)."""
    with plan.board.open(images=None, allow_double_writes=True) as ob:
        problems: list[str] = []
        for part in plan.partitions:
            if part.provider is None:
                continue
            try:
                part.provider.check(_checked_area(ob, part))
            except ManifestError as exc:
                problems.extend(exc.problems)
            except FlashError as exc:
                problems.append(_flash_problem(part, exc))
        if problems:
            raise ManifestError("; ".join(problems), problems)
        described = {}
        for part in plan.partitions:
            if part.provider is None:
                continue
            try:
                part.provider.render(_checked_area(ob, part))
            except ManifestError:
                raise
            except FlashError as exc:
                raise ManifestError(_flash_problem(part, exc)) from exc
            described[part.label] = part.provider.describe()
        images = {name: dev.snapshot() for name, dev in ob.devices.items()}
    return images, described


def _flash_problem(part: PlannedPartition, exc: FlashError) -> str:
    """A store/device error raised while checking or rendering, named by manifest entry."""
    assert part.provider is not None, "only partitions with content are checked"
    return f"{part.provider.where()} ({part.provider.type}): {exc.strerror} [{errno_name(exc.errno)}]"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record(plan: BuildPlan, images: dict[str, bytes], described: dict, outputs: dict) -> dict:
    board = plan.board
    devices = []
    for d in board.devices:
        base = plan.manifest.device_base.get(d.name, d.base_address)
        devices.append({"name": d.name, "size": d.size, "layout": [list(r) for r in d.layout],
                        "write_block_size": d.write_block_size, "erase_value": d.erase_value,
                        "base_address": base, "image": outputs.get("bin", {}).get(d.name),
                        "sha256": _sha(images[d.name])})
    parts = []
    for part in plan.partitions:
        s = part.spec
        assert s.device is not None, "a board's partitions name one of its devices"
        data = images[s.device][s.offset:s.offset + s.size]
        parts.append({"id": s.id, "label": part.label, "node_labels": list(s.node_labels or ()),
                      "device": s.device, "offset": s.offset, "size": s.size, "address": s.address,
                      "read_only": s.read_only,
                      "content": described.get(part.label, {"type": "erased"}),
                      "sha256": _sha(data)})
    return {"tool": "flashstack", "version": __version__, "manifest": plan.manifest.source,
            "manifest_sha256": _manifest_sha(plan.manifest), "board": board.name,
            "board_spec": plan.manifest.board, "include_dirs": list(plan.manifest.include_dirs),
            "devices": devices, "partitions": parts,
            "outputs": {"bin": list(outputs.get("bin", {}).values()), "hex": outputs.get("hex"),
                        **{k: outputs[k] for k in ("uf2", "base") if k in outputs}}}


def _manifest_sha(manifest: Manifest) -> str | None:
    try:
        return _sha(Path(manifest.source).read_bytes())
    except OSError:
        return None


def _hex_segments(plan: BuildPlan, images: dict[str, bytes]) -> list[tuple[int, bytes]]:
    segments = []
    for d in plan.board.devices:
        base = plan.manifest.device_base.get(d.name, d.base_address)
        if base is None:
            raise ManifestError(f"{plan.manifest.source}: Intel HEX output needs an absolute address "
                                f"for device {d.name}; add [devices.{d.name}] base_address = 0x...")
        pages = [(p.start_offset, p.size) for p in PageLayout(d.layout).pages()]
        for start, end in hex_ranges(images[d.name], pages, d.erase_value):
            segments.append((base + start, images[d.name][start:end]))
    return segments


def build(manifest: Manifest | str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None,
          formats: tuple[str, ...] | None = None, board=None, *, uf2_family: str | int | None = None,
          base_hex: str | os.PathLike | None = None, clean: bool = False) -> BuildResult:
    """Build the flash images a manifest describes.

    ``manifest``: a :class:`Manifest`, a path, or None for the built-in demo manifest.
    ``out_dir``: folder for ``<device>.bin`` files, ``image.hex`` and ``build.json`` (None:
    nothing is written). ``formats`` overrides the manifest's ``[output] formats``.
    Raises ManifestError (EINVAL) listing every problem before anything is written; the
    extras' NotSupported (ENOSYS) when littlefs-python / intelhex are missing. ``uf2_family``
    and ``base_hex`` (a firmware HEX to merge into): see :func:`flashstack.build.output.extra_outputs`.
    An ``out_dir`` holding another build (:func:`stale_outputs`) is refused with
    InvalidArgument (EEXIST) before anything is written, unless ``clean``: then the other
    build's image files are removed after the new files are written (``removed``).
    """
    if manifest is None:
        manifest = demo_manifest_path()
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest)
    formats = tuple(formats or manifest.formats)
    plan = plan_build(manifest, board)
    images, described = render_plan(plan)
    files: dict[str, bytes | str] = {}
    outputs: dict = {}
    if "bin" in formats:
        outputs["bin"] = {name: f"{name}.bin" for name in images}
        files.update({f"{name}.bin": data for name, data in images.items()})
    hex_segments = _hex_segments(plan, images) if "hex" in formats else None
    if hex_segments is not None:
        outputs["hex"] = HEX_NAME
    more_files, hex_segments = extra_outputs(plan, images, formats, hex_segments, outputs,
                                             uf2_family=uf2_family, base_hex=base_hex)
    record = _record(plan, images, described, outputs)
    written: list[Path] = []
    if out_dir is not None:
        if hex_segments is not None:
            files[HEX_NAME] = hex_text(hex_segments)
        files.update(more_files)
        files[RECORD_NAME] = dumps_record(record)
        removed = _check_out_dir(out_dir, files, record, clean)
        written = write_outputs(out_dir, files)
        for p in removed:
            p.unlink(missing_ok=True)
        return BuildResult(plan=plan, images=images, record=record, files=written, removed=removed)
    return BuildResult(plan=plan, images=images, record=record, files=written)

