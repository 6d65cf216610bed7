"""Helpers of the KV tests (``import kv_flash``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for ``import kv_flash``
