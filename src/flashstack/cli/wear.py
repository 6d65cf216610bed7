"""``flashstack wear``: per-page wear of one store configuration under a write pattern."""

from __future__ import annotations

import click
from rich.markup import escape

from .common import console, emit, fail, json_option, parse_int, plot_options, write_plots
from .plan import _workload, _years, workload_options


@click.command("wear")
@workload_options
@click.option("--size", "size", type=parse_int, default=8192, show_default=True, metavar="BYTES",
              help="Partition size.")
@click.option("--unit-size", type=parse_int, default=4096, show_default=True, metavar="BYTES",
              help="KV block / NVS sector size.")
@plot_options("erase count per page", "the erase count per page")
@json_option
def wear(as_json, size, unit_size, plot, save_wear, **kw):
    """Simulate the write pattern on one partition and show the erase count of every page.

    \b
    Example:
      flashstack wear --store zephyr-nvs --size 0x3000 --unit-size 0x1000 --keys 20
      flashstack wear --keys 20 --samples 500 --plot wear.svg --save-wear wear.json
    """
    from ..device import chips
    from ..plan import measure

    if unit_size < 1 or size < unit_size or size % unit_size:
        # measuring a smaller partition than the one asked for would be a silent wrong answer
        fail(f"--size {size:#x} is not a whole number of --unit-size {unit_size:#x} units")
    chip = chips.lookup(kw["chip"])
    cand = measure(kw["store"], size // unit_size, unit_size, _workload(kw),
                   write_block=chip.write_block_size, rated_cycles=chip.rated_cycles or 100_000,
                   sample_writes=kw["samples"], seed=kw["seed"])
    from dataclasses import asdict
    write_plots(asdict(cand), plot, asdict(cand), save_wear, "plot_wear")
    emit(asdict(cand), as_json, lambda _: _render(cand, kw["samples"]))


def _render(c, samples) -> None:
    if not c.fits:
        console.print(f"[red]does not fit[/]: {escape(c.reason)}", soft_wrap=True)
        return
    top = max(c.page_cycles) or 1
    for i, n in enumerate(c.page_cycles):
        bar = "#" * max(1 if n else 0, round(40 * n / top))
        console.print(f"page {i:3d} @ {i * c.unit_size:#08x}  {n:6d}  {bar}")
    console.print(f"{samples} updates: {c.erases_per_1000_writes:.1f} erases per 1000 writes, "
                  f"write amplification {c.write_amplification:.2f}, lifetime {_years(c.lifetime_years)} years",
                  soft_wrap=True)
