"""``flashstack plan``: size a KV partition and predict its lifetime for a chip and a write pattern."""

from __future__ import annotations

import click

from .common import console, emit, fail, json_option, parse_int, plot_options, write_plots


def _store_choice() -> click.Choice:
    """The registered store kinds that ``plan``/``wear`` can size (they have a plan adapter)."""
    from ..plan.lifetime import stores
    return click.Choice(list(stores()))


def workload_options(fn):
    """The write pattern shared by ``plan`` and ``wear``."""
    for opt in reversed([
        click.option("--store", type=_store_choice(), default="alios-kv", show_default=True,
                     help="On-flash format (a registered store kind that can be sized)."),
        click.option("--board", "-b", default=None, metavar="B",
                     help="Plan for a partition of this board (with -p): its erase page, write "
                          "block and size."),
        click.option("--partition", "-p", default=None, metavar="P",
                     help="The board partition to plan for (node label, label or id)."),
        click.option("--erase-less", is_flag=True,
                     help="An erase-less memory (RRAM, MRAM): wear is page rewrites, not erases."),
        click.option("--write-block", type=int, default=None,
                     help="Write block in bytes [the chip's, or the partition's] (16 for the nRF54L RRAM)."),
        click.option("--chip", default="w25q128jv", show_default=True,
                     help="Chip key, part name or JEDEC id: built-in table, else the spiflash database (geometry and rated cycles)."),
        click.option("--keys", type=int, default=100, show_default=True, help="Live keys."),
        click.option("--key-size", type=int, default=16, show_default=True, help="Key bytes (KV)."),
        click.option("--value-size", type=int, default=32, show_default=True, help="Value bytes."),
        click.option("--writes-per-day", type=float, default=1000, show_default=True,
                     help="Updates per day over all keys."),
        click.option("--samples", type=int, default=5000, show_default=True,
                     help="Simulated updates per measured size (more = steadier figures)."),
        click.option("--seed", type=int, default=0, show_default=True),
    ]):
        fn = opt(fn)
    return fn


def board_geometry(kw) -> dict:
    """``{"erase_page", "write_block", "size", "partition", "chip"}`` of ``--board B -p P``
    (empty without them). EINVAL for -p without --board or a partition with mixed erase pages."""
    from ..errors import InvalidArgument
    board, part = kw.get("board"), kw.get("partition")
    if board is None and part is None:
        return {}
    if board is None or part is None:
        raise InvalidArgument("--board and --partition go together (plan for one real partition)")
    from ..board import load_board
    b = load_board(board)
    with b.open(images=None) as ob:
        area = ob.area(part)
        pages = {p.size for p in area.erase_pages()}
        if len(pages) != 1:
            raise InvalidArgument(f"partition {area.name} has erase pages of several sizes "
                                  f"({', '.join(map(str, sorted(pages)))}); a store needs one")
        chip = getattr(area.device, "chip", None)
        return {"erase_page": pages.pop(), "write_block": area.align, "size": area.size,
                "partition": area.name, "chip": getattr(chip, "key", None)}


def _workload(kw):
    from ..plan import Workload
    return Workload(keys=kw["keys"], key_size=kw["key_size"], value_size=kw["value_size"],
                    writes_per_day=kw["writes_per_day"])


def _fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


def _years(x):
    return "-" if x is None else ("forever" if x == float("inf") else f"{x:,.1f}")


@click.command("plan")
@workload_options
@click.option("--years", type=float, default=10, show_default=True, help="Required lifetime.")
@click.option("--max-size", type=parse_int, default=None, metavar="BYTES",
              help="Largest partition to consider (default 64 erase units).")
@click.option("--unit-size", type=parse_int, default=None, metavar="BYTES",
              help="KV block / NVS sector size (default: the chip's erase page, >= 4 KiB for AliOS KV).")
@plot_options("lifetime against partition size", "the recommended size's erase count per page")
@json_option
def plan(as_json, years, max_size, unit_size, plot, save_wear, **kw):
    """Find the smallest partition that holds the live set and lasts --years.

    Each candidate size is measured, not estimated: the real store runs the write pattern on a
    simulated chip, and the most-erased page's cycles per update give the lifetime.

    Only layouts the store accepts are measured: the unit (KV block, NVS sector) is a whole
    number of erase pages and at least the store's minimum; a --unit-size it would refuse
    is an error. With --board B -p P the erase page, write block and largest size are those
    of that partition.

    \b
    Examples:
      flashstack plan --store alios-kv --chip w25q128jv --keys 20 --samples 500 --years 10
      flashstack plan --store zephyr-nvs --board flashstack-demo -p storage_partition --keys 10 --samples 300
      flashstack plan --keys 20 --samples 500 --plot plan.svg --save-wear wear.json
    """
    from ..plan import plan as run_plan
    from .progress import progress

    geo = board_geometry(kw)
    if geo and max_size is not None and max_size > geo["size"]:
        fail(f"--max-size {max_size:#x} is larger than partition {geo['partition']} ({geo['size']:#x})")
    with progress(f"plan {kw['store']}", "sizes measured") as update:
        report = run_plan(kw["store"], chip=geo.get("chip") or kw["chip"], workload=_workload(kw),
                          target_years=years, max_size=max_size or geo.get("size"), unit_size=unit_size,
                          erase_page=geo.get("erase_page"),
                          write_block=kw["write_block"] or geo.get("write_block"),
                          sample_writes=kw["samples"], erase_less=kw["erase_less"],
                          seed=kw["seed"], progress=update)
    data = report.to_json()
    write_plots(data, plot, data["recommended"], save_wear, "plot_plan")
    for c in data["candidates"]:
        c.pop("page_cycles", None)
    if data["recommended"]:
        data["recommended"].pop("page_cycles", None)
    emit(data, as_json, lambda _: _render(report))


def _render(report) -> None:
    from rich.markup import escape
    from rich.table import Table

    w = report.workload
    kind = "erase-less, " if report.candidates and report.candidates[0].wear_unit != "erase cycles" else ""
    console.print(f"[bold]{report.store}[/] on {report.chip} ({kind}erase page {report.erase_page} B, "
                  f"write block {report.write_block} B, rated {report.rated_cycles:,} cycles); "
                  f"{w['keys']} keys of {w['key_size']}+{w['value_size']} B, "
                  f"{w['writes_per_day']:,.0f} updates/day; {report.sample_writes} simulated updates per size")
    t = Table(show_edge=False)
    for col in ("size", "units", "fits", "write amp.", "erases/1000 writes", "wear max/mean", "lifetime (years)", ""):
        t.add_column(col, justify="right")
    for c in report.candidates:
        ok = "[green]meets target[/]" if c.meets_target else (escape(c.reason) if c.reason else "[yellow]short-lived[/]")
        t.add_row(f"{c.size:#x}", f"{c.units} x {c.unit_size}", "yes" if c.fits else "no",
                  _fmt(c.write_amplification), _fmt(c.erases_per_1000_writes, ".1f"),
                  _fmt(c.wear_max_over_mean), _years(c.lifetime_years), ok)
    from .tables import fit
    console.print(fit(t, console, names=("size", "units"),
                      drop=("wear max/mean", "erases/1000 writes", "write amp.")))
    r = report.recommended
    if r:
        console.print(f"recommended: [bold]{r.size:#x}[/] bytes ({r.units} x {r.unit_size}), "
                      f"about {_years(r.lifetime_years)} years at this rate")
    else:
        console.print(f"[red]no candidate lasts {report.target_years:g} years[/]: raise --max-size, "
                      f"lower the write rate, or pick a chip with more endurance")
