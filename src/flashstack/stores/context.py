"""Context resolution: where each store parameter comes from.

Order (first that knows wins): explicit flags, then the build record (``build.json`` beside
or named for the image), then what the bytes say (a :class:`Detection`), then defaults (the
board's partition, the format's documented defaults). A flag that contradicts the build
record or the bytes is an error naming both values: reading a store with the wrong geometry
is a silent misread, writing it destroys data. A build record that disagrees with the bytes
is kept (the record is what was built) and noted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgument
from .base import Detection

__all__ = ["Param", "Resolved", "resolve", "show_value"]


def show_value(value: Any) -> str:
    """A parameter value for messages: ints >= 256 in hex, booleans as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and value >= 256:
        return f"{value:#x}"
    return str(value)


@dataclass(frozen=True)
class Param:
    """One resolved parameter: ``value`` and ``source`` ("flag --block-size",
    "build record", "bytes (block headers)", "default (...)")."""

    value: Any
    source: str


@dataclass
class Resolved:
    """Parameters by name with their sources, plus notes (record/bytes disagreements)."""

    params: dict[str, Param] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: where the partition table came from (the board and its source), reported first; not a
    #: store parameter (absent from :meth:`values`)
    board: Param | None = None

    def __getitem__(self, name: str) -> Any:
        return self.params[name].value

    def get(self, name: str, default: Any = None) -> Any:
        p = self.params.get(name)
        return default if p is None else p.value

    def values(self) -> dict[str, Any]:
        return {k: p.value for k, p in self.params.items()}

    def _shown(self) -> dict[str, Param]:
        return {"board": self.board, **self.params} if self.board is not None else self.params

    def to_json(self) -> dict:
        """``{name: {"value", "source"}}`` (the ``parameters`` field of ``--json`` reports),
        ``board`` first when known."""
        return {k: {"value": p.value, "source": p.source} for k, p in self._shown().items()}

    def lines(self) -> list[str]:
        """``name = value (source)`` lines for a table footer, ``board`` first when known."""
        return [f"{k} = {show_value(p.value)} ({p.source})" for k, p in self._shown().items()]


def _spell(option: str, value: Any) -> str:
    """How the user wrote a flag: ``--data-crc``/``--no-data-crc`` for a boolean, else
    ``--option value``."""
    if isinstance(value, bool):
        return option if value else "--no-" + option.removeprefix("--")
    return f"{option} {show_value(value)}"


def resolve(names: list[str], *, flags: Mapping[str, Any], record: Mapping[str, Any] | None = None,
            detected: Detection | None = None, defaults: Mapping[str, Any] | None = None,
            flag_names: Mapping[str, str] | None = None, record_name: str = "build record",
            default_source: str = "default") -> Resolved:
    """Resolve ``names`` in the order flags -> ``record`` -> ``detected`` -> ``defaults``.

    ``flags`` maps a name to the value the user gave (None = not given); ``flag_names`` maps
    a name to its option spelling for messages (default ``--name-with-dashes``). A name no
    source knows is left out. InvalidArgument (EINVAL) when a flag contradicts the record or
    the bytes, naming both values and their sources."""
    out = Resolved()
    record = record or {}
    found = detected.params if detected else {}
    for name in names:
        flag = flags.get(name)
        rec = record.get(name)
        byt = found.get(name)
        byt_src = f"bytes ({detected.sources.get(name, 'detected')})" if detected and byt is not None else ""
        if flag is not None:
            spelled = (flag_names or {}).get(name, "--" + name.replace("_", "-"))
            given = _spell(spelled, flag)
            for other, where in ((rec, record_name), (byt, byt_src)):
                if other is not None and other != flag:
                    raise InvalidArgument(f"{given} contradicts the {where}: "
                                          f"{name} = {show_value(other)}; drop the flag or fix the image")
            out.params[name] = Param(flag, f"flag {spelled}")
        elif rec is not None:
            if byt is not None and byt != rec:
                out.notes.append(f"{name}: the {record_name} says {show_value(rec)}, the {byt_src} "
                                 f"say {show_value(byt)}; using the {record_name}")
            out.params[name] = Param(rec, record_name)
        elif byt is not None:
            out.params[name] = Param(byt, byt_src)
        elif defaults and defaults.get(name) is not None:
            out.params[name] = Param(defaults[name], default_source)
    return out
