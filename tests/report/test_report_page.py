"""The page as HTML: self-contained, escaped, read-only on its inputs; the command's exit codes;
plan/wear plots and wear files."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from flashstack.cli.app import cli
from flashstack.report import collect, render_html

from .conftest import damage_storage, digest

# a URL the page would fetch: any src/href/url() that is not a fragment or a data: URI
_FETCH = re.compile(r"""(?:src|href)\s*=\s*["'](?!#|data:)[^"']+|url\((?!\s*["']?data:)""", re.I)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_demo_page_is_self_contained_and_describes_every_partition(demo_build):
    html = render_html(collect([demo_build]))
    assert not _FETCH.search(html), _FETCH.search(html)
    assert "<script src" not in html and "<link" not in html
    for name in ("boot_partition", "storage_partition", "slot0_partition", "slot1_partition",
                 "scratch_partition", "kf_partition", "lfs_partition"):
        assert f'data-name="{name}"' in html
    assert "device.serial" in html and "FS-000001" in html  # KV key and its value as text
    assert "/config/device.json" in html                      # littlefs tree
    assert 'id="boot"' in html and "swap-scratch" in html     # MCUboot image pairs and mode
    assert len(html.encode()) < 2_000_000


def test_hostile_strings_are_escaped(hostile):
    toml, image = hostile
    with pytest.warns(UserWarning, match="overlap"):
        html = render_html(collect([image], board=str(toml)))
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "evil&lt;b&gt;board&lt;/b&gt;" in html
    # the only script on the page is the search box's own
    assert html.count("<script") == 1
    assert "overlaps overlapper_partition_with_a_very_long_name" in html


def test_report_reads_only(demo_copy, tmp_path):
    damage_storage(demo_copy)
    before = digest(demo_copy)
    result = run("report", demo_copy, "-o", tmp_path / "r.html")
    assert result.exit_code == 3, result.output
    assert digest(demo_copy) == before


def test_exit_codes_and_json_summary(demo_build, demo_copy, tmp_path):
    ok = run("report", demo_build, "-o", tmp_path / "ok.html", "--json")
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["partitions"] == 7 and doc["damaged"] == [] and doc["changed"] == []
    assert doc["bytes"] == (tmp_path / "ok.html").stat().st_size
    damage_storage(demo_copy)
    bad = run("report", demo_copy, "-o", tmp_path / "bad.html", "--json")
    assert bad.exit_code == 3
    doc = json.loads(bad.stdout)
    assert doc["changed"] == ["storage_partition"] and "storage_partition" in doc["damaged"]


def test_failed_campaign_exits_3_and_lists_replay(demo_build, tmp_path):
    t = tmp_path / "t.json"
    t.write_text(json.dumps({"target": "kv", "tried": {"prefix": 2}, "failed": {"prefix": 1}, "ok": False,
                             "failures": [{"index": 1, "tear": "prefix", "step": 1, "op": "set",
                                           "violations": ["lost key"], "reproducer": "flashstack torture replay kv"}]}))
    result = run("report", demo_build, "--torture", t, "-o", tmp_path / "r.html")
    assert result.exit_code == 3
    html = (tmp_path / "r.html").read_text()
    assert "FAILED" in html and "flashstack torture replay kv" in html


def test_bad_input_leaves_earlier_report(demo_build, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("earlier")
    bad = tmp_path / "w.json"
    bad.write_text("{}")
    result = run("report", demo_build, "--wear", bad, "-o", out)
    assert result.exit_code == 1 and "w.json" in result.output
    assert out.read_text() == "earlier"


def test_plan_and_wear_plots_and_wear_file_embed(demo_build, tmp_path):
    svg, png, wear = tmp_path / "plan.svg", tmp_path / "wear.png", tmp_path / "wear.json"
    assert run("plan", "--keys", 10, "--samples", 300, "--plot", svg).exit_code == 0
    assert svg.read_text().lstrip().startswith("<?xml") and "lifetime" in svg.read_text()
    r = run("wear", "--keys", 10, "--samples", 300, "--plot", png, "--save-wear", wear)
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cycles = json.loads(wear.read_text())["page_cycles"]
    assert cycles and max(cycles) > 0
    out = tmp_path / "r.html"
    assert run("report", demo_build, "--wear", wear, "--plot", svg, "--plot", png, "-o", out).exit_code == 0
    html = out.read_text()
    assert html.count('class="plot"') == 2 and "data:image/svg+xml;base64," in html
    assert f"max <b class=\"wear-max\">{max(cycles)}</b>" in html


def test_plot_suffix_is_checked(tmp_path):
    result = run("wear", "--keys", 5, "--samples", 100, "--plot", tmp_path / "x.gif")
    assert result.exit_code == 1 and "x.gif" in result.output
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("value, text", [("48656c6c6f", "Hello"), ("00ff", "00 ff"), ("", "(empty)"),
                                         ("c3", "c3")])
def test_values_shown_as_text_only_when_printable(value, text):
    from flashstack.report.filters import hex_or_text
    assert hex_or_text(value) == text
