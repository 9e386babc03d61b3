"""analysis.series on the recorded e2e-short run: the interactive timeline's numbers are the folder's."""

from __future__ import annotations

import json
from pathlib import Path

from harness.analysis import records
from harness.analysis.series import run_series
from harness.analysis.summary import load_variant

RUN = Path(__file__).parent / "fixtures" / "runs" / "e2e-short"


def _series() -> dict:
    scenario = records.scenario(RUN)
    return run_series([load_variant(RUN, v, scenario) for v in records.variants(RUN)], scenario)


def test_every_sample_is_on_the_timeline_once_at_its_own_time():
    run = _series()
    for v in run["variants"]:
        folder = RUN / "variants" / v["name"]
        t0 = json.loads((folder / "meta.json").read_text())["t0"]
        rows = [json.loads(x) for x in (folder / "samples.jsonl").read_text().splitlines() if x.strip()]
        s = v["samples"]
        for replica in ("a", "b"):
            mine = [r for r in rows if r["replica"] == replica]
            shown = [(x, g) for x, g in zip(s["x"], s["replicas"][replica]["goroutines"]) if g is not None]
            assert len(shown) == len(mine)
            for (x, g), r in zip(shown, mine):
                assert g == r["goroutines"] and abs(x - (r["t"] - t0)) < 0.1


def test_client_counts_add_up_to_the_requests_and_bands_are_on_the_clock():
    run = _series()
    assert run["replicas"] == ["a", "b"] and [p[0] for p in run["phases"]] == ["warm-up", "inject", "recover"]
    buggy, fixed = run["variants"]
    for v in (buggy, fixed):
        folder = RUN / "variants" / v["name"]
        reqs = [json.loads(x) for x in (folder / "requests.jsonl").read_text().splitlines() if x.strip()]
        c = v["client"]
        assert sum(sum(c["counts"][k]) for k in c["labels"]) == len(reqs)
        assert c["x"] == list(range(c["x"][0], c["x"][-1] + 1))  # every second, also one with nothing
        assert v["finished"] and v["t_end"] > 17
        assert all(3 <= w[0] < w[1] <= 14 for w in v["toxics"])  # the inject phase: 3 s to 13 s
    assert "200 slow" in buggy["client"]["labels"] and "200 slow" not in fixed["client"]["labels"]
    assert len(buggy["episodes"]) >= 1 and all(e[2] == "a" for e in buggy["episodes"]) and not fixed["episodes"]
    assert "a" in buggy["leak_flagged"] and not fixed["leak_flagged"]
    json.dumps(run, allow_nan=False)  # plain JSON: the report inlines it
