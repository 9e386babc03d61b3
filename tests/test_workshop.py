"""`gatewaylab workshop` and the interactive report, in a real browser (Debian's Chromium, headless).

The live test starts unclosed-body from the page as a trainer would, watches the buggy replica's
goroutines rise on the page within the first 15 s of load, then presses Stop: the run tears its
stack down and nothing it started is left. The report test hovers the recorded e2e-short run's
timeline (tests/fixtures/runs/e2e-short) and checks the values against the run folder's files.
Screenshots land in docs/workshop/ for the README.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import psutil
import pytest

from harness.analysis import records
from harness.report import build
from tests.browser import chromium, shot, workshop
from tests.runs import journal, registered_pids

RUN = Path(__file__).parent / "fixtures" / "runs" / "e2e-short"
SERIES = """name => { const u = (window.gatewaylabCharts || {})[name]; if (!u) return null;
  return {labels: u.series.map(s => s.label), data: u.data}; }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    reports = tmp_path_factory.mktemp("workshop-reports")
    with workshop(reports) as (proc, url):
        yield proc, url, reports


def test_the_code_diff_renders_side_by_side_with_highlighting(server):
    _, url, _ = server
    with chromium() as ctx:
        page = ctx.new_page()
        page.goto(url + "#unclosed-body")
        diff = page.locator("section#scenario-unclosed-body [data-testid=diff-buggy-fixed]")
        diff.wait_for(state="visible", timeout=10_000)
        changed = diff.locator("tr.changed", has_text="body left open")
        assert changed.count() == 1
        assert "_ = resp" in changed.locator("td.code.l").inner_text()
        assert changed.locator("td.code.r").inner_text().strip() == "defer resp.Body.Close()"
        added = diff.locator("tr.added, tr.changed", has_text="io.Copy(io.Discard, resp.Body)")
        assert added.count() == 1 and added.locator("td.code.l").inner_text().strip() == ""
        # highlighted: a changed line has its own background, and Go's keywords their own colour
        bg = changed.locator("td.code.l").evaluate("e => getComputedStyle(e).backgroundColor")
        assert bg not in ("rgba(0, 0, 0, 0)", "transparent")
        defer = changed.locator("td.code.r span.k", has_text="defer")
        ident = changed.locator("td.code.r span.nx").first
        assert defer.evaluate("e => getComputedStyle(e).color") != ident.evaluate("e => getComputedStyle(e).color")
        assert page.locator("section#scenario-unclosed-body [data-testid=watch]").inner_text().startswith("replica a's goroutines")
        shot(page.locator("section#scenario-unclosed-body .diffbox").first, "code.png")


def _rise(series: dict | None, replica: str, until_s: float) -> tuple[float, float] | None:
    """(goroutines at the first sample of the load, the most by until_s) of a replica on the page."""
    if not series or replica not in series["labels"]:
        return None
    xs, ys = series["data"][0], series["data"][series["labels"].index(replica)]
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None and 0 <= x <= until_s]
    return (pts[0][1], max(y for _, y in pts)) if pts else None


@pytest.mark.e2e
def test_a_run_started_from_the_page_shows_the_leak_live_and_stop_tears_it_down(server):
    proc, url, reports = server
    started = time.monotonic()
    with chromium() as ctx:
        page = ctx.new_page()
        page.goto(url + "#unclosed-body")
        page.locator("section#scenario-unclosed-body [data-testid=start]").click()
        page.locator("[data-testid=state]", has_text="running").wait_for(timeout=10_000)
        # the page draws what the run folder holds: buggy's replica a climbs within 15 s of load
        deadline = time.monotonic() + 120
        rise = None
        while time.monotonic() < deadline:
            series = page.evaluate(SERIES, "buggy/goroutines")
            rise = _rise(series, "a", 15.0)
            if rise and rise[1] - rise[0] >= 20:
                break
            xs = series["data"][0] if series else []
            assert not xs or xs[-1] < 17, f"no rise of replica a by 15 s of load: {rise}"
            time.sleep(0.5)
        else:
            pytest.fail(f"the page never showed buggy's goroutines (last: {rise}); log:\n{page.locator('#log').text_content()}")
        b = _rise(page.evaluate(SERIES, "buggy/goroutines"), "b", 15.0)
        assert b is None or b[1] - b[0] < rise[1] - rise[0], "the fixed neighbour rose as much as the buggy replica"
        assert "phase" in page.locator("[data-testid=run-status]").inner_text()
        page.wait_for_timeout(1500)  # one more poll, so the picture shows the climb
        shot(page, "live.png")
        ours = proc_tree(proc.pid)
        assert ours, "the run started no process"
        page.locator("[data-testid=stop]").click()
        page.locator("[data-testid=state]", has_text="stopped").wait_for(timeout=90_000)
    left = [p for p in ours if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"left running after Stop: {[(p.pid, p.name()) for p in left]}"
    assert not proc_tree(proc.pid), "the workshop still has children after Stop"
    assert not [p for p in registered_pids(reports) if psutil.pid_exists(p)]
    run_dir = next((reports / "runs").iterdir())
    stops = [j for j in journal(run_dir) if j["step"] == "run stopped"]
    assert stops and stops[0]["outcome"] == "interrupted"
    assert time.monotonic() - started < 150


def proc_tree(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]


def _recorded(run: Path, variant: str) -> tuple[float, list[dict], list[dict], float]:
    """t0, samples, requests and slow_ms of a variant, read straight from the folder's files."""
    folder = run / "variants" / variant
    t0 = json.loads((folder / "meta.json").read_text())["t0"]
    rows = lambda f: [json.loads(x) for x in (folder / f).read_text().splitlines() if x.strip()]  # noqa: E731
    slow = records.scenario(run).analysis.slow_ms
    return t0, rows("samples.jsonl"), rows("requests.jsonl"), slow


def _hover(page, chart: str, x: float) -> dict:
    """Move the mouse over chart at time x; the legend's texts by series label."""
    box = page.evaluate("""([name, x]) => { const u = window.gatewaylabCharts[name]; const r = u.over.getBoundingClientRect();
        return {left: r.left + u.valToPos(x, "x"), top: r.top + r.height / 2}; }""", [chart, x])
    page.mouse.move(box["left"], box["top"])
    return page.evaluate("""name => { const u = window.gatewaylabCharts[name]; const out = {};
        u.root.querySelectorAll(".u-legend .u-series").forEach((row, i) => {
          out[u.series[i].label] = row.querySelector(".u-value").textContent; }); return out; }""", chart)


def test_the_report_timeline_answers_a_hover_with_the_recorded_value(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    _, page_path = build.write(run)
    html = page_path.read_text()
    assert "<script src=" not in html and "<link " not in html  # everything inlined
    t0, samples, requests, slow_ms = _recorded(run, "buggy")
    outside: list[str] = []
    with chromium(height=1100) as ctx:
        ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                  else (outside.append(route.request.url), route.abort()))
        page = ctx.new_page()
        page.goto(page_path.as_uri())
        page.wait_for_function("window.gatewaylabCharts && window.gatewaylabCharts['fixed/pool']")
        # goroutines of replica a at its sample nearest 5 s into the load
        mine = [s for s in samples if s["replica"] == "a"]
        want = min(mine, key=lambda s: abs(s["t"] - t0 - 5.0))
        legend = _hover(page, "buggy/goroutines", want["t"] - t0)
        assert abs(float(legend["s"].split()[0]) - (want["t"] - t0)) < 0.1, legend
        assert legend["a"] == str(want["goroutines"]), (legend, want)
        # the stacked outcome bars show each status's own count, not the stack's height
        second = 4
        ok = sum(1 for r in requests if math.floor(r["start"] + r["ms"] / 1000 - t0) == second
                 and r["status"] == 200 and r["ms"] < slow_ms)
        legend = _hover(page, "buggy/outcomes", second + 0.5)
        assert legend["200"] == str(ok) and ok > 0, (legend, ok)
        # zoom by dragging on one chart: every chart, in every variant's column, follows
        a = page.evaluate("""() => { const u = window.gatewaylabCharts['buggy/goroutines']; const r = u.over.getBoundingClientRect();
            return [r.left + u.valToPos(3, 'x'), r.left + u.valToPos(9, 'x'), r.top + 40]; }""")
        page.mouse.move(a[0], a[2])
        page.mouse.down()
        page.mouse.move(a[1], a[2], steps=8)
        page.mouse.up()
        ranges = page.evaluate("""() => Object.values(window.gatewaylabCharts).map(u => [u.scales.x.min, u.scales.x.max])""")
        assert all(abs(lo - 3) < 0.3 and abs(hi - 9) < 0.3 for lo, hi in ranges), ranges
        page.reload()
        page.wait_for_function("window.gatewaylabCharts && window.gatewaylabCharts['fixed/pool']")
        timeline = page.locator("#timeline")
        timeline.scroll_into_view_if_needed()  # first: a scroll under the mouse would end the hover
        _hover(page, "buggy/goroutines", want["t"] - t0 + 1)
        shot(page, "report-timeline.png", clip=timeline.bounding_box())
    assert not outside, f"the report asked the network for {outside}"
