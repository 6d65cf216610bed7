"""The page as a person sees it: rendered by headless Chromium (Debian's ``chromium``) under
Playwright. CI installs both (``.ci/run``) and sets FLASHSTACK_REQUIRE_BROWSER=1, so there
a missing browser fails instead of skipping."""

from __future__ import annotations

import os
import shutil

import pytest

from flashstack.report import collect, write_report

from .conftest import damage_storage

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_REQUIRED = os.environ.get("FLASHSTACK_REQUIRE_BROWSER") == "1"
# the flags a root sandbox needs, and none of Chromium's own network chatter
_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _REQUIRED:
            raise
        pytest.skip("playwright is not installed (pip install 'flashstack[report-test]')")
    if CHROMIUM is None:
        if _REQUIRED:
            pytest.fail("FLASHSTACK_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("no chromium on PATH (Debian: apt install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """``open_page(report_path) -> (page, requests)``: the page loaded from file, with every
    request it made (the page itself included)."""
    pages = []

    def go(path):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        pages.append(page)
        return page, requests
    yield go
    for page in pages:
        page.close()


def _report(images, out, **kw):
    write_report(collect(images, **kw), out)
    return out


def test_demo_map_drawn_to_scale_with_labels(demo_build, tmp_path, open_page):
    page, requests = open_page(_report([demo_build], tmp_path / "r.html"))
    assert requests == [(tmp_path / "r.html").as_uri()], requests  # nothing leaves the page
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    boxes = page.eval_on_selector_all(".device .bar .box.partition", """els => els.map(e => {
        const bar = e.parentElement.getBoundingClientRect(), r = e.getBoundingClientRect();
        return {name: e.dataset.name, text: e.textContent, size: +e.dataset.size,
                dev: +e.parentElement.dataset.size, w: r.width / bar.width,
                x: (r.left - bar.left) / bar.width, offset: +e.dataset.offset,
                title: e.title};
    })""")
    assert sorted(b["name"] for b in boxes) == sorted(
        ["boot_partition", "storage_partition", "slot0_partition", "slot1_partition",
         "scratch_partition", "kf_partition", "lfs_partition"])
    for b in boxes:
        assert b["text"] == b["name"]
        share = b["size"] / b["dev"]
        if share >= 0.01:  # tiny ones are held at a 2 px minimum
            assert b["w"] == pytest.approx(share, abs=0.004), b
            assert b["x"] == pytest.approx(b["offset"] / b["dev"], abs=0.004), b
    kf = next(b for b in boxes if b["name"] == "kf_partition")
    assert "address 0x90000000 .. 0x90400000" in kf["title"] and "offset 0x0 .. 0x400000" in kf["title"]
    ro = page.eval_on_selector_all(".box.ro", "els => els.map(e => e.dataset.name)")
    assert ro == ["boot_partition"]


def test_search_finds_a_kv_key(demo_build, tmp_path, open_page):
    page, _ = open_page(_report([demo_build], tmp_path / "r.html"))
    page.fill("#search", "device.serial")
    visible = page.eval_on_selector_all("details.partition:not(.hidden)", "els => els.map(e => e.dataset.name)")
    assert visible == ["storage_partition"]
    assert page.is_visible("details.partition[data-name=storage_partition] tr.hit >> text=device.serial")
    assert page.inner_text("#hits") == "1 of 7 partitions match"
    page.fill("#search", "")
    assert page.eval_on_selector_all("details.partition.hidden", "els => els.length") == 0


def test_damaged_store_is_shown_damaged(demo_copy, tmp_path, open_page):
    damage_storage(demo_copy)
    page, _ = open_page(_report([demo_copy], tmp_path / "r.html"))
    part = "details.partition[data-name=storage_partition]"
    assert page.get_attribute(part, "open") is not None  # damaged partitions open by themselves
    assert page.is_visible(f"{part} .badge.warning >> text=damaged (recoverable)")
    assert page.is_visible(f"{part} .badge.changed >> text=changed since build")
    box = ".box[data-name=storage_partition]"
    assert "health-warning" in page.get_attribute(box, "class")
    assert "rgb(198, 40, 40)" in page.eval_on_selector(box, "e => getComputedStyle(e).boxShadow")
    color = page.eval_on_selector(part, "e => getComputedStyle(e).borderLeftColor")
    assert color == "rgb(198, 40, 40)"


def test_hostile_image_renders_safely(hostile, tmp_path, open_page):
    toml, image = hostile
    with pytest.warns(UserWarning, match="overlap"):
        out = _report([image], tmp_path / "r.html", board=str(toml))
    page, requests = open_page(out)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert len(requests) == 1  # an <img src=x> would have made a request
    names = page.eval_on_selector_all(".box.partition", "els => els.map(e => e.dataset.name)")
    assert "<script>window.__pwned=1</script>" in names
    overlap = page.eval_on_selector_all(".box.overlap", "els => els.map(e => e.dataset.name)")
    assert overlap == ["kv_partition",
                       "overlapper_partition_with_a_very_long_name_that_goes_on_and_on_and_on_and_on_and_on"]
    page.fill("#search", "<script>window.__pwned=2")
    assert page.is_visible("details.partition[data-name=kv_partition]")
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
