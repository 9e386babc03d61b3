"""The load's models: closed (users wait for answers) and open (requests start on schedule), shapes, workers.

The shape arithmetic is checked by itself; the open model and Locust's workers by a real short run
(nginx, Toxiproxy, Go replicas, Locust master and workers); the stall by recorded run folders.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from harness.analysis.summary import summarize
from harness.report import build
from harness.drive import shape
from harness.errors import ScenarioError
from harness.host.sockets import alive
from harness.scenario import load, on_load
from harness.scenario.parts import Load
from tests import runs

ENDPOINTS = [{"path": "/api/item"}]


def test_each_shape_gives_the_rate_it_names():
    assert shape.rate_at(None, 70, 12) == 70
    ramp = {"kind": "ramp", "from_rate": 10, "over_s": 20}
    assert [shape.rate_at(ramp, 70, t) for t in (0, 10, 20, 40)] == [10, 40, 70, 70]
    step = {"kind": "step", "steps": [{"at_s": 30, "rate": 5}, {"at_s": 10, "rate": 140}]}
    assert [shape.rate_at(step, 70, t) for t in (0, 9.9, 10, 29, 30)] == [70, 70, 140, 140, 5]
    spike = {"kind": "spike", "at_s": 20, "for_s": 5, "peak_rate": 300}
    assert [shape.rate_at(spike, 70, t) for t in (19.9, 20, 24.9, 25)] == [70, 300, 300, 70]


def test_the_schedule_holds_as_many_starts_as_the_shape_asks():
    assert shape.scheduled(None, 30, 18) == 540
    # 10 s at 70/s, 5 s at 300/s, 5 s at 70/s
    assert shape.scheduled({"kind": "spike", "at_s": 10, "for_s": 5, "peak_rate": 300}, 70, 20) == pytest.approx(700 + 1500 + 350, abs=3)
    starts = shape.arrivals({"kind": "ramp", "from_rate": 10, "over_s": 10}, 30, 20)
    assert starts == sorted(starts) and starts[0] == 0 and starts[-1] < 20
    assert len(starts) == pytest.approx(200 + 300, abs=3)  # the ramp's mean 20/s for 10 s, then 30/s


@pytest.mark.parametrize("fields, says", [
    ({"shape": {"kind": "ramp", "at_s": 3}}, "missing: from_rate, over_s; not for this kind: at_s"),
    ({"shape": {"kind": "spike", "at_s": 15, "for_s": 10, "peak_rate": 100}}, "reaches past load.duration_s"),
    ({"shape": {"kind": "wave"}}, "shape.kind"),
    ({"max_inflight": 50}, "load.max_inflight is for model: open"),
    ({"model": "poisson"}, "model"),
    ({"workers": 0}, "workers"),
    ({"workers": "many"}, "workers"),
])
def test_a_load_that_cannot_run_is_refused_by_name(fields, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        Load(users=5, spawn_rate=5, rate=30, duration_s=20, endpoints=ENDPOINTS, **fields)


def test_the_command_line_override_is_validated_like_the_file():
    s = on_load(load("unclosed-body"), "open", "2")
    assert (s.load.model, s.load.workers) == ("open", 2)
    with pytest.raises(ScenarioError, match="--load-workers 99") as e:
        on_load(load("unclosed-body"), None, "99")
    assert "load.workers" in str(e.value)


def test_folders_recorded_before_the_open_model_read_as_closed():
    v = summarize(runs.ROOT / "tests" / "fixtures" / "runs" / "e2e-short")[0]["variants"]["buggy"]
    assert v["load"]["model"] == "closed" and v["load"]["late_starts"] is None  # no data, never a zero
    assert v["load"]["scheduled"] == 540 and 0 < v["load"]["sent_share"] <= 1


def _short(tmp_path, **load) -> str:
    """e2e-short with other load settings, as a scenario file of its own."""
    data = yaml.safe_load((runs.SCENARIOS / "e2e-short.yaml").read_text())
    data["load"].update(load)
    path = tmp_path / "e2e-short-load.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _per_second(rows: list[dict], t0: float, since: float, until: float) -> float:
    return sum(1 for r in rows if since <= r["start"] - t0 < until) / (until - since)


@pytest.mark.e2e
def test_an_open_load_from_two_locust_workers_starts_on_schedule_through_a_spike(tmp_path):
    """Locust's master forks two workers bound to 127.0.0.1; each starts every other arrival and counts its starts.
    30 req/s, 90 req/s from 8 s to 13 s."""
    spike = {"kind": "spike", "at_s": 8, "for_s": 5, "peak_rate": 90}
    proc = runs.start(_short(tmp_path, model="open", workers=2, shape=spike), tmp_path / "reports", "--variant", "buggy")
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out
    run_dir = runs.run_dir_of(tmp_path / "reports")
    folder = run_dir / "variants" / "buggy"
    counts = [json.loads(p.read_text()) for p in sorted((folder / "locust").glob("starts-*.json"))]
    assert len(counts) == 2 and {c["worker"] for c in counts} == {0, 1} and len({c["pid"] for c in counts}) == 2
    assert sum(c["scheduled"] for c in counts) == shape.scheduled(spike, 30, 18) == pytest.approx(13 * 30 + 5 * 90, abs=2)
    rows = [json.loads(x) for x in (folder / "requests.jsonl").read_text().splitlines()]  # whole lines: none torn
    assert len({r["rid"] for r in rows}) == len(rows)  # two processes, no request id twice
    assert all(r["sched"] <= r["start"] + 0.001 for r in rows)
    t0 = min(r["sched"] for r in rows)
    assert _per_second(rows, t0, 9, 12) == pytest.approx(90, rel=0.15) and _per_second(rows, t0, 2, 7) == pytest.approx(30, rel=0.15)
    v = json.loads((run_dir / "summary.json").read_text())["variants"]["buggy"]
    assert v["load"]["model"] == "open" and v["load"]["workers"] == 2
    assert v["load"]["sent"] == len(rows) >= 0.95 * v["load"]["scheduled"]
    assert v["load"]["dropped_starts"] == 0 and v["load"]["late_starts"] is not None
    assert "open model" in (run_dir / "summary.md").read_text()
    locust_pid = json.loads((folder / "meta.json").read_text())["locust_pid"]
    assert not any(alive(p) for p in [locust_pid, *(c["pid"] for c in counts)])  # the master and its workers
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.e2e
def test_a_closed_load_follows_a_step_by_its_number_of_users(tmp_path):
    """10 users at 3 req/s each (30 req/s), stepping to 20 users (60 req/s) at 9 s: Locust's LoadTestShape."""
    step = {"kind": "step", "steps": [{"at_s": 9, "rate": 60}]}
    proc = runs.start(_short(tmp_path, shape=step), tmp_path / "reports", "--variant", "fixed")
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out
    run_dir = runs.run_dir_of(tmp_path / "reports")
    rows = [json.loads(x) for x in (run_dir / "variants" / "fixed" / "requests.jsonl").read_text().splitlines()]
    t0 = json.loads((run_dir / "variants" / "fixed" / "meta.json").read_text())["t0"]
    before, after = _per_second(rows, t0, 3, 8), _per_second(rows, t0, 12, 17)
    assert before == pytest.approx(30, rel=0.2) and after == pytest.approx(60, rel=0.2), (before, after)
    v = json.loads((run_dir / "summary.json").read_text())["variants"]["fixed"]
    assert v["load"]["model"] == "closed" and v["load"]["scheduled"] == pytest.approx(9 * 30 + 9 * 60, abs=2)
    assert "then 60 from 9 s" in v["load"]["line"]
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_stall_shows_more_slow_requests_under_the_open_model_than_under_the_closed_one(tmp_path):
    """tests/fixtures/runs/unclosed-body-{closed,open}: `gatewaylab run unclosed-body --variant buggy --load-model M`,
    70 req/s for 50 s, recorded 5 December 2026 on 2 cores beside other runs (replica logs and full dumps left out).
    In 3 runs of each: closed 36-37 slow requests of 3333-3357 sent; open 76 of 3462-3491 (3501 scheduled).

    The closed model's 35 users each wait out replica a's 2 s timeouts, so while a stalls fewer requests
    are sent: the stall is measured on fewer requests than users would send."""
    figures = {}
    for model in ("closed", "open"):
        run_dir = tmp_path / model
        shutil.copytree(runs.ROOT / "tests" / "fixtures" / "runs" / f"unclosed-body-{model}", run_dir)
        v = summarize(run_dir)[0]["variants"]["buggy"]
        assert v["load"]["model"] == model and v["verdict"] == "pass"
        figures[model] = v
        build.write(run_dir)
        assert f"{model} model" in (run_dir / "summary.md").read_text()
    closed, opened = figures["closed"], figures["open"]
    assert closed["load"]["scheduled"] == opened["load"]["scheduled"] == 3501  # the same nominal rate
    assert closed["load"]["sent_share"] < 0.97 < opened["load"]["sent_share"]
    bad = {m: v["client"]["slow"] + v["client"]["errors_5xx"] + v["client"]["conn_errors"] for m, v in figures.items()}
    assert bad["open"] >= 1.5 * bad["closed"] > 0
    assert opened["load"]["dropped_starts"] == 0 and opened["load"]["late_starts"] is not None


def test_trends_start_once_a_shaped_load_stops_changing_its_rate():
    """More load legitimately holds more goroutines: the default leak check's trend starts after the last step
    (a clean clone's run of the step above measured a fixed build's trend at 0.501/s across the step)."""
    from harness.analysis.summary import steady_after
    from harness.scenario import Scenario

    data = yaml.safe_load((runs.SCENARIOS / "e2e-short.yaml").read_text())

    def after(**load) -> float:
        d = {**data, "load": {**data["load"], **load}}
        return steady_after(Scenario.model_validate(d))

    assert after() == 3  # analysis.steady_after_s
    assert after(shape={"kind": "step", "steps": [{"at_s": 9, "rate": 60}]}) == 9
    assert after(shape={"kind": "spike", "at_s": 5, "for_s": 4, "peak_rate": 90}) == 9
    assert after(shape={"kind": "ramp", "from_rate": 5, "over_s": 2}) == 3  # settled before steady_after_s
    assert after(shape={"kind": "ramp", "from_rate": 5, "over_s": 16}) == 3  # 2 s left: too few for a trend
