"""The torture CLI takes its commands and options from the store registry (issue 10): a kind
registered later brings its own command, options, defaults and reproducer."""

import json
import shlex

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.stores import register, registry


@pytest.fixture
def toy_kind():
    from torture_toykind import ToyKind
    kind = register(ToyKind())
    yield kind
    registry._KINDS.pop(kind.name)
    registry._ALIASES.pop(kind.name)


def test_new_kind_brings_its_command_and_options(toy_kind):
    runner = CliRunner()
    assert "logkv" in runner.invoke(cli, ["torture", "--help"]).output
    helptext = runner.invoke(cli, ["torture", "logkv", "--help"]).output
    assert "--defect" in helptext and "Break the store on purpose." in helptext
    assert "[default: 40]" in helptext                      # the target's default ops
    res = runner.invoke(cli, ["torture", "logkv", "--defect", "--seed", "5", "-j", "1", "--json"])
    assert res.exit_code == 3, res.output
    doc = json.loads(res.stdout)
    assert doc["target_args"] == ["logkv", "--defect"] and doc["failures"]
    args = shlex.split(doc["failures"][0]["reproducer"])[1:]
    assert args[:4] == ["torture", "replay", "logkv", "--defect"]
    rep = runner.invoke(cli, args)
    assert rep.exit_code == 3 and "VIOLATION" in rep.output
    ok = runner.invoke(cli, ["torture", "logkv", "--ops", "10", "-j", "1", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["target_args"] == ["logkv"]


def test_option_of_another_variant_names_the_variant():
    res = CliRunner().invoke(cli, ["torture", "settings", "--erase-less", "--ops", "5"])
    assert res.exit_code == 1
    assert "--erase-less does not apply to torture target settings (it needs --backend zms)" in res.output


def test_no_per_kind_tables_in_the_cli():
    import flashstack.cli.torture as t
    assert not hasattr(t, "_KIND_OPTIONS") and not hasattr(t, "_DEFAULTS")
    src = open(t.__file__).read()
    for name in ('"nvs"', '"kv"', '"zms"', '"llkernel"', '"settings"'):
        assert name not in src, name
