"""Every console example of README.md, examples/README.md and every leaf command's --help
runs and exits 0 (issue 10: the docs cannot drift again).

Examples run in-process (click's runner) in a temporary folder holding what they name:
``img/`` (erased flashstack-demo images), ``build/`` (the default ``flashstack build``),
``examples/`` (a copy of the repository's) and ``app.bin`` (a raw Feature ROM). A leaf's
example lines run in order on a fresh copy (an example may first make what it reads). Only
examples that need something flashstack cannot provide (a Zephyr source tree, gcc -m32) are
listed in EXTERNAL with the reason; the test checks that list stays exact.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli

ROOT = Path(__file__).resolve().parents[1]

#: substring of an example -> why it cannot run here
EXTERNAL = {
    "$Z/": "needs a Zephyr source tree",
    "--source mystore.c": "needs the team's own C store",
    "--source nvs.c": "needs a Zephyr source tree",
    "torture replay c ": "needs a Zephyr source tree",
    "--source zephyr/subsys/fs/nvs/nvs.c": "needs a Zephyr source tree",
    "--base zephyr/zephyr.hex": "needs a Zephyr build's zephyr.hex",
    "--build-dir build/": "needs a Zephyr build folder",
    "--key root.pub": "needs the project's MCUboot signing key",
}

#: example -> its documented non-zero exit status (the README tour changed build/ before:
#: kv set, feature install; report exits 3 when a partition changed since the build)
EXPECTED = {
    "flashstack report build/ --wear wear.json --torture kv.json --plot wear.svg -o report.html": 3,
}


def _external(line: str) -> str | None:
    return next((why for key, why in EXTERNAL.items() if key in line), None)


def readme_examples(path: Path, prompt: bool) -> list[str]:
    """Commands of the console blocks of a Markdown file: ``$ flashstack ...`` lines (with
    ``prompt``) or bare ``flashstack ...`` lines, backslash continuations joined."""
    out, block, pending = [], False, ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("```"):
            block = not block
            continue
        if not block:
            continue
        if pending:
            pending += " " + line.rstrip("\\").strip()
            if not line.endswith("\\"):
                out.append(pending)
                pending = ""
            continue
        text = line[2:] if prompt and line.startswith("$ ") else (None if prompt else line)
        if text and text.startswith("flashstack "):
            if text.endswith("\\"):
                pending = text.rstrip("\\").strip()
            else:
                out.append(text)
    return out


def _leaves(cmd: click.Command, path: list[str], ctx: click.Context):
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _leaves(sub, path + [name], ctx)
    else:
        yield " ".join(path), cmd


def help_examples(cmd: click.Command) -> list[str]:
    """The ``flashstack ...`` lines of a command's help and epilog ('Example:' blocks),
    backslash continuations joined."""
    text = (cmd.help or "") + "\n" + (cmd.epilog or "")
    lines, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if pending:
            pending += " " + line.rstrip("\\").strip()
            if not line.endswith("\\"):
                lines.append(pending)
                pending = ""
        elif line.startswith("flashstack "):
            if line.endswith("\\"):
                pending = line.rstrip("\\").strip()
            else:
                lines.append(line)
    return lines


LEAVES = dict(_leaves(cli, [], click.Context(cli)))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """What the examples name, made once: img/, build/, examples/, app.bin."""
    base = tmp_path_factory.mktemp("doc-inputs")
    cwd = os.getcwd()
    os.chdir(base)
    try:
        nrf = str(ROOT / "examples/nrf52840dk_nrf52840/manifest.toml")
        for args in (["image", "create", "-o", "img/"], ["build", "-o", "build/"],
                     ["image", "create", "--board", "rpi_pico", "-o", "pico.bin"],
                     ["build", nrf, "-o", "nrf-dump/", "-f", "bin"]):
            r = CliRunner().invoke(cli, args)
            assert r.exit_code == 0, r.output
    finally:
        os.chdir(cwd)
    shutil.copytree(ROOT / "examples", base / "examples")
    demo = ROOT / "examples/flashstack-demo"
    shutil.copytree(demo, base, dirs_exist_ok=True)        # my.toml and the files it names
    (base / "manifest.toml").rename(base / "my.toml")
    shutil.copy(ROOT / "examples/nrf52840dk_nrf52840/zephyr.signed.bin", base)
    shutil.copy(ROOT / "examples/nrf52840dk_nrf52840/mcuboot.bin", base)
    shutil.copytree(ROOT / "examples/nrf52840dk_factory", base, dirs_exist_ok=True)
    shutil.copy(base / "nrf-dump/flash0.bin", base / "dump.bin")
    (base / "app.bin").write_bytes(bytes(range(256)) * 4)
    _write_fo(base / "app.fo")
    return base


def _write_fo(path: Path) -> None:
    """A small Feature (.fo, an ELF) as the llkernel tests make them."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("_llk_conftest", ROOT / "tests/llkernel/conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.write_fo(path, [(".soar.rel", 0x70000000, 0, 0x100, 4), (".bss.soar.feature", 8, 0x3, 0x50, 8),
                        (".rodata", 1, 0x6, 0x400, 16)])


def run_example(line: str) -> None:
    """Run one example line in the current folder (``> FILE`` redirects stdout, ``&&``
    chains). A command that creates its ``-o`` output (``image create``, ``build``) runs where
    that output does not exist yet."""
    for part in line.split("  #")[0].split(" # ")[0].split("&&"):
        _run_one(shlex.split(part))


def _run_one(words: list[str]) -> None:
    line = " ".join(words)
    if words[1:3] == ["image", "create"] or words[1:2] == ["build"]:
        target = Path(words[words.index("-o") + 1]) if "-o" in words else Path("build")
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    out = None
    if ">" in words:
        i = words.index(">")
        words, out = words[:i], words[i + 1]
    assert words[0] == "flashstack"
    r = CliRunner().invoke(cli, words[1:])
    code = EXPECTED.get(line, 0)
    assert r.exit_code == code, f"{line}\n-> exit {r.exit_code}\n{r.output}"
    if out:
        Path(out).write_text(r.stdout)


def _workdir(inputs: Path, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(inputs, work)
    return work


def test_every_leaf_has_an_example():
    missing = [name for name, cmd in LEAVES.items() if not help_examples(cmd)]
    assert not missing, f"leaf commands without an Example: {missing}"


def test_exit_codes_are_in_the_top_level_help():
    text = CliRunner().invoke(cli, ["--help"]).output
    assert "Exit status: 0 ok, 1 error, 2 usage error, 3 damage found" in " ".join(text.split())


@pytest.mark.slow
@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_help_example_runs(leaf, inputs, tmp_path, monkeypatch):
    lines = help_examples(LEAVES[leaf])
    monkeypatch.chdir(_workdir(inputs, tmp_path))
    ran = 0
    for line in lines:
        if _external(line):
            continue
        run_example(line)
        ran += 1
    assert ran or all(_external(x) for x in lines)


@pytest.mark.slow
@pytest.mark.parametrize("doc, prompt", [("README.md", True), ("examples/README.md", False)])
def test_readme_examples_run(doc, prompt, inputs, tmp_path, monkeypatch):
    lines = readme_examples(ROOT / doc, prompt)
    assert lines
    monkeypatch.chdir(_workdir(inputs, tmp_path))
    for line in lines:
        if not _external(line):
            run_example(line)


def test_external_list_is_exact():
    """Every EXTERNAL entry is used by some example (no stale exemption)."""
    texts = readme_examples(ROOT / "README.md", True) + [
        x for cmd in LEAVES.values() for x in help_examples(cmd)]
    for key in EXTERNAL:
        assert any(key in t for t in texts), key
