"""Build manifests: a TOML file naming a board and what goes into each partition.

Schema (every path is relative to the manifest's folder)::

    board = "flashstack-demo"          # built-in name, board TOML, DTS or DTB path
    include_dirs = ["dts/include"]     # optional, for a raw DTS
    [output]                           # optional
    formats = ["bin", "hex"]           # "bin" (one raw image per device), "hex" (Intel HEX)
    [devices.qspi0]                    # optional per-device settings
    base_address = 0x90000000          # absolute address for the Intel HEX output
    [partitions.<label>]               # node label, label property or id of a partition
    type = "file" | "erased" | "alios-kv" | "llkernel" | "littlefs" | "zephyr-nvs" | "zephyr-zms"
    ...                                # type-specific keys (see flashstack.build.providers)

A partition not named is left erased. ``type`` defaults to ``"file"`` when a ``file`` key is
given, else to ``"erased"``. Every error is an :class:`ManifestError` (EINVAL) whose message
names the manifest file, the partition and the key.
"""

from __future__ import annotations

import os
import struct
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import InvalidArgument
from ..inputs import read_text

__all__ = ["Manifest", "PartitionEntry", "ManifestError", "load_manifest", "parse_manifest",
           "decode_value", "parse_hex", "OUTPUT_FORMATS"]

OUTPUT_FORMATS = ("bin", "hex", "uf2")
_TOP_KEYS = {"board", "include_dirs", "output", "devices", "partitions", "description"}
_OUTPUT_KEYS = {"formats"}
_DEVICE_KEYS = {"base_address"}


class ManifestError(InvalidArgument):
    """A manifest problem (EINVAL). ``problems`` lists every message when several were found."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems) if problems else [message]
        super().__init__(message)


@dataclass
class PartitionEntry:
    """One ``[partitions.<label>]`` table: ``label`` as written, ``type``, the remaining keys in
    ``options``, and where it came from (``source`` = manifest path, ``base_dir`` for files)."""

    label: str
    type: str
    options: dict[str, Any]
    source: str
    base_dir: Path

    def where(self, key: str | None = None) -> str:
        """``"manifest.toml: partition storage_partition, key csv"`` for error messages."""
        text = f"{self.source}: partition {self.label}"
        return f"{text}, key {key!r}" if key else text

    def path(self, value: str) -> Path:
        """A manifest-relative path (absolute paths are kept)."""
        return _rel(self.base_dir, value)


@dataclass
class Manifest:
    """A parsed manifest. ``board`` is a built-in name or a path resolved against the manifest
    folder; ``partitions`` keep the manifest's order."""

    board: str
    source: str
    base_dir: Path
    include_dirs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("bin",)
    device_base: dict[str, int] = field(default_factory=dict)
    partitions: list[PartitionEntry] = field(default_factory=list)
    description: str | None = None


def load_manifest(path: str | os.PathLike) -> Manifest:
    """Read and check a manifest file. ManifestError (EINVAL) naming the file on a TOML syntax
    error or a schema problem; InvalidArgument (EINVAL) naming the byte offset of a byte that
    is not UTF-8; NotFound (ENOENT) when it is missing."""
    path = Path(path)
    text = read_text(path, what="manifest")   # regular file, strict UTF-8 naming the offset
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    return parse_manifest(raw, source=str(path), base_dir=path.parent)


def parse_manifest(raw: dict, source: str = "<manifest>", base_dir: str | os.PathLike = ".") -> Manifest:
    """Check the schema of an already-decoded manifest dict (see module docstring)."""
    base_dir = Path(base_dir)
    problems: list[str] = []
    _unknown_keys(raw, _TOP_KEYS, f"{source}: unknown top-level key", problems)
    board = raw.get("board", "flashstack-demo")
    if not isinstance(board, str) or not board:
        problems.append(f"{source}: key 'board' must be a board name or a path")
        board = "flashstack-demo"
    board = _resolve_board(board, base_dir)
    include_dirs = raw.get("include_dirs", [])
    if not isinstance(include_dirs, list) or not all(isinstance(d, str) for d in include_dirs):
        problems.append(f"{source}: key 'include_dirs' must be a list of folders")
        include_dirs = []
    include_dirs = tuple(str(_rel(base_dir, d)) for d in include_dirs)
    formats = _parse_output(raw.get("output", {}), source, problems)
    device_base = _parse_devices(raw.get("devices", {}), source, problems)
    entries = _parse_partitions(raw.get("partitions", {}), source, base_dir, problems)
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(f"{source}: key 'description' must be a string")
        description = None
    if problems:
        raise ManifestError("; ".join(problems), problems)
    return Manifest(board=board, source=source, base_dir=base_dir, include_dirs=include_dirs,
                    formats=formats, device_base=device_base, partitions=entries,
                    description=description)


def _rel(base_dir: Path, value: str) -> Path:
    """``value`` relative to the manifest folder, made absolute (a build record that names it
    must work from any working directory)."""
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base_dir / p).absolute()


def _unknown_keys(table: dict, known: set[str], prefix: str, problems: list[str]) -> None:
    """``"<prefix> 'key' (known: a, b)"`` in ``problems`` for every key of ``table`` not known."""
    for key in table:
        if key not in known:
            problems.append(f"{prefix} {key!r} (known: {', '.join(sorted(known))})")


def _resolve_board(board: str, base_dir: Path) -> str:
    """A board that looks like a file (has a suffix or a slash) is taken relative to the manifest."""
    if "/" in board or os.sep in board or Path(board).suffix.lower() in {".toml", ".dts", ".dtb", ".overlay"}:
        return str(_rel(base_dir, board))
    return board


def _parse_output(out: Any, source: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(out, dict):
        problems.append(f"{source}: [output] must be a table")
        return ("bin",)
    _unknown_keys(out, _OUTPUT_KEYS, f"{source}: [output] unknown key", problems)
    formats = out.get("formats", ["bin"])
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not formats or any(f not in OUTPUT_FORMATS for f in formats):
        problems.append(f"{source}: [output] formats must be a non-empty list of {list(OUTPUT_FORMATS)}, "
                        f"got {formats!r}")
        return ("bin",)
    return tuple(dict.fromkeys(formats))


def _tables(obj: Any, source: str, section: str, what: str,
            problems: list[str]) -> Iterator[tuple[str, dict]]:
    """``(name, table)`` for each ``[section.NAME]`` table of ``obj``; a problem naming the
    file for ``obj`` that is not a table, or for a NAME that is not (``what NAME: ...``)."""
    if not isinstance(obj, dict):
        problems.append(f"{source}: [{section}] must be a table of {what} tables")
        return
    for name, table in obj.items():
        if isinstance(table, dict):
            yield name, table
        else:
            problems.append(f"{source}: {what} {name}: must be a table (e.g. [{section}.{name}])")


def _parse_devices(devs: Any, source: str, problems: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, table in _tables(devs, source, "devices", "device", problems):
        _unknown_keys(table, _DEVICE_KEYS, f"{source}: device {name}: unknown key", problems)
        if "base_address" in table:
            value = table["base_address"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"{source}: device {name}: base_address must be a non-negative integer")
            else:
                out[name] = value
    return out


def _parse_partitions(parts: Any, source: str, base_dir: Path, problems: list[str]) -> list[PartitionEntry]:
    entries: list[PartitionEntry] = []
    for label, table in _tables(parts, source, "partitions", "partition", problems):
        options = dict(table)
        kind = options.pop("type", "file" if "file" in table else "erased")
        if not isinstance(kind, str):
            problems.append(f"{source}: partition {label}, key 'type': must be a string")
            continue
        entries.append(PartitionEntry(label=str(label), type=kind, options=options,
                                      source=source, base_dir=base_dir))
    return entries


# --- values ------------------------------------------------------------------------
_INT_FORMATS = {"u8": "<B", "u16": "<H", "u32": "<I", "u64": "<Q",
                "i8": "<b", "i16": "<h", "i32": "<i", "i64": "<q"}
VALUE_FORMS = ("text", "hex", "file") + tuple(_INT_FORMATS)


def parse_hex(text: str) -> bytes:
    """Bytes from pairs of hex digits; spaces, ``:`` and ``_`` separate freely and one leading
    ``0x`` is allowed (``"de ad:be_ef"``, ``"0xdeadbeef"``). ValueError when the digits are
    not whole bytes."""
    digits = "".join(text.replace(":", " ").replace("_", " ").split())
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    return bytes.fromhex(digits)


def decode_value(value: Any, where: str, base_dir: Path) -> bytes:
    """An item value of a manifest as bytes.

    Accepted forms: a string (UTF-8 text), or a one-key table: ``{text = "..."}``,
    ``{hex = "de ad be ef"}``, ``{file = "blob.bin"}`` (relative to ``base_dir``) or a
    little-endian integer ``{u8|u16|u32|u64|i8|i16|i32|i64 = n}``. ManifestError (EINVAL)
    naming ``where`` otherwise (a missing file too).
    """
    if isinstance(value, str):
        return value.encode("utf-8")
    if not isinstance(value, dict) or len(value) != 1:
        raise ManifestError(f"{where}: a value is a string or a one-key table with one of "
                            f"{', '.join(VALUE_FORMS)} (got {value!r})")
    (form, arg), = value.items()
    if form == "text" and isinstance(arg, str):
        return arg.encode("utf-8")
    if form == "hex" and isinstance(arg, str):
        try:
            return parse_hex(arg)
        except ValueError:
            raise ManifestError(f"{where}: hex {arg!r} is not an even number of hex digits") from None
    if form == "file" and isinstance(arg, str):
        path = _rel(base_dir, arg)
        if not path.is_file():
            raise ManifestError(f"{where}: file {str(path)!r} not found")
        return path.read_bytes()
    if form in _INT_FORMATS and isinstance(arg, int) and not isinstance(arg, bool):
        try:
            return struct.pack(_INT_FORMATS[form], arg)
        except struct.error:
            raise ManifestError(f"{where}: {arg} does not fit {form}") from None
    raise ManifestError(f"{where}: bad value {value!r} (forms: {', '.join(VALUE_FORMS)})")
