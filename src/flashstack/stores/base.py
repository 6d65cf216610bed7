"""The store-kind interface: what every on-flash format registers once.

A :class:`StoreKind` knows one format (AliOS KV, Zephyr NVS, LLKERNEL, littlefs, MCUboot, ...):

- ``detect(view)`` -> :class:`Detection` or None: recognise the format from the partition's
  bytes, with a confidence (0..1) and the parameters the bytes give (e.g. the KV block size
  from its block headers), each tagged with its source;
- ``describe(view, hint, details)`` -> report dict or None ("not mine"): summary line,
  details and a health verdict (the ``inspect`` report of one partition);
- ``open(area, params, writable)`` -> the format's store object (writable: on ``area``
  itself, to be mounted by the caller; read-only: on an in-memory copy, never writing
  ``area``);
- hookups the jobs resolve themselves (so this layer never imports a job): ``provider``
  (``"module:Class"`` of the build provider for manifest ``type = <name>``), ``targets``
  (torture target name -> ``"module:Class"``), ``plan`` (a :class:`PlanAdapter` for
  ``plan``/``wear``, or None when the format cannot be sized that way).

A partition is seen through a :class:`PartitionView`: its bytes, a FlashArea over a private
copy, and its geometry. Offsets in reports are partition-relative; addresses absolute.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Detection", "PartitionView", "PlanAdapter", "StoreKind", "memory_copy", "report"]


@dataclass
class PartitionView:
    """The bytes of one partition and what is known about it. ``area`` is a FlashArea over a
    private copy (store scanners need one); ``erase_page`` and ``write_block`` are bytes
    (``erase_page`` None for non-uniform pages); ``address`` is the absolute address of the
    partition start when memory-mapped."""

    name: str
    data: bytes
    area: Any
    erase_value: int = 0xFF
    erase_page: int | None = 4096
    write_block: int = 1
    address: int | None = None


@dataclass
class Detection:
    """A format recognised from bytes: ``kind`` (registry name), ``confidence`` (0..1: 1 =
    checksummed structures agree, 0.5 = magic bytes only), ``params`` (parameter name ->
    value found in the bytes) and ``sources`` (parameter name -> where it came from, e.g.
    ``"block headers"``)."""

    kind: str
    confidence: float
    params: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"kind": self.kind, "confidence": round(self.confidence, 2), "params": dict(self.params),
                "sources": dict(self.sources)}


def report(kind: str, summary: str, problems=(), warnings=(), **fields) -> dict:
    """A partition report: ``kind``, ``summary`` (one line), ``health`` ("ok", "warning",
    "error"), ``problems`` (errors then warnings, as strings), plus kind-specific fields."""
    health = "error" if problems else "warning" if warnings else "ok"
    return {"kind": kind, "summary": summary, "health": health,
            "problems": list(problems) + list(warnings), **fields}


def memory_copy(area):
    """An in-memory copy of ``area`` (:meth:`FlashArea.memory_copy
    <flashstack.flash_map.FlashArea.memory_copy>`): what read-only opens mount, so the real
    storage is never written."""
    return area.memory_copy(name=f"copy:{area.name}")


class PlanAdapter(ABC):
    """What ``plan``/``wear`` need from a key-value format to measure it on a simulated chip.

    ``unit`` is the format's erase unit (KV block, NVS sector) in bytes."""

    #: the simulated device must allow re-programming a byte (the KV re-programs state bytes)
    double_writes: ClassVar[bool] = False
    #: the unit name in messages
    unit_name: ClassVar[str] = "unit"

    @abstractmethod
    def min_unit(self, erase_page: int) -> int:
        """The smallest unit the format accepts on a chip with this erase page (bytes)."""

    def refuse(self, unit: int, erase_page: int) -> str | None:
        """Why the format does not accept ``unit`` on this chip, or None when it does."""
        if unit <= 0 or unit % erase_page:
            return f"{self.unit_name} {unit:#x} is not a multiple of the erase page {erase_page:#x}"
        low = self.min_unit(erase_page)
        if unit < low:
            return f"{self.unit_name} {unit:#x} is below the minimum {low:#x} of the format"
        return None

    @abstractmethod
    def open(self, area, unit: int) -> Callable[[Any, bytes], Any]:
        """Mount a fresh store of ``area.size // unit`` units on the erased ``area``; returns
        ``put(key, value)``."""

    @abstractmethod
    def key(self, workload, i: int) -> Any:
        """The store key for workload key ``i``."""

    @abstractmethod
    def user_bytes(self, workload) -> int:
        """Payload bytes of one update (what write amplification divides by)."""


class StoreKind(ABC):
    """One on-flash format in the registry (see the module docstring)."""

    #: registry name, also the build manifest ``type`` and the inspect report ``kind``
    name: ClassVar[str] = ""
    #: a few words for tables and help
    title: ClassVar[str] = ""
    #: other names that find this kind (manifest types, torture targets, old spellings)
    aliases: ClassVar[tuple[str, ...]] = ()
    #: detection order: lower runs first (cheap, specific magics before heuristics)
    order: ClassVar[int] = 50
    #: build provider ``"module:Class"``, None when the format cannot be built
    provider: ClassVar[str | None] = None
    #: torture target name -> ``"module:Class"``
    targets: ClassVar[dict[str, str]] = {}
    #: flash-map partition the commands use when none is given (None: no default)
    default_partition: ClassVar[str | None] = None
    #: the plan/wear adapter, None when the format is not a key-value store to size
    plan: ClassVar[PlanAdapter | None] = None

    @abstractmethod
    def detect(self, view: PartitionView) -> Detection | None:
        """The format found in ``view``'s bytes, or None. Never writes, never raises for
        content (only PowerLoss from a fault-injecting device propagates)."""

    @abstractmethod
    def describe(self, view: PartitionView, hint: dict | None, details: bool) -> dict | None:
        """The partition report (:func:`report`), or None when the bytes are not this
        format. ``hint``: the partition's build record content (``{"type", "config"}``)."""

    def open(self, area, params: dict, writable: bool) -> Any:
        """The format's store object on ``area`` with ``params`` (unmounted when writable;
        read-only ones sit on an in-memory copy). NotSupported (ENOSYS) when the format has
        no store object."""
        from ..errors import NotSupported
        raise NotSupported(f"{self.name}: flashstack has no store object to open")

    def __repr__(self) -> str:
        return f"<store kind {self.name}>"
