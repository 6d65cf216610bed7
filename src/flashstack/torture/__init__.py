"""Power-loss torture campaigns: prove crash consistency at every flash operation.

Entry points: :class:`Campaign` + :func:`run_campaign` (a :class:`Report`), :func:`replay` (one
cut, with the images before and after it and the store's dump), and the targets in
:mod:`flashstack.torture.targets` (``kv``, ``llkernel``, ``nvs``, ``settings``), or any
:class:`Target` a user writes for their own storage code.

Torturing your own key-value store takes a :class:`DictTarget` with five methods::

    @dataclass(frozen=True)
    class MyTarget(DictTarget):
        geometry: PartitionGeometry = field(default_factory=lambda: PartitionGeometry.uniform(8192, 4096))

        def mount(self, area):                 # from the image alone
            return MyStore(area).mount()
        def observe(self, store):              # {key: value} as the store reads it
            return dict(store.items())
        def kv_set(self, store, key, value):   # NoSpace (ENOSPC) when full
            store.set(key, value)
        def kv_delete(self, store, key):       # NotFound (ENOENT) when missing
            store.delete(key)
        def workload(self, name, ops, seed):
            return dict_workload(name, ops, seed, DictSpace(lambda i: f"k{i}", max_val=64))

    report = run_campaign(Campaign(MyTarget(), workload="mixed", ops=300), jobs=None)
    for f in report.failures:
        print(f.reproducer, f.violations)

or from the shell: ``flashstack torture custom --target mymodule:MyTarget``.
"""

from .engine import TEARS, Campaign, Plan, plan, run_campaign
from .kvlike import DictTarget, check_dict
from .replay import ReplayResult, replay
from .report import Failure, Report, reproducer
from .target import CheckOutcome, PartitionGeometry, Target, describe_op
from .workloads import (DICT_WORKLOADS, FEATURE_WORKLOADS, DictSpace, dict_workload,
                        feature_workload, parse_workload)

__all__ = ["TEARS", "Campaign", "Failure", "Plan", "Report", "plan", "reproducer", "run_campaign",
           "DictTarget", "check_dict", "ReplayResult", "replay", "CheckOutcome", "PartitionGeometry",
           "Target", "describe_op", "DICT_WORKLOADS", "FEATURE_WORKLOADS", "DictSpace",
           "dict_workload", "feature_workload", "parse_workload"]
