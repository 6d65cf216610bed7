"""The ``flashstack`` command line (extra ``cli``: click + rich).

Thin by design: each command parses arguments, calls one library function and renders the
result with rich (or prints JSON with ``--json``). Entry point: :func:`main`.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv=None) -> None:
    """Run the ``flashstack`` command (console script). Needs the ``cli`` extra."""
    try:
        from .app import main as _main
    except ImportError as exc:  # click or rich missing
        raise SystemExit(f"error: the flashstack command needs the 'cli' extra "
                         f"(pip install 'flashstack[cli]'): {exc}") from None
    _main(argv)
