"""MicroEJ feature storage: LLKERNEL over flash (docs/llkernel.md).

:class:`FeatureStore` keeps Features in N equal slots of a KF partition, header-compatible
with MicroEJ AbstractionLayer-KERNEL-FLASH 1.0.3; :mod:`flashstack.llkernel.capi` has the
seed ``LLKERNEL_IMPL_*`` functions; :mod:`flashstack.llkernel.fo` sizes ``.fo`` files
(extra ``elf``).
"""

from .config import KfConfig, config_for_area
from .header import (LLKERNEL_ERROR, LLKERNEL_OK, REMOVED_MAGIC, USED_MAGIC, FeatureHeader,
                     init_error_name)
from ._ram import place_ram
from .scan import Anomaly, ScanReport, SlotReport, scan_region
from .store import Feature, FeatureStore

__all__ = ["FeatureStore", "Feature", "KfConfig", "config_for_area", "FeatureHeader",
           "LLKERNEL_OK", "LLKERNEL_ERROR", "USED_MAGIC", "REMOVED_MAGIC", "init_error_name",
           "place_ram", "Anomaly", "ScanReport", "SlotReport", "scan_region"]
