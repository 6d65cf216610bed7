"""Partition content providers: the common interface and option helpers.

A provider turns one ``[partitions.<label>]`` table into partition content in three steps, so
that the build can validate everything before it writes anything:

1. ``__init__(entry)`` — parse and type-check the options (no board needed);
2. ``check(area)`` — check against the partition's geometry; reads files, may compute the
   content in memory; never writes;
3. ``render(area)`` — write the content into ``area`` (a privileged view on an in-memory,
   erased device); errors name the manifest, partition and key.

``describe()`` returns the JSON-able summary kept in the build record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, overload

from ...flash_map import FlashArea
from ..manifest import ManifestError, PartitionEntry

__all__ = ["Provider", "ScratchProvider", "Options", "scratch_area", "copy_content"]


def scratch_area(area: FlashArea) -> FlashArea:
    """An erased in-memory copy of ``area``'s geometry (erase pages, write block, erase value,
    program page, address), on which a store can be built and checked before the real build
    is touched. The scratch device allows double writes (stores re-program state bytes)."""
    return area.memory_copy(erased=True, name=f"{area.device.name}:{area.name}")


def copy_content(src: FlashArea | bytes, dst: FlashArea, chunk: int = 4096) -> None:
    """Program every ``chunk`` of ``src`` (a flash area or a partition image in bytes) that is
    not all erase value into the erased ``dst``, at the same partition offset, so erased
    chunks cost no program operation. ``chunk`` (bytes) must be a multiple of the write block;
    ``dst`` raises EINVAL otherwise."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        size, read = len(src), lambda off, n: bytes(src[off:off + n])
    else:
        size, read = src.size, src.read
    erased = bytes([dst.erased_val]) * chunk
    for off in range(0, size, chunk):
        n = min(chunk, size - off)
        data = read(off, n)
        if data != erased[:n]:
            dst.write(off, data)


class Options:
    """Typed access to a partition table's keys; every error names manifest, partition, key.

    ``finish()`` reports keys that no getter asked for (typos)."""

    def __init__(self, entry: PartitionEntry, allowed_extra: tuple[str, ...] = ()):
        self.entry = entry
        self._seen: set[str] = set(allowed_extra)

    def _get(self, key: str, default: Any) -> Any:
        self._seen.add(key)
        return self.entry.options.get(key, default)

    def fail(self, key: str | None, message: str) -> ManifestError:
        return ManifestError(f"{self.entry.where(key)}: {message}")

    @overload
    def integer(self, key: str, default: int, *, minimum: int | None = None,
                maximum: int | None = None) -> int: ...

    @overload
    def integer(self, key: str, default: None = None, *, minimum: int | None = None,
                maximum: int | None = None) -> int | None: ...

    def integer(self, key: str, default: int | None = None, *, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        """The integer at ``key`` (``default`` when absent: an int default gives an int)."""
        value = self._get(key, default)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"must be an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(key, f"must be at most {maximum}, got {value}")
        return value

    @overload
    def text(self, key: str, default: str) -> str: ...

    @overload
    def text(self, key: str, default: None = None) -> str | None: ...

    def text(self, key: str, default: str | None = None) -> str | None:
        """The string at ``key`` (``default`` when absent: a str default gives a str)."""
        value = self._get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {value!r}")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def table(self, key: str) -> dict | None:
        value = self._get(key, None)
        if value is not None and not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def array(self, key: str) -> list | None:
        value = self._get(key, None)
        if value is not None and not isinstance(value, list):
            raise self.fail(key, "must be an array")
        return value

    @overload
    def file(self, key: str, required: Literal[True]) -> Path: ...

    @overload
    def file(self, key: str, required: bool = False) -> Path | None: ...

    def file(self, key: str, required: bool = False) -> Path | None:
        """A manifest-relative file path that must exist (checked now)."""
        return self._path(key, required, "file")

    @overload
    def folder(self, key: str, required: Literal[True]) -> Path: ...

    @overload
    def folder(self, key: str, required: bool = False) -> Path | None: ...

    def folder(self, key: str, required: bool = False) -> Path | None:
        """A manifest-relative folder that must exist (checked now)."""
        return self._path(key, required, "folder")

    def _path(self, key: str, required: bool, kind: str) -> Path | None:
        value = self.text(key)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return None
        path = self.entry.path(value)
        if not (path.is_file() if kind == "file" else path.is_dir()):
            raise self.fail(key, f"{kind} {str(path)!r} not found")
        return path

    def finish(self) -> None:
        unknown = [k for k in self.entry.options if k not in self._seen]
        if unknown:
            known = ", ".join(sorted(k for k in self._seen)) or "none"
            raise ManifestError(f"{self.entry.where()}: unknown key(s) {', '.join(map(repr, unknown))} "
                                f"for type {self.entry.type!r} (known: {known})")


class Provider:
    """Base class; subclasses set ``type`` and implement the three steps."""

    type: ClassVar[str] = ""

    def __init__(self, entry: PartitionEntry):
        self.entry = entry

    def where(self, key: str | None = None) -> str:
        return self.entry.where(key)

    def fail(self, message: str, key: str | None = None) -> ManifestError:
        return ManifestError(f"{self.where(key)} ({self.type}): {message}")

    def check(self, area: FlashArea) -> None:  # pragma: no cover - interface
        """Validate against the partition geometry without writing. ManifestError (EINVAL)."""

    def render(self, area: FlashArea) -> None:  # pragma: no cover - interface
        """Write the content into ``area`` (erased, writable)."""

    def describe(self) -> dict:
        """The JSON-able summary kept in the build record (``content`` of the partition)."""
        return {"type": self.type}


class ScratchProvider(Provider):
    """A store-backed provider: ``check`` builds the store on a :func:`scratch_area` and keeps
    it in ``scratch``; ``render`` copies its non-erased chunks of :meth:`copy_chunk` bytes."""

    scratch: FlashArea | None = None

    def copy_chunk(self) -> int:  # pragma: no cover - interface
        """Bytes per copied chunk (the store's block or sector), known after ``check``."""
        raise NotImplementedError

    def render(self, area: FlashArea) -> None:
        if self.scratch is None:
            self.check(area)
        assert self.scratch is not None, "check() sets scratch"
        copy_content(self.scratch, area, self.copy_chunk())
