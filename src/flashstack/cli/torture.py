"""``flashstack torture``: power-loss campaigns against the storage layers, and replay of one cut.

    flashstack torture kv|nvs|settings|zms|llkernel [--board B --partition P] [--workload NAME]
        [--ops N] [--seed S] [--cuts all|N] [--tear clean,prefix,bits] [--tear-samples N]
        [--gc-check F] [--jobs J] [--scheduler ADDRESS] [--json]
    flashstack torture custom --target MODULE:ATTR ...        # your own storage code
    flashstack torture replay KIND [target options] --workload W --ops N --seed S --cut I --tear T [--save DIR]
    flashstack torture workloads

Without ``--partition`` each store runs on its default geometry (KV: 8 KiB = 2 x 4 KiB; NVS:
3 x 1 KiB, write block 4; Settings: 4 x 1 KiB; feature storage: 64 KiB at 0x90000000). Exit
status 3 when a campaign finds failures or a replay reproduces one; 1 for errors.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import InvalidArgument
from .common import DEFAULT_BOARD, INT, console, emit, json_option
from .context import EXIT_DAMAGE
from .progress import progress

_CUSTOM_DEFAULTS = ("mixed", 300)  # workload, ops of 'torture custom' (a user target)


def click_option(o, default):
    """The click option of a target's :class:`~flashstack.torture.target.TargetOption`."""
    if o.kind == "flag":
        return click.option(o.flag, o.name, is_flag=True, help=o.help)
    if o.kind == "choice":
        return click.option(o.flag, o.name, type=click.Choice([str(c) for c in o.choices]),
                            default=None if default is None else str(default),
                            show_default=default is not None, help=o.help)
    if o.kind == "text":
        return click.option(o.flag, o.name, default=default, show_default=default is not None,
                            help=o.help)
    shown = default is not None
    return click.option(o.flag, o.name, type=INT, default=default, show_default=shown,
                        help=o.help)


def _target_options(kind: str):
    """``--board/--partition/--geometry`` and what the target registered for ``kind``
    declares (:attr:`Target.cli_options <flashstack.torture.target.Target.cli_options>`);
    ``custom``: ``--target``."""
    if kind == "custom":
        opts = [click.option("--target", "target_ref", required=True, metavar="MODULE:ATTR",
                             help="A flashstack.torture.Target instance or factory.")]
    else:
        from ..torture.targets import store_kind, target_class
        cls = target_class(kind)
        part = store_kind(kind).default_partition
        opts = [click.option("--board", "-b", default=None, metavar="B",
                             help=f"Board whose partition gives the geometry [{DEFAULT_BOARD} when "
                                  "--partition is given]."),
                click.option("--partition", "-p", default=None, metavar="P",
                             help=f"Partition of the board [{part} when --board is given]."),
                click.option("--geometry", "-g", default=None, metavar="SIZE:PAGE[:WB[:E]]",
                             help="Without a board: partition size, erase page, write block in "
                                  "bytes and erase value (e.g. 0x3000:0x400:4, 0x3000:0x400:16:0)."),
                *(click_option(o, cls.option_default(o)) for o in cls.cli_options)]

    def deco(fn):
        for opt in reversed(opts):
            fn = opt(fn)
        return fn
    return deco


def build_target(kind: str, kw: dict):
    """The Target for ``kind`` from command options (EINVAL for bad combinations)."""
    from ..torture import targets
    if kind == "custom":
        return targets.load_target(kw["target_ref"])
    return targets.build_target(kind, kw, kw.get("board"), kw.get("partition"), kw.get("geometry"))


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
                         help="Worker processes; 1 runs in this process. Default: 1 below "
                              "1,000 cuts, else the cores not busy with other work "
                              "(cores - load average + 1), so never slower than one job; with "
                              "--scheduler local, the Dask workers started."),
            click.option("--scheduler", default=None, metavar="ADDRESS|local",
                         callback=_check_scheduler,
                         help="Run on the Dask scheduler at ADDRESS (tcp://HOST:PORT), or on a "
                              "Dask LocalCluster started for the run with 'local' (extra 'dask').")]


def _check_scheduler(ctx, param, value):
    """A malformed --scheduler fails while parsing, before any work (e.g. compiling C)."""
    from ..torture.parallel import check_scheduler
    return None if value is None else check_scheduler(value, probe=False)


def _defaults(kind: str) -> tuple[str, int]:
    """The default workload and ops of ``kind`` (what its target class declares)."""
    if kind == "custom":
        return _CUSTOM_DEFAULTS
    from ..torture.targets import target_class
    cls = target_class(kind)
    return cls.default_workload, cls.default_ops


def _workload_options(kind: str, replay: bool):
    wl, ops = _defaults(kind)
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
    with progress(f"torture {kind} {kw['workload']}", "cuts") as update:
        report = run_campaign(campaign, jobs=kw["jobs"], scheduler=kw["scheduler"], progress=update)
    emit(report.to_json(), kw["as_json"], lambda _: _render(report))
    if not report.ok:   # failures found: the damage status, not an error (CI gates on 3)
        raise click.exceptions.Exit(EXIT_DAMAGE)


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
        console.print(f"[red]uncut run:[/] {escape(v)}")
    shown = report.failures[:20]
    for f in shown:
        console.print(f"[red]FAIL[/] cut {f.index} ({f.tear}) in step {f.step} {escape('[' + f.op + ']')}, "
                      f"flash op {f.k} of the step: {escape(f.violations[0])}"
                      + (f" (+{len(f.violations) - 1} more)" if len(f.violations) > 1 else ""))
        # the reproducer is a command to copy: one logical line whatever the width
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
        raise click.exceptions.Exit(EXIT_DAMAGE)


def _render_replay(res) -> None:
    console.print(f"cut {res.index} ({res.tear}): step {res.step} [{res.op}], flash operation {res.k} "
                  "of the step", markup=False)
    console.print(f"power loss: {res.power_loss}", markup=False)
    for name, path in res.saved.items():
        console.print(f"saved {name}: {path}", markup=False)
    console.print("store dump of the image right after the cut:")
    console.print(res.dump, markup=False, highlight=False)
    for note in res.notes:
        console.print(f"note: {note}", markup=False)
    from rich.markup import escape
    for v in res.violations:
        console.print(f"[red]VIOLATION[/] {escape(v)}")
    console.print("[green]PASS[/]: invariants hold after this cut" if res.ok else "[red]FAILED[/]")


# --- command tree ---------------------------------------------------------------------------
class _TargetGroup(click.Group):
    """A group whose store commands come from the store registry when asked (one per torture
    target a registered kind names; a variant such as settings-zms, reached through its base's
    option, is hidden), so a kind registered later brings its command and its options."""

    replay = False

    def list_commands(self, ctx):
        from ..torture.targets import targets
        return sorted(set(super().list_commands(ctx)) | set(targets()) | {"c"})

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is None:
            from ..torture.targets import targets
            if name == "c":   # the team's C code (its APIs are registered with the native layer)
                from .torture_c import make_c_command
                cmd = make_c_command(self.replay)
            elif name in targets():
                cmd = _make(name, self.replay)
            if cmd is not None:
                self.add_command(cmd)
        return cmd


class _ReplayGroup(_TargetGroup):
    replay = True


@click.group(cls=_TargetGroup)
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

    Exit status: 0 every cut passed, 3 a cut broke an invariant (the FAIL lines give a
    replay command each), 1 error.
    """


@torture.command("workloads", epilog="\b\nExample:\n  flashstack torture workloads --json")
@json_option
def workloads(as_json):
    """List the workloads and their parameters (defaults)."""
    from ..torture import DICT_WORKLOADS, FEATURE_WORKLOADS
    from ..torture.targets import targets, variant_names
    shown = [n for n in targets() if n not in variant_names()] + ["custom"]

    def users(table) -> str:   # the targets whose default workload is in ``table``
        return ", ".join(n for n in shown if _defaults(n)[0] in table)
    doc: dict[str, dict[str, Any]] = {
        name: {"targets": users(table), "description": desc, "parameters": params}
        for table in (DICT_WORKLOADS, FEATURE_WORKLOADS)
           for name, (desc, params) in table.items()}

    def render(_):
        for name, d in doc.items():
            console.print(f"[bold]{name}[/] ({d['targets']}): {d['description']}")
            console.print("    " + ", ".join(f"{k}={v}" for k, v in d["parameters"].items()), markup=False)
    emit(doc, as_json, render)


@torture.group(cls=_ReplayGroup)
def replay():
    """Replay one cut: images before/after it (--save DIR), the store's dump and the verdict."""


def _make(kind: str, replay: bool) -> click.Command:
    """The campaign (or replay) command of torture target ``kind``."""
    if replay:
        @_target_options(kind)
        @_workload_options(kind, replay=True)
        def replay_cmd(**kw):
            _replay(kind, kw)
        help_text = f"Replay one cut of a '{kind}' campaign."
        fn = replay_cmd
    else:
        @_target_options(kind)
        @_workload_options(kind, replay=False)
        def run_cmd(**kw):
            _run(kind, kw)
        fn = run_cmd
        if kind == "custom":
            help_text = "Your own storage code: a flashstack.torture.Target given as MODULE:ATTR."
        else:
            from ..torture.targets import target_class
            cls = target_class(kind)
            help_text = cls.title or (cls.__doc__ or kind).split("\n")[0]
    hidden = False
    if kind != "custom":
        from ..torture.targets import variant_names
        hidden = kind in variant_names()
    return click.command(kind, help=help_text, hidden=hidden, epilog=_example(kind, replay))(fn)


def _example(kind: str, replay: bool) -> str:
    """A small, runnable example for the help of ``torture [replay] KIND``."""
    where = "--target flashstack.torture.targets.kv:KVTarget " if kind == "custom" else ""
    line = (f"flashstack torture replay {kind} {where}--ops 20 --cut 3 --tear prefix" if replay
            else f"flashstack torture {kind} {where}--ops 20 --cuts 30 --jobs 1")
    return f"\b\nExample (small; the defaults run every cut of a longer workload):\n  {line}"


torture.add_command(_make("custom", False))
replay.add_command(_make("custom", True))
