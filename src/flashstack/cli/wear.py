"""``flashstack wear``: per-page wear of one store configuration under a write pattern."""

from __future__ import annotations

import click
from rich.markup import escape

from .common import console, emit, fail, json_option, parse_int, plot_options, write_plots
from .plan import _workload, _years, board_geometry, workload_options


@click.command("wear")
@workload_options
@click.option("--size", "size", type=parse_int, default=None, metavar="BYTES",
              help="Partition size [8192, or the size of --board/-p].")
@click.option("--unit-size", type=parse_int, default=None, metavar="BYTES",
              help="KV block / NVS sector size [the smallest the store accepts on the chip].")
@plot_options("erase count per page", "the erase count per page")
@json_option
def wear(as_json, size, unit_size, plot, save_wear, **kw):
    """Simulate the write pattern on one partition and show the erase count of every page
    (page rewrites on an erase-less memory).

    The unit must be one the store accepts (a whole number of erase pages, at least the
    store's minimum). With --board B -p P the partition's size, erase page and write block
    are used.

    \b
    Examples:
      flashstack wear --store zephyr-nvs --size 0x3000 --unit-size 0x1000 --keys 20 --samples 500
      flashstack wear --store alios-kv --board flashstack-demo -p storage_partition --keys 10 --samples 300
      flashstack wear --keys 20 --samples 500 --plot wear.svg --save-wear wear.json
    """
    from ..device import chips
    from ..plan import measure
    from ..plan.lifetime import adapter

    geo = board_geometry(kw)
    chip = chips.lookup(geo.get("chip") or kw["chip"])
    page = geo.get("erase_page") or min(s for _, s in chip.layout)
    ad = adapter(kw["store"])
    if size is None:
        size = geo.get("size", 8192)
    elif geo and size != geo["size"]:
        fail(f"--size {size:#x} contradicts partition {geo['partition']} ({geo['size']:#x})")
    unit_size = unit_size or ad.min_unit(page)
    why = ad.refuse(unit_size, page)
    if why:
        fail(f"--unit-size: {why} ({chip.key}); the store would refuse this layout")
    if unit_size < 1 or size < unit_size or size % unit_size:
        # measuring a smaller partition than the one asked for would be a silent wrong answer
        fail(f"--size {size:#x} is not a whole number of --unit-size {unit_size:#x} units")
    from .progress import progress
    with progress(f"wear {kw['store']}", "updates") as update:
        cand = measure(kw["store"], size // unit_size, unit_size, _workload(kw),
                       write_block=kw["write_block"] or geo.get("write_block") or chip.write_block_size,
                       rated_cycles=chip.rated_cycles or 100_000, sample_writes=kw["samples"],
                       seed=kw["seed"], erase_less=kw["erase_less"], progress=update)
    from dataclasses import asdict
    write_plots(asdict(cand), plot, asdict(cand), save_wear, "plot_wear")
    emit(asdict(cand), as_json, lambda _: _render(cand, kw["samples"]))


def _render(c, samples) -> None:
    if not c.fits:
        console.print(f"[red]does not fit[/]: {escape(c.reason)}")
        return
    top = max(c.page_cycles) or 1
    for i, n in enumerate(c.page_cycles):
        bar = "#" * max(1 if n else 0, round(40 * n / top))
        console.print(f"page {i:3d} @ {i * c.unit_size:#08x}  {n:6d}  {bar}")
    console.print(f"wear unit: {c.wear_unit}", markup=False)
    console.print(f"{samples} updates: {c.erases_per_1000_writes:.1f} erases per 1000 writes, "
                  f"write amplification {c.write_amplification:.2f}, lifetime {_lifetime(c.lifetime_years)}")


def _lifetime(years) -> str:
    # no erase in the sample: the figure is unbounded, not a number of years
    return "unbounded (no erase in the sample)" if years == float("inf") else f"{_years(years)} years"
