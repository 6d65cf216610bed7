"""Power-loss torture campaigns: prove crash consistency at every flash operation.

Entry points: :class:`Campaign` + :func:`run_campaign` (a :class:`Report`), :func:`replay` (one
cut, with the images before and after it and the store's dump), and the targets in
:mod:`flashstack.torture.targets` (``kv``, ``llkernel``, ``nvs``, ``settings``, or any
:class:`Target` a user writes for their own storage code).
"""

from .engine import TEARS, Campaign, Failure, Plan, Report, plan, reproducer, run_campaign
from .kvlike import DictTarget, check_dict
from .replay import ReplayResult, replay
from .target import CheckOutcome, Geometry, Target, describe_op
from .workloads import (DICT_WORKLOADS, FEATURE_WORKLOADS, DictSpace, dict_workload,
                        feature_workload, parse_workload)

__all__ = ["TEARS", "Campaign", "Failure", "Plan", "Report", "plan", "reproducer", "run_campaign",
           "DictTarget", "check_dict", "ReplayResult", "replay", "CheckOutcome", "Geometry",
           "Target", "describe_op", "DICT_WORKLOADS", "FEATURE_WORKLOADS", "DictSpace",
           "dict_workload", "feature_workload", "parse_workload"]
