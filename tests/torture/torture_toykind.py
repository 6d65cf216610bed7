"""A store kind registered by a test: the LogKV test store as kind ``logkv``, whose torture
target declares its own option (``--defect``). Nothing in flashstack names it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torture_logkv import LogKVTarget

from flashstack.stores import StoreKind
from flashstack.torture.target import Target, TargetOption


@dataclass(frozen=True)
class ToyTarget(LogKVTarget):
    kind = "logkv"
    title = "The LogKV test store."
    cli_options: ClassVar[tuple[TargetOption, ...]] = (
        TargetOption("defect", "--defect", "Break the store on purpose.", "flag"),)
    default_ops = 40

    def cli_args(self) -> list:
        return Target.cli_args(self)   # from cli_options (LogKVTarget names a module instance)


class ToyKind(StoreKind):
    name = "logkv-test"
    targets: ClassVar[dict[str, str]] = {"logkv": "torture_toykind:ToyTarget"}

    def detect(self, view):
        return None

    def describe(self, view, hint, details):
        return None
