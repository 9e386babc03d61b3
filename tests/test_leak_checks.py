"""The default leak checks and the attribution of standard-library goroutines, on recorded dumps and figures.

tests/fixtures/goroutines/ancestors-debug2.txt is /debug/pprof/goroutine?debug=2 of a
program (package main) that called `http.Get` five times at main.go:16 and never
closed a body, run with GODEBUG=tracebackancestors=5: each leaked connection's
readLoop/writeLoop carries the stacks of the goroutines that started it.
"""

from __future__ import annotations

from pathlib import Path

from harness.analysis import ancestry
from harness.analysis import leaks
from harness.analysis.expect import expectations
from harness.record.goroutines import Frame
from harness.scenario import LeakChecks, parse

DUMP = Path(__file__).parent / "fixtures" / "goroutines" / "ancestors-debug2.txt"
SOURCE = DUMP.parent / "gt"  # the program's source, recorded at /tmp/gt


def _fixture(source_at_hand: bool = True) -> str:
    text = DUMP.read_text()
    return text.replace("/tmp/gt/", f"{SOURCE}/") if source_at_hand else text.replace("/tmp/gt/", "/nonexistent/gt/")


def test_a_leaked_readloop_is_attributed_to_the_line_that_made_the_request():
    text = _fixture()
    got = ancestry.goroutines(text)
    assert len(got) == 7
    creators = ancestry.creators_by_stack(text, own="")
    read_loop = ancestry.key([Frame("net/http.(*persistConn).readLoop", "transport.go", 2450)])
    # main.go:15 is `resp, err := http.Get(url)`; Go prints the return site, 16
    assert creators[read_loop] == "gt/main.go:15"
    write_loop = ancestry.key([Frame("net/http.(*persistConn).writeLoop", "transport.go", 2652)])
    assert creators[write_loop] == "gt/main.go:15"
    # a stack row cut to its innermost frames still finds its creator
    assert ancestry.lookup(creators, read_loop) == "gt/main.go:15"
    assert ancestry.lookup(creators, (("no.such", 1),)) == ""
    # without the source, the printed line stays
    assert ancestry.creators_by_stack(_fixture(source_at_hand=False), own="")[read_loop] == "gt/main.go:16"


def test_a_goroutine_without_own_creator_gets_none():
    text = "goroutine 7 [select]:\nnet/http.(*persistConn).readLoop(0x1)\n\t/x/transport.go:2450 +0x1\ncreated by net/http.(*Transport).dialConn in goroutine 3\n\t/x/transport.go:1994 +0x1\n"
    assert ancestry.creators_by_stack(text, own="example.com/svc") == {}


def _dump(handler_file: Path, line: int, served: bool = False) -> str:
    """A readLoop whose dialing goroutine came from a handler calling Client.Do at handler_file:line (+ return site)."""
    tail = ("net/http.(*conn).serve(...)\n\t/go/src/net/http/server.go:2102 +0x1\n"
            "created by net/http.(*Server).Serve\n\t/go/src/net/http/server.go:3454 +0x1\n"
            "[originating from goroutine 1]:\nnet/http.(*Server).Serve(...)\n\t/go/src/net/http/server.go:3455 +0x1\n"
            "main.main(...)\n\t/svc/main.go:40 +0x1\n") if served else ""
    return ("goroutine 18 [select]:\nnet/http.(*persistConn).readLoop(0x1)\n\t/go/src/net/http/transport.go:2450 +0xc05\n"
            "created by net/http.(*Transport).dialConn in goroutine 9\n\t/go/src/net/http/transport.go:1994 +0x16ac\n"
            "[originating from goroutine 9]:\nnet/http.(*Client).Do(...)\n\t/go/src/net/http/client.go:590 +0x1\n"
            f"main.handler(...)\n\t{handler_file}:{line} +0x4a\n" + tail)


def test_an_ancestor_frame_is_named_by_its_call_not_its_return_site(tmp_path):
    # Go prints an ancestor's frames at their return addresses: here the line after the call.
    src = tmp_path / "main.go"
    src.write_text("package main\n\nfunc handler() {\n\tresp, err := client.Do(req)\n\tif err != nil {\n\t\treturn\n\t}\n}\n")
    read_loop = ancestry.key([Frame("net/http.(*persistConn).readLoop", "transport.go", 2450)])
    assert ancestry.creators_by_stack(_dump(src, 5), own="")[read_loop] == f"{tmp_path.name}/main.go:4"
    # a line that makes the call itself stays; a source not at hand keeps the printed line
    assert ancestry.creators_by_stack(_dump(src, 4), own="")[read_loop] == f"{tmp_path.name}/main.go:4"
    assert ancestry.creators_by_stack(_dump(tmp_path / "gone.go", 5), own="")[read_loop] == f"{tmp_path.name}/gone.go:5"


def test_a_call_into_an_inlined_function_is_named_by_its_own_line():
    # recorded from refsvc's default-client run: Client.Do inlined into the handler prints the
    # handler twice, after the inlined body (18) and at the call (17)
    text = ("goroutine 86 [select]:\nnet/http.(*persistConn).readLoop(0x1)\n\t/go/src/net/http/transport.go:2450 +0xc05\n"
            "created by net/http.(*Transport).dialConn in goroutine 81\n\t/go/src/net/http/transport.go:1994 +0x16ac\n"
            "[originating from goroutine 81]:\nnet/http.(*Client).do(...)\n\t/go/src/net/http/client.go:733 +0x9d7\n"
            "example.com/svc/h.Buggy.func1(...)\n\t/nonexistent/h/buggy.go:18 +0x87\n"
            "example.com/svc/h.Buggy.func1(...)\n\t/nonexistent/h/buggy.go:17 +0x74\n"
            "net/http.HandlerFunc.ServeHTTP(...)\n\t/go/src/net/http/server.go:2287 +0x29\n")
    assert set(ancestry.creators_by_stack(text, own="example.com/svc").values()) == {"h/buggy.go:17"}


def test_a_connection_the_server_accepted_is_not_named_by_main():
    # an idle server connection's goroutine descends from Serve, started in main: not an own line
    text = ("goroutine 30 [IO wait]:\nnet/http.(*conn).serve(0x1)\n\t/go/src/net/http/server.go:2102 +0x1\n"
            "created by net/http.(*Server).Serve in goroutine 1\n\t/go/src/net/http/server.go:3454 +0x1\n"
            "[originating from goroutine 1]:\nnet/http.(*Server).Serve(...)\n\t/go/src/net/http/server.go:3455 +0x1\n"
            "main.main.func1(...)\n\t/svc/main.go:40 +0x1\nmain.main(...)\n\t/svc/main.go:41 +0x1\n")
    assert ancestry.creators_by_stack(text, own="") == {}


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
    from harness.analysis.replica import longest_gap

    samples = pd.DataFrame({"t": [100.0, 101.0, 102.0, 118.4, 119.4], "replica": "a"})
    assert longest_gap(samples, 100.0, 120.0) == 16.4  # seen: sampler, Locust and the run loop all stood still
    s = parse(SCENARIO, "t.yaml")
    gap = expectations(s, "client-timeout", figures())[0]
    (row,) = check([gap], {"sampling": {"longest_gap_s": 16.4}})
    assert not row["holds"]
    (row,) = check([gap], {"sampling": {"longest_gap_s": 1.0}})
    assert row["holds"]
