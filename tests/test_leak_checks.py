"""The default leak checks and the attribution of standard-library goroutines, on recorded dumps and figures.

tests/fixtures/goroutines/ancestors-debug2.txt is /debug/pprof/goroutine?debug=2 of a
program (package main) that called `http.Get` five times at main.go:16 and never
closed a body, run with GODEBUG=tracebackancestors=5: each leaked connection's
readLoop/writeLoop carries the stacks of the goroutines that started it.
"""

from __future__ import annotations

from pathlib import Path

from harness import ancestry
from harness.analysis import leaks
from harness.analysis.expect import expectations
from harness.goroutines import Frame
from harness.scenario import LeakChecks, parse

DUMP = Path(__file__).parent / "fixtures" / "goroutines" / "ancestors-debug2.txt"


def test_a_leaked_readloop_is_attributed_to_the_line_that_made_the_request():
    text = DUMP.read_text()
    got = ancestry.goroutines(text)
    assert len(got) == 7
    creators = ancestry.creators_by_stack(text, own="")
    read_loop = ancestry.key([Frame("net/http.(*persistConn).readLoop", "transport.go", 2450)])
    assert creators[read_loop] == "gt/main.go:16"
    write_loop = ancestry.key([Frame("net/http.(*persistConn).writeLoop", "transport.go", 2652)])
    assert creators[write_loop] == "gt/main.go:16"
    # a stack row cut to its innermost frames still finds its creator
    assert ancestry.lookup(creators, read_loop) == "gt/main.go:16"
    assert ancestry.lookup(creators, (("no.such", 1),)) == ""


def test_a_goroutine_without_own_creator_gets_none():
    text = "goroutine 7 [select]:\nnet/http.(*persistConn).readLoop(0x1)\n\t/x/transport.go:2450 +0x1\ncreated by net/http.(*Transport).dialConn in goroutine 3\n\t/x/transport.go:1994 +0x1\n"
    assert ancestry.creators_by_stack(text, own="example.com/svc") == {}


SCENARIO = """
name: t
title: t
description: t
pattern: unclosed-body
replicas: [{name: a}, {name: b, variant: fixed}]
variants:
  fixed: {expect: [{metric: replicas.a.goroutines_left, op: "<=", value: 20}]}
  buggy: {leak: expected}
  client-timeout: {leak: ignore}
  request-context: {leak: pile-up}
default_variants: [fixed]
phases: [{name: inject, start_s: 0, duration_s: 10}]
load: {users: 1, spawn_rate: 1, rate: 1, duration_s: 10, endpoints: [{path: /api/item}]}
"""


def figures(**kw) -> dict:
    return {"replicas": {"a": {"has_pprof": True, "has_leakwatch": True, **kw}, "b": {"has_pprof": True}}}


def test_default_checks_judge_only_the_replicas_under_test_and_yield_to_stated_ones():
    s = parse(SCENARIO, "t.yaml")
    got = {e.metric: e for e in expectations(s, "fixed", figures())}
    assert got["replicas.a.goroutines_left"].value == 20  # the variant's own expectation replaces the default
    assert got["replicas.a.fds_left"].value == s.leak_checks.fds_left
    assert {"replicas.a.stacks_grown", "replicas.a.goroutine_trend", "replicas.a.leakwatch_flags"} <= set(got)
    assert not any(m.startswith("replicas.b.") for m in got)  # b is the pinned neighbour: the bench, not judged


def test_a_leaking_variant_must_fire_a_check_and_an_ignored_one_is_not_judged():
    s = parse(SCENARIO, "t.yaml")
    gap, e = expectations(s, "buggy", figures())
    assert gap.metric == "sampling.longest_gap_s"  # every run: measured all along
    assert (e.metric, e.op, e.value) == ("replicas.a.leak_signals", ">=", 1.0)
    assert [x.metric for x in expectations(s, "client-timeout", figures())] == ["sampling.longest_gap_s"]
    piled = {e.metric for e in expectations(s, "request-context", figures())}
    assert piled == {"sampling.longest_gap_s", "replicas.a.goroutines_left", "replicas.a.fds_left", "replicas.a.stacks_grown"}


def test_checks_without_their_data_source_are_left_out_not_passed():
    s = parse(SCENARIO, "t.yaml")
    got = {e.metric for e in expectations(s, "fixed", {"replicas": {"a": {"has_pprof": False, "has_leakwatch": False}}})}
    assert "replicas.a.stacks_grown" not in got and "replicas.a.leakwatch_flags" not in got
    assert "replicas.a.fds_left" in got  # the contract requires process_open_fds: its absence fails as no data


def test_signals_count_the_checks_that_fire():
    limits = LeakChecks()
    assert leaks.signals(limits, {"goroutines_left": 500, "fds_left": 0, "stacks_grown": 1, "goroutine_trend": 0.0}) == 2
    assert leaks.signals(limits, {"goroutines_left": 3, "fds_left": 1, "stacks_grown": 0, "goroutine_trend": -0.1}) == 0
    assert leaks.signals(limits, {}) is None  # nothing measured: no data, not "no leak"


def test_a_stall_of_the_whole_machine_fails_the_run_as_unmeasured():
    import pandas as pd

    from harness.analysis.expect import check
    from harness.analysis.summary import longest_gap

    samples = pd.DataFrame({"t": [100.0, 101.0, 102.0, 118.4, 119.4], "replica": "a"})
    assert longest_gap(samples, 100.0, 120.0) == 16.4  # seen: sampler, Locust and the run loop all stood still
    s = parse(SCENARIO, "t.yaml")
    gap = expectations(s, "client-timeout", figures())[0]
    (row,) = check([gap], {"sampling": {"longest_gap_s": 16.4}})
    assert not row["holds"]
    (row,) = check([gap], {"sampling": {"longest_gap_s": 1.0}})
    assert row["holds"]
