"""``flashstack torture``: power-loss campaigns against the storage layers, and replay of one cut.

    flashstack torture kv|nvs|settings|zms|llkernel [--board B --partition P] [--workload NAME]
        [--ops N] [--seed S] [--cuts all|N] [--tear clean,prefix,bits] [--tear-samples N]
        [--gc-check F] [--jobs J] [--scheduler ADDRESS] [--json]
    flashstack torture custom --target MODULE:ATTR ...        # your own storage code
    flashstack torture replay KIND [target options] --workload W --ops N --seed S --cut I --tear T [--save DIR]
    flashstack torture workloads

Without ``--partition`` each store runs on its default geometry (KV: 8 KiB = 2 x 4 KiB; NVS:
3 x 1 KiB, write block 4; Settings: 4 x 1 KiB; feature storage: 64 KiB at 0x90000000). Exit
status 1 when a campaign finds failures or a replay reproduces one.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import InvalidArgument
from .common import DEFAULT_BOARD, INT, console, emit, json_option

_DEFAULTS = {  # kind -> (workload, ops, default partition on a board)
    "kv": ("mixed", 500, "storage_partition"),
    "nvs": ("mixed", 500, "storage_partition"),
    "settings": ("mixed", 300, "storage_partition"),
    "zms": ("mixed", 500, "storage_partition"),
    "llkernel": ("churn", 20, "kf_partition"),
    "custom": ("mixed", 300, None),
}

_KIND_OPTIONS = {
    "kv": [click.option("--block-size", type=INT, default=4096, show_default=True, help="KV block size."),
           click.option("--total-size", type=INT, default=None,
                        help="KV area size [default: the whole partition]."),
           click.option("--hal", is_flag=True, help="Go through the AliOS flash HAL (PARAMETER_2 view)."),
           click.option("--align", type=click.Choice(["4", "8"]), default="4", show_default=True,
                        help="Record alignment (8 for 64-bit targets).")],
    "nvs": [click.option("--sector-size", type=INT, default=None, help="NVS sector size [erase page]."),
            click.option("--sector-count", type=INT, default=None, help="NVS sectors [whole partition]."),
            click.option("--data-crc", is_flag=True, help="CONFIG_NVS_DATA_CRC format.")],
    "llkernel": [click.option("--max-features", type=INT, default=4, show_default=True, help="Slots N."),
                 click.option("--ram-base", type=INT, default=0x20010000, show_default=True,
                              help="Kernel RAM buffer address."),
                 click.option("--ram-size", type=INT, default=16 * 1024, show_default=True,
                              help="Kernel RAM buffer size.")],
    "custom": [click.option("--target", "target_ref", required=True, metavar="MODULE:ATTR",
                            help="A flashstack.torture.Target instance or factory.")],
}
_KIND_OPTIONS["zms"] = [*_KIND_OPTIONS["nvs"][:2],
                       click.option("--data-crc", is_flag=True, help="CONFIG_ZMS_DATA_CRC format."),
                       click.option("--id-64bit", is_flag=True, help="CONFIG_ZMS_ID_64BIT format."),
                       click.option("--erase-less", is_flag=True,
                                    help="An erase-less (RRAM/MRAM-like) device: no erase, "
                                         "writes overwrite.")]
_KIND_OPTIONS["settings"] = [*_KIND_OPTIONS["nvs"],
                             click.option("--backend", type=click.Choice(["nvs", "zms"]),
                                          default="nvs", show_default=True,
                                          help="Settings backend store."),
                             _KIND_OPTIONS["zms"][-1]]


def _target_options(kind: str):
    opts = list(_KIND_OPTIONS[kind])
    if kind != "custom":
        opts = [click.option("--board", "-b", default=None, metavar="B",
                             help=f"Board whose partition gives the geometry [{DEFAULT_BOARD} when "
                                  "--partition is given]."),
                click.option("--partition", "-p", default=None, metavar="P",
                             help=f"Partition of the board [{_DEFAULTS[kind][2]} when --board is given]."),
                click.option("--geometry", "-g", default=None, metavar="SIZE:PAGE[:WB[:E]]",
                             help="Without a board: partition size, erase page, write block in "
                                  "bytes and erase value (e.g. 0x3000:0x400:4, 0x3000:0x400:16:0)."),
                *opts]

    def deco(fn):
        for opt in reversed(opts):
            fn = opt(fn)
        return fn
    return deco


def build_target(kind: str, kw: dict):
    """The Target for ``kind`` from command options (EINVAL for bad combinations)."""
    from ..torture.targets import load_target, target_class
    if kind == "custom":
        return load_target(kw["target_ref"])
    extra = {}
    if kind == "kv":
        extra = {"block_size": kw["block_size"], "total_size": kw["total_size"], "hal": kw["hal"],
                 "align": int(kw["align"])}
    elif kind in ("nvs", "settings"):
        extra = {"sector_size": kw["sector_size"], "sector_count": kw["sector_count"],
                 "data_crc": kw["data_crc"]}
        if kind == "settings" and kw["backend"] == "zms":
            kind, extra["erase_less"] = "settings-zms", kw["erase_less"]
        elif kw.get("erase_less"):
            raise InvalidArgument("--erase-less needs a ZMS target (zms, settings --backend zms)")
    elif kind == "zms":
        extra = {k: kw[k] for k in ("sector_size", "sector_count", "data_crc", "id_64bit",
                                    "erase_less")}
    elif kind == "llkernel":
        extra = {"max_features": kw["max_features"], "ram_base": kw["ram_base"], "ram_size": kw["ram_size"]}
    cls = target_class(kind)
    board, part, geo = kw.get("board"), kw.get("partition"), kw.get("geometry")
    if board is None and part is None:
        if geo is not None:
            extra["geometry"] = cls().geometry.with_spec(geo)
        return cls(**extra)
    if geo is not None:
        raise InvalidArgument("--geometry and --board/--partition exclude each other")
    default_part = _DEFAULTS[cls.kind][2]
    assert default_part is not None, "built-in kinds name a default partition (custom returned above)"
    return cls.from_board(board or DEFAULT_BOARD, part or default_part, **extra)


def _parse_cuts(text: str) -> int | None:
    if text.strip().lower() == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        raise InvalidArgument(f"--cuts {text!r}: 'all' or a number of cut points") from None
    if n < 1:
        raise InvalidArgument(f"--cuts {n}: at least 1")
    return n


def _parse_tears(text: str) -> tuple:
    from ..torture import TEARS
    tears = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [t for t in tears if t not in TEARS]
    if bad or not tears:
        raise InvalidArgument(f"--tear {text!r}: a comma list of {', '.join(TEARS)}")
    return tears


def cut_options(replay: bool) -> list:
    """The cut options of a campaign (``--cuts --tear --tear-samples --jobs --scheduler``) or
    of a replay (``--cut --tear --save``), for every torture command (Python and C targets)."""
    if replay:
        return [click.option("--cut", "cut", type=INT, required=True, help="Flash operation number (1-based)."),
                click.option("--tear", default="clean", show_default=True, metavar="MODE",
                             help="clean, prefix or bits; a sampled variant as prefix:N."),
                click.option("--save", type=click.Path(file_okay=False), default=None, metavar="DIR",
                             help="Write before.bin, after.bin, remounted.bin and cut.json here.")]
    return [click.option("--cuts", default="all", show_default=True, metavar="all|N",
                         help="Every flash operation, or a seeded sample of N."),
            click.option("--tear", default="clean,prefix,bits", show_default=True,
                         help="Tear modes to try at each cut point."),
            click.option("--tear-samples", type=INT, default=1, show_default=True,
                         help="Seeded tears per torn mode and cut point (prefix lengths, bit "
                              "patterns)."),
            click.option("--jobs", "-j", type=INT, default=None,
                         help="Worker processes [all local cores]; 1 runs in this process."),
            click.option("--scheduler", default=None, metavar="ADDRESS",
                         help="Run on this Dask scheduler instead (extra 'dask').")]


def _workload_options(kind: str, replay: bool):
    wl, ops, _ = _DEFAULTS[kind]
    opts = [click.option("--workload", "-w", default=wl, show_default=True, metavar="NAME[:k=v,...]",
                         help="mixed | hotkey | fill (key-value stores), churn (llkernel); "
                              "parameters like mixed:keys=40,delete=0.3."),
            click.option("--ops", "-n", type=INT, default=ops, show_default=True, help="Workload operations."),
            click.option("--seed", "-s", type=INT, default=0, show_default=True, help="Workload and tear seed."),
            click.option("--gc-check", type=click.FloatRange(0, 1), default=1.0, show_default=True,
                         help="Fraction of passing cuts that then drive the store through a full GC "
                              "cycle (seeded choice; 1 = every cut).")]
    opts += cut_options(replay)

    def deco(fn):
        for opt in reversed(opts):
            fn = opt(fn)
        return json_option(fn)
    return deco


# --- campaign ---------------------------------------------------------------------------
def _run(kind: str, kw: dict) -> None:
    from ..torture import Campaign, run_campaign
    target = build_target(kind, kw)
    campaign = Campaign(target, workload=kw["workload"], ops=kw["ops"], seed=kw["seed"],
                        cuts=_parse_cuts(kw["cuts"]), tears=_parse_tears(kw["tear"]),
                        gc_check=kw["gc_check"], tear_samples=kw["tear_samples"])
    if kw["as_json"]:
        report = run_campaign(campaign, jobs=kw["jobs"], scheduler=kw["scheduler"])
    else:
        from rich.markup import escape
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        with Progress(TextColumn(f"torture {kind} [bold]{escape(kw['workload'])}[/]"), BarColumn(),
                      MofNCompleteColumn(), TextColumn("cuts"), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("cuts", total=None)

            def progress(done, total):
                bar.update(task, completed=done, total=total)
            report = run_campaign(campaign, jobs=kw["jobs"], scheduler=kw["scheduler"],
                                  progress=progress)
    emit(report.to_json(), kw["as_json"], lambda _: _render(report))
    if not report.ok:
        raise click.exceptions.Exit(1)


def _render(report) -> None:
    from rich.markup import escape
    from rich.table import Table
    c = report.campaign
    where = " ".join(c.target.cli_args()[1:])
    samples = f", {c.tear_samples} tears per torn mode" if c.tear_samples > 1 else ""
    console.print(f"[bold]torture {c.target.kind}[/]{escape(' ' + where) if where else ''}: "
                  f"workload {escape(str(c.workload))}, {c.ops} ops, seed {c.seed}: {report.steps} steps, "
                  f"{report.flash_ops} flash operations, {report.points} cut points "
                  f"({'all' if c.cuts is None else 'seeded sample'}{samples})")
    t = Table(title=None)
    for col in ("tear mode", "cuts tried", "failures"):
        t.add_column(col, justify="right" if col != "tear mode" else "left")
    for tear in c.tears:
        fails = report.failed.get(tear, 0)
        t.add_row(tear, str(report.tried.get(tear, 0)), f"[red]{fails}[/]" if fails else "0")
    total_f = sum(report.failed.values())
    t.add_row("[bold]total[/]", f"[bold]{report.cuts}[/]", f"[bold red]{total_f}[/]" if total_f else "[bold]0[/]")
    console.print(t)
    gc = ("every cut" if c.gc_check >= 1 else "no cut" if c.gc_check <= 0
          else f"a seeded {c.gc_check:.0%} sample of cuts")
    console.print(f"{report.cuts_per_s:,.0f} cuts/s ({report.elapsed_s:.1f} s, {report.executor}"
                  f"{f', {report.jobs} job' + ('s' if report.jobs > 1 else '') if report.jobs else ''}); distinct post-cut images "
                  f"checked {report.cuts - report.reused}; {c.target.exercise_name} on {gc} "
                  f"({report.gc_checked} run)")
    for note, n in report.notes.items():
        console.print(f"  note: {note}: {n}", markup=False)
    for v in report.run_violations:
        console.print(f"[red]uncut run:[/] {escape(v)}", soft_wrap=True)
    shown = report.failures[:20]
    for f in shown:
        console.print(f"[red]FAIL[/] cut {f.index} ({f.tear}) in step {f.step} {escape('[' + f.op + ']')}, "
                      f"flash op {f.k} of the step: {escape(f.violations[0])}"
                      + (f" (+{len(f.violations) - 1} more)" if len(f.violations) > 1 else ""),
                      soft_wrap=True)
        console.print(f"  {f.reproducer}", soft_wrap=True, markup=False)
    if len(report.failures) > len(shown):
        console.print(f"... {len(report.failures) - len(shown)} more failures (use --json)")
    console.print("[green]PASS[/]: no invariant broken" if report.ok else "[red]FAILED[/]")


# --- replay -----------------------------------------------------------------------------
def _replay(kind: str, kw: dict) -> None:
    from ..torture import Campaign, replay
    from ..torture.engine import split_tear
    target = build_target(kind, kw)
    campaign = Campaign(target, workload=kw["workload"], ops=kw["ops"], seed=kw["seed"],
                        gc_check=kw["gc_check"], tears=(split_tear(kw["tear"])[0],))
    res = replay(campaign, kw["cut"], kw["tear"], save=kw["save"])
    emit(res.to_json(), kw["as_json"], lambda _: _render_replay(res))
    if not res.ok:
        raise click.exceptions.Exit(1)


def _render_replay(res) -> None:
    console.print(f"cut {res.index} ({res.tear}): step {res.step} [{res.op}], flash operation {res.k} "
                  "of the step", soft_wrap=True, markup=False)
    console.print(f"power loss: {res.power_loss}", soft_wrap=True, markup=False)
    for name, path in res.saved.items():
        console.print(f"saved {name}: {path}", markup=False)
    console.print("store dump of the image right after the cut:")
    console.print(res.dump, markup=False, highlight=False)
    for note in res.notes:
        console.print(f"note: {note}", markup=False)
    from rich.markup import escape
    for v in res.violations:
        console.print(f"[red]VIOLATION[/] {escape(v)}", soft_wrap=True)
    console.print("[green]PASS[/]: invariants hold after this cut" if res.ok else "[red]FAILED[/]")


# --- command tree ---------------------------------------------------------------------------
@click.group()
def torture():
    """Power-loss campaigns: cut the power at every flash operation of a seeded workload, in
    three tear modes, remount from the image alone and check the store's invariants.

    \b
    Examples:
      flashstack torture kv                              # 8 KiB AliOS KV, 500 ops, every cut
      flashstack torture nvs --workload hotkey --jobs 2 --tear-samples 4
      flashstack torture llkernel --ops 20 --json
      flashstack torture kv --board flashstack-demo --partition storage_partition --cuts 500
      flashstack torture replay kv --workload mixed --ops 500 --seed 0 --cut 91 --tear prefix --save out/
    """


@torture.command("workloads")
@json_option
def workloads(as_json):
    """List the workloads and their parameters (defaults)."""
    from ..torture import DICT_WORKLOADS, FEATURE_WORKLOADS
    doc: dict[str, dict[str, Any]] = {name: {"targets": targets, "description": desc, "parameters": params}
           for table, targets in ((DICT_WORKLOADS, "kv, nvs, settings, zms, custom"), (FEATURE_WORKLOADS, "llkernel"))
           for name, (desc, params) in table.items()}

    def render(_):
        for name, d in doc.items():
            console.print(f"[bold]{name}[/] ({d['targets']}): {d['description']}")
            console.print("    " + ", ".join(f"{k}={v}" for k, v in d["parameters"].items()), markup=False)
    emit(doc, as_json, render)


@torture.group()
def replay():
    """Replay one cut: images before/after it (--save DIR), the store's dump and the verdict."""


def _make(kind: str, help_text: str) -> None:
    @_target_options(kind)
    @_workload_options(kind, replay=False)
    def run_cmd(**kw):
        _run(kind, kw)
    run_cmd.__doc__ = help_text
    torture.command(kind)(run_cmd)

    @_target_options(kind)
    @_workload_options(kind, replay=True)
    def replay_cmd(**kw):
        _replay(kind, kw)
    replay_cmd.__doc__ = f"Replay one cut of a '{kind}' campaign."
    replay.command(kind)(replay_cmd)


_make("kv", "AliOS-Things KV store (flashstack.kv).")
_make("nvs", "Zephyr NVS (flashstack.nvs).")
_make("settings", "Zephyr Settings on NVS or, with --backend zms, on ZMS.")
_make("zms", "Zephyr ZMS (flashstack.zms), on NOR or (--erase-less) RRAM-like devices.")
_make("llkernel", "MicroEJ feature storage, install/remove churn (flashstack.llkernel).")
_make("custom", "Your own storage code: a flashstack.torture.Target given as MODULE:ATTR.")
from .torture_c import register as _register_c; _register_c(torture, replay)  # noqa: E402,E702 (torture c)
