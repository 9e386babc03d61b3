"""Time to verdict (harness/analysis/settle.py) on recorded run folders: seconds, no process started."""

from __future__ import annotations

from pathlib import Path

from harness.analysis import records
from harness.analysis.settle import cut, outcomes, settle
from harness.analysis.summary import load_variant

RUN = Path(__file__).parent / "fixtures" / "runs" / "e2e-short"


def test_the_verdict_at_the_settled_time_is_the_final_one_and_a_step_earlier_it_was_not():
    scenario = records.scenario(RUN)
    for variant in ("buggy", "fixed"):
        s = settle(RUN, variant, step_s=2)
        data = load_variant(RUN, variant, scenario)
        final = outcomes(data, scenario)
        assert 0 < s["settled_s"] <= s["duration_s"] and s["verdict"] == "pass"
        assert outcomes(cut(data, s["settled_s"]), scenario) == final
        if s["last_to_settle"]:
            earlier = outcomes(cut(data, s["settled_s"] - 2), scenario)
            assert earlier[s["last_to_settle"]] != final[s["last_to_settle"]]


def test_a_cut_keeps_only_what_happened_before_it_and_the_drain_after_the_load():
    scenario = records.scenario(RUN)
    data = load_variant(RUN, "buggy", scenario)
    short = cut(data, 5)
    assert len(short.requests) < len(data.requests) and (short.requests["start"] < data.t0 + 5).all()
    assert (short.episodes["end"] <= data.t0 + 5).all()
    t_end = data.meta["t_end"]
    assert (short.samples["t"] > t_end).sum() == (data.samples["t"] > t_end).sum() > 0  # "left after the load"
