"""The project fuzzes itself: one target per reader, loader, importer and writer, run under
hypothesis (always) or atheris (when installed), each call checked against the invariants of
issue 11 (:mod:`.invariants`).

``python -m flashstack.fuzz TARGET --minutes N`` runs one target (or ``all``) for a time budget;
``tests/fuzz`` runs every target for a short seeded budget in CI. A finding is printed with its
input (hex) and the hypothesis blob to reproduce it; make it a regression test in
``tests/fuzz_findings``.
"""

from .invariants import Finding, check_call
from .targets import TARGETS, FuzzTarget

__all__ = ["TARGETS", "FuzzTarget", "Finding", "check_call"]
