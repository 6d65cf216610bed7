"""``flashstack torture c``: power-loss campaigns against the team's own C storage code, and
``flashstack torture replay c``: one cut of such a campaign.

    flashstack torture c --api zephyr-nvs --source nvs.c -I zephyr/include -I zephyr/subsys/fs/nvs
        [-D CONFIG_NVS_LOOKUP_CACHE=1]... [--geometry SIZE:PAGE[:WB[:E]] | --board B --partition P]
        [--workload W] [--ops N] [--seed S] [--cuts all|N] [--tear ...] [--jobs J] [--json]
        [--compare-model [--save DIR]]
    flashstack torture c --api custom --source store.c --source glue.c ...   # fs_boot/fs_step/fs_check

Built on demand by the ``torture`` and ``replay`` groups of :mod:`flashstack.cli.torture`
from the registered C APIs (:data:`flashstack.native.targets.C_TARGETS`).
Exit status 3 when a campaign finds failures, a replay reproduces one, or --compare-model finds
a difference; 1 for errors (e.g. the C does not compile).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from ..errors import InvalidArgument
from .common import DEFAULT_BOARD, INT, console, emit, json_option
from .context import EXIT_DAMAGE


def _c_targets() -> dict:
    from ..native.targets import C_TARGETS
    return C_TARGETS


def _api_options() -> dict:
    """flag -> (TargetOption, the APIs that take it), over every registered C API."""
    out: dict = {}
    for api, cls in _c_targets().items():
        for o in cls.c_options:
            out.setdefault(o.flag, (o, []))[1].append(api)
    return out


def _target_options(fn):
    from .torture import click_option
    apis = _c_targets()
    opts = [
        click.option("--api", required=True, type=click.Choice(list(apis)),
                     help="Which API flashstack drives: " + "; ".join(
                         f"{name} ({cls.api_help})" for name, cls in apis.items()) + "."),
        click.option("--source", "sources", multiple=True, required=True, metavar="FILE",
                     type=click.Path(dir_okay=False), help="A C file of the code under test (repeat)."),
        click.option("-I", "includes", multiple=True, metavar="DIR", type=click.Path(file_okay=False),
                     help="Include directory, searched after flashstack's shims (repeat)."),
        click.option("-D", "defines", multiple=True, metavar="NAME[=VALUE]",
                     help="Preprocessor definition, e.g. CONFIG_NVS_LOOKUP_CACHE=1 (repeat)."),
        click.option("--bits", type=click.Choice(["32", "64"]), default="32", show_default=True,
                     help="Build as the 32-bit firmware (gcc -m32) or 64-bit."),
        click.option("--board", "-b", default=None, metavar="B",
                     help=f"Board whose partition gives the geometry [{DEFAULT_BOARD} with --partition]."),
        click.option("--partition", "-p", default=None, metavar="P",
                     help="Partition of the board [with --board: the API's usual partition, "
                          "e.g. storage_partition, kf_partition for llkernel]."),
        click.option("--geometry", "-g", default=None, metavar="SIZE:PAGE[:WB[:E]]",
                     help="Without a board: partition size, erase page, write block and erase value "
                          "[the API's default geometry, as the Python target of the same store]."),
    ]
    # each API's own options, default None (the target's default applies) and named by API
    for o, users in _api_options().values():
        o = replace(o, help=f"{', '.join(users)}: {o.help}")
        opts.append(click_option(o, None))
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _workload_options(replay: bool):
    opts = [click.option("--workload", "-w", default=None, metavar="NAME[:k=v,...]",
                         help="zephyr-nvs/zms, alios-kv: mixed | hotkey | fill [mixed]; llkernel: "
                              "churn; custom: steps [steps]."),
            click.option("--ops", "-n", type=INT, default=None,
                         help="Workload operations [200; llkernel 20]."),
            click.option("--seed", "-s", type=INT, default=0, show_default=True, help="Workload and tear seed."),
            click.option("--gc-check", type=click.FloatRange(0, 1), default=1.0, show_default=True,
                         help="Fraction of passing cuts that then drive the store through a full "
                              "GC cycle (zephyr-nvs).")]
    from .torture import cut_options
    opts += cut_options(replay)
    if not replay:
        opts += [click.option("--compare-model", is_flag=True,
                              help="Instead of a campaign: run the workload through the C and "
                                   "through flashstack's own store, compare images after every "
                                   "step and cut, report the first difference."),
                 click.option("--save", type=click.Path(file_okay=False), default=None, metavar="DIR",
                              help="--compare-model: save both images of the first difference here.")]

    def deco(fn):
        for opt in reversed(opts):
            fn = opt(fn)
        return json_option(fn)
    return deco


def build_c_target(kw: dict):
    """The C target for the command's options, prepared to run (EINVAL for bad combinations,
    e.g. an option of another API)."""
    from ..native.build import BuildSpec
    api = kw["api"]
    cls: Any = _c_targets()[api]
    spec = BuildSpec(api, sources=tuple(kw["sources"]), includes=tuple(kw["includes"]),
                     defines=tuple(kw["defines"]), bits=int(kw["bits"]))
    extra: dict = {"build_spec": spec}
    mine = {o.flag for o in cls.c_options}
    for flag, (o, users) in _api_options().items():
        value = kw.get(o.name)
        if value in (None, False):
            continue
        if flag not in mine:
            raise InvalidArgument(f"{flag} is an option of --api {', '.join(users)}, not {api}")
        extra[o.field] = o.parse(value)
    return cls.at_location("c", kw["board"], kw["partition"], kw["geometry"], cls.default_partition,
                           **extra).prepared()


def _campaign(kw: dict, target, **more):
    from ..torture import Campaign
    return Campaign(target, workload=kw["workload"] or target.default_workload,
                    ops=kw["ops"] or target.default_ops, seed=kw["seed"], gc_check=kw["gc_check"],
                    **more)


def _run(kw: dict) -> None:
    from ..torture import run_campaign
    from .torture import _parse_cuts, _parse_tears, _render
    target = build_c_target(kw)
    campaign = _campaign(kw, target, cuts=_parse_cuts(kw["cuts"]), tears=_parse_tears(kw["tear"]),
                         tear_samples=kw["tear_samples"])
    if kw["compare_model"]:
        return _compare(campaign, kw)
    if kw["save"]:
        raise InvalidArgument("--save goes with --compare-model (a replay saves its own images)")
    report = _with_progress(kw, "torture c", lambda progress: run_campaign(
        campaign, jobs=kw["jobs"], scheduler=kw["scheduler"], progress=progress))
    emit(report.to_json(), kw["as_json"], lambda _: _render(report))
    if not report.ok:
        raise click.exceptions.Exit(EXIT_DAMAGE)


def _with_progress(kw: dict, title: str, fn, unit: str = "cuts"):
    from .progress import progress
    with progress(title, unit) as update:
        return fn(update)


def _compare(campaign, kw: dict) -> None:
    from ..native.compare import compare_model
    res = _with_progress(kw, "compare-model", lambda progress: compare_model(
        campaign, campaign.target.model_twin(), save=kw["save"], progress=progress), "steps")
    emit(res.to_json(), kw["as_json"], lambda _: _render_compare(res))
    if not res.ok:
        raise click.exceptions.Exit(EXIT_DAMAGE)


def _render_compare(res) -> None:
    console.print(f"compare-model: C code vs flashstack {res.model}, workload {res.workload}, "
                  f"{res.ops} ops, seed {res.seed}: {res.steps} steps and {res.cuts} cuts compared",
                  markup=False)
    d = res.difference
    if d is None:
        console.print("[green]SAME[/]: the images agree after every step and every cut")
        return
    at = "" if d.offset is None else (
        f" at offset {d.offset:#x}: C {d.c_byte if d.c_byte is None else f'{d.c_byte:#04x}'}, "
        f"model {d.model_byte if d.model_byte is None else f'{d.model_byte:#04x}'}")
    console.print(f"DIFFERENT {d.where} [{d.op}]{at}", markup=False, soft_wrap=True)
    if d.detail:
        console.print(f"  {d.detail}", markup=False, soft_wrap=True)
    for name, path in d.saved.items():
        console.print(f"saved {name}: {path}", markup=False)


def _replay(kw: dict) -> None:
    from ..torture import replay
    from ..torture.engine import split_tear
    from .torture import _render_replay
    campaign = _campaign(kw, build_c_target(kw), tears=(split_tear(kw["tear"])[0],))
    res = replay(campaign, kw["cut"], kw["tear"], save=kw["save"])
    emit(res.to_json(), kw["as_json"], lambda _: _render_replay(res))
    if not res.ok:
        raise click.exceptions.Exit(EXIT_DAMAGE)


def make_c_command(replay: bool) -> click.Command:
    """The ``torture c`` command, or ``torture replay c`` (built when first asked: it reads
    the registered C APIs, :data:`flashstack.native.targets.C_TARGETS`)."""
    if replay:
        @_target_options
        @_workload_options(replay=True)
        def c_replay(**kw):
            """Replay one cut of a 'c' campaign (the reproducer a campaign prints).

            \b
            Example:
              flashstack torture replay c --api zephyr-nvs --source nvs.c -I zephyr/include \\
                  -I zephyr/subsys/fs/nvs --ops 200 --cut 91 --tear prefix --save out/
            """
            _replay(kw)
        return click.command("c")(c_replay)

    @_target_options
    @_workload_options(replay=False)
    def c_cmd(**kw):
        """Your C storage code: compiled (gcc -m32) with flashstack's Zephyr/AliOS/MicroEJ shims,
        run on the flash model, power cut at every flash operation.

        \b
        Examples:
          flashstack torture c --api zephyr-nvs --source zephyr/subsys/fs/nvs/nvs.c \\
              -I zephyr/include -I zephyr/subsys/fs/nvs --ops 200
          flashstack torture c --api custom --source mystore.c --source glue.c --workload steps
          flashstack torture c --api zephyr-nvs --source nvs.c -I zephyr/include \\
              -I zephyr/subsys/fs/nvs --compare-model --save diff/
        """
        _run(kw)
    return click.command("c")(c_cmd)
