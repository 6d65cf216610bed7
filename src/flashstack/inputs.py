"""Reading the files users give: one policy for every loader (board TOML, manifest, build
record, KV CSV/JSON, NVS JSON, devicetree source, Intel HEX).

- Text is UTF-8, decoded strictly: a bad byte is InvalidArgument (EINVAL) naming the file, the
  byte offset, the line and the column (never a bare UnicodeDecodeError).
- Only regular files are read (a FIFO would block, ``/dev/zero`` never ends) and at most
  ``limit`` bytes of them (NoMemory, ENOMEM, beyond).
- A file named by another file (a CSV ``type=file`` row, a JSON ``"encoding": "file"`` value)
  is resolved against the folder of the naming file and must stay inside it (after symlinks)
  unless the caller allows outside paths (``--allow-outside``); AccessDenied (EACCES) else.

Standard library only; every loader of the project calls these.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import AccessDenied, InvalidArgument, NoMemory, NotFound

__all__ = [
    "FILE_LIMIT",
    "TEXT_LIMIT",
    "decode_text",
    "read_bytes",
    "read_referenced",
    "read_text",
    "type_name",
]

TEXT_LIMIT = 16 << 20       # bytes: the largest text input (TOML, JSON, CSV, DTS, HEX) read
FILE_LIMIT = 16 << 20       # bytes: the largest file a CSV/JSON import may reference


def type_name(value: object) -> str:
    """The JSON/TOML-ish name of a value's type for error messages."""
    return {bool: "boolean", int: "integer", float: "float", str: "string", list: "array",
            dict: "table/object", type(None): "null"}.get(type(value), type(value).__name__)


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 (a leading BOM dropped); InvalidArgument naming ``source``, the byte
    offset, line and column of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        head = data[:start]
        line = head.count(b"\n") + 1
        col = start - (head.rfind(b"\n") + 1) + 1
        raise InvalidArgument(f"{source}: not UTF-8 text: byte {data[start]:#04x} at offset "
                              f"{start} (line {line}, column {col})") from None


def read_bytes(path: str | os.PathLike, *, limit: int = TEXT_LIMIT, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. NotFound (ENOENT) when missing,
    InvalidArgument (EINVAL) for a directory, FIFO or device, NoMemory (ENOMEM) when larger."""
    p = os.fspath(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise NotFound(f"{what} {p!r} not found") from None
    except IsADirectoryError:
        raise InvalidArgument(f"{what} {p!r} is a directory, not a regular file") from None
    except PermissionError:
        raise AccessDenied(f"{what} {p!r}: permission denied") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidArgument(f"{what} {p!r} is not a regular file (a device, FIFO or "
                                  "socket is never read)")
        if st.st_size > limit:
            raise NoMemory(f"{what} {p!r} is {st.st_size} bytes; the limit is {limit}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise NoMemory(f"{what} {p!r} grew beyond the limit of {limit} bytes while read")
    return data


def read_text(path: str | os.PathLike, *, limit: int = TEXT_LIMIT, what: str = "file") -> str:
    """A regular text file decoded by :func:`decode_text` (errors as :func:`read_bytes`)."""
    return decode_text(read_bytes(path, limit=limit, what=what), os.fspath(path))


def read_referenced(name: str, base_dir: str | os.PathLike, *, allow_outside: bool = False,
                    limit: int = FILE_LIMIT, where: str = "") -> bytes:
    """The bytes of the file ``name`` that an input file in ``base_dir`` references.

    Relative names are taken from ``base_dir``; the resolved path (symlinks followed) must lie
    inside ``base_dir`` unless ``allow_outside`` (AccessDenied, EACCES, naming ``where``).
    Regular files of at most ``limit`` bytes only (see :func:`read_bytes`).
    """
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"{where}: a file reference is a non-empty path string")
    base = Path(base_dir).resolve()
    target = (base / name).resolve()
    if not allow_outside and not target.is_relative_to(base):
        raise AccessDenied(f"{where}: file {name!r} is outside {str(base)!r} (pass "
                           "--allow-outside to read it)")
    prefix = f"{where}: file" if where else "file"
    return read_bytes(target, limit=limit, what=prefix)
