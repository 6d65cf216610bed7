"""One report protocol: results have ``to_json()`` (flashstack._report.JSONReport), never ``to_dict``."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import flashstack
from flashstack._report import JSONReport, dumps
from flashstack.device import SimulatedFlash
from flashstack.flash_map import FlashArea
from flashstack.kv import KVConfig
from flashstack.kv import scan as kv_scan
from flashstack.nvs import scan as nvs_scan
from flashstack.zms.scan import scan as zms_scan

_OPTIONAL = ("flashstack.cli", "flashstack.report", "flashstack.native", "flashstack.fuzz.__main__",
             "flashstack.cli.__main__", "flashstack.__main__")


def _classes():
    for info in pkgutil.walk_packages(flashstack.__path__, "flashstack."):
        try:
            mod = importlib.import_module(info.name)
        except ImportError:
            assert info.name.startswith(_OPTIONAL), info.name  # only optional extras may be absent
            continue
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ == info.name:
                yield cls


def test_no_class_has_a_second_report_method():
    offenders = [f"{c.__module__}.{c.__qualname__}" for c in _classes() if hasattr(c, "to_dict")]
    assert offenders == []


def _area(write_block: int) -> FlashArea:
    dev = SimulatedFlash(4096, erase_page_size=1024, write_block_size=write_block)
    return FlashArea(0, 0, 4096, dev, label="storage")


def test_scan_results_follow_the_protocol():
    reports = [kv_scan(_area(1), KVConfig(total_size=4096, block_size=1024)), nvs_scan(_area(4)),
               zms_scan(_area(4))]
    for r in reports:
        assert isinstance(r, JSONReport)
        data = r.to_json()
        assert isinstance(data, dict) and data
        assert json.loads(dumps(r)) == json.loads(json.dumps(data, default=str))
