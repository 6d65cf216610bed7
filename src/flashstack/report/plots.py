"""Charts for ``plan --plot`` and ``wear --plot`` (matplotlib, extra ``report``), written as
SVG or PNG by the file's suffix. The report page embeds such files (``report --plot``).

Both take the commands' ``--json`` documents, so a chart always shows the same numbers as
the table the command prints.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..errors import InvalidArgument, NotSupported

__all__ = ["plot_plan", "plot_wear", "PLOT_SUFFIXES"]

PLOT_SUFFIXES = (".svg", ".png")


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise NotSupported("plots need matplotlib: pip install 'flashstack[report]'") from None
    matplotlib.use("Agg")  # no screen: render to files only
    import matplotlib.pyplot as plt

    return plt


def _check(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.suffix.lower() not in PLOT_SUFFIXES:
        raise InvalidArgument(f"plot file {p}: give a name ending in .svg or .png")
    return p


def _save(fig, path: Path) -> None:
    # written beside and renamed, so a failed render leaves no half file
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    fig.savefig(tmp, format=path.suffix[1:].lower(), bbox_inches="tight",
                metadata={"Date": None} if path.suffix.lower() == ".svg" else None)
    os.replace(tmp, path)


def plot_plan(doc: dict, path: str | os.PathLike) -> None:
    """Lifetime (years, log scale) against partition size (KiB) for every candidate of a
    ``plan --json`` document, with the required lifetime as a line and the recommended size
    marked. Candidates that do not fit are left out. InvalidArgument (EINVAL) for a bad
    suffix or a document without fitting candidates."""
    p = _check(path)
    pts = [(c["size"] / 1024, c["lifetime_years"]) for c in doc.get("candidates", [])
           if c.get("fits") and isinstance(c.get("lifetime_years"), (int, float))
           and math.isfinite(c["lifetime_years"]) and c["lifetime_years"] > 0]
    if not pts:
        raise InvalidArgument("plan: no candidate size fits, nothing to plot")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label="measured lifetime")
    if doc.get("target_years"):
        ax.axhline(doc["target_years"], color="tab:red", linestyle="--",
                   label=f"required {doc['target_years']:g} years")
    rec = doc.get("recommended")
    if rec and rec.get("fits"):
        ax.plot([rec["size"] / 1024], [rec["lifetime_years"]], marker="*", markersize=16,
                color="tab:green", linestyle="none", label=f"recommended {rec['size'] // 1024} KiB")
    ax.set_yscale("log")
    ax.set_xlabel("partition size (KiB)")
    ax.set_ylabel("lifetime (years)")
    ax.set_title(f"{doc.get('store', '')} on {doc.get('chip', '')}: lifetime vs partition size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    _save(fig, p)
    plt.close(fig)


def plot_wear(doc: dict, path: str | os.PathLike) -> None:
    """Erase count per page (bars) of a ``wear --json`` document (``page_cycles``) or a
    device ``save_wear`` file (``erase_cycles``), with the mean as a line. InvalidArgument
    (EINVAL) for a bad suffix or a document without counts."""
    p = _check(path)
    cycles = doc.get("page_cycles", doc.get("erase_cycles"))
    if not isinstance(cycles, list) or not cycles:
        raise InvalidArgument("wear: no per-page erase counts to plot")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(range(len(cycles)), cycles, width=1.0 if len(cycles) > 64 else 0.8, color="tab:orange")
    mean = sum(cycles) / len(cycles)
    ax.axhline(mean, color="tab:blue", linestyle="--", label=f"mean {mean:.1f}")
    ax.set_xlabel("erase page")
    ax.set_ylabel("erase count")
    ax.set_title(f"erase count per page (max {max(cycles)}, mean {mean:.1f})")
    ax.legend()
    _save(fig, p)
    plt.close(fig)
