"""Goroutine dump parsing and diffing, on dumps recorded from the reference
services (tests/fixtures/goroutines/record.py), plus one live fetch."""

import argparse
import json
import time
from pathlib import Path

import pytest

from harness.record import goroutines
from harness.cli import goroutines as goroutines_cli
from harness.record.goroutines import DumpError, diff, parse
from harness.host.procs import Proc, free_port
from harness.host.probes import http_get
from harness.host.tools import ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "goroutines"


def dump(name: str) -> goroutines.Dump:
    return parse((FIXTURES / f"{name}.txt").read_text())


@pytest.mark.parametrize("name", ["buggy-before", "buggy-after", "fixed-before", "fixed-after"])
def test_parsed_counts_add_up_to_the_header_total(name):
    d = dump(name)
    assert d.total > 0
    assert sum(d.stacks.values()) == d.total


def test_buggy_diff_points_at_getconn_called_from_the_buggy_handler():
    growths = diff(dump("buggy-before"), dump("buggy-after"))
    top = growths[0]
    assert top.blocking_call == "net/http.(*Transport).getConn"
    assert "patterns/unclosedbody/buggy.go" in top.own_frame
    assert top.growth >= 15 and top.after - top.before == top.growth
    assert top.frames[0].startswith("net/http.(*Transport).getConn ")
    assert len(top.frames) <= 8
    assert [g.growth for g in growths] == sorted((g.growth for g in growths), reverse=True)


def test_fixed_diff_is_empty():
    assert diff(dump("fixed-before"), dump("fixed-after"), threshold=5) == []


SUMMED = """goroutine profile: total 7
3 @ 0x1 0x2 0x3
# labels: {"handler":"a"}
#\t0x4a1b2c\tmain.worker+0x5ac\t/src/app/main.go:10
#\t0x4a1b2d\tmain.main+0x10\t/src/app/main.go:20

4 @ 0x9 0x8 0x7
# labels: {"handler":"b"}
#\t0x5a1b2c\tmain.worker+0x60\t/src/app/main.go:10
#\t0x5a1b2d\tmain.main+0x22\t/src/app/main.go:20
"""


def test_same_stack_in_several_blocks_is_summed():
    d = parse(SUMMED)
    assert d.total == 7
    assert list(d.stacks.values()) == [7]


def test_growth_of_a_stack_absent_before():
    before = parse("goroutine profile: total 0\n")
    (g,) = diff(before, parse(SUMMED), threshold=5, own="example.com/app")
    assert (g.before, g.after, g.growth) == (0, 7, 7)
    assert g.own_frame == "app/main.go:10"  # package main is always own code


PARKED = """goroutine profile: total 2
1 @ 0x1
#\t0x1\truntime.gopark+0x1\t/usr/local/go/src/runtime/proc.go:435
#\t0x2\truntime.chanrecv+0x1\t/usr/local/go/src/runtime/chan.go:664
#\t0x3\truntime.chanrecv1+0x1\t/usr/local/go/src/runtime/chan.go:506
#\t0x4\texample.com/svc/jobs.wait+0x1\t/home/me/svc/jobs/wait.go:12

1 @ 0x2
#\t0x1\tinternal/poll.runtime_pollWait+0x84\t/usr/local/go/src/runtime/netpoll.go:351
#\t0x2\tinternal/poll.(*pollDesc).wait+0x26\t/usr/local/go/src/internal/poll/fd_poll_runtime.go:84
#\t0x3\tinternal/poll.(*pollDesc).waitRead+0x28\t/usr/local/go/src/internal/poll/fd_poll_runtime.go:89
#\t0x4\tinternal/poll.(*FD).Read+0x140\t/usr/local/go/src/internal/poll/fd_unix.go:161
"""


def test_blocking_call_skips_the_parking_machinery():
    growths = {g.blocking_call: g for g in diff(parse("goroutine profile: total 0\n"), parse(PARKED), 1, "example.com/svc")}
    chan = growths["example.com/svc/jobs.wait"]
    assert chan.wait == "runtime.chanrecv1"
    assert chan.own_frame == "svc/jobs/wait.go:12"
    assert growths["internal/poll.(*FD).Read"].wait == "internal/poll.(*pollDesc).waitRead"


@pytest.mark.parametrize("text,says", [
    ("goroutine 1 [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n", "debug=2"),
    ("<html><body>/debug/pprof/</body></html>", "HTML"),
    ("", "empty"),
    ("goroutine profile: total 1\n1 @ 0x1\nnot a frame\n", "line 3"),
])
def test_what_is_not_a_debug1_dump_is_refused_with_the_hint(text, says):
    with pytest.raises(DumpError) as e:
        parse(text)
    assert "?debug=1" in str(e.value)
    assert says in str(e.value)


@pytest.mark.parametrize("url,full", [
    ("http://127.0.0.1:9081", "http://127.0.0.1:9081/debug/pprof/goroutine?debug=1"),
    ("http://127.0.0.1:9081/", "http://127.0.0.1:9081/debug/pprof/goroutine?debug=1"),
    ("http://127.0.0.1:9081/debug/pprof/", "http://127.0.0.1:9081/debug/pprof/goroutine?debug=1"),
    ("http://127.0.0.1:9081/debug/pprof/goroutine", "http://127.0.0.1:9081/debug/pprof/goroutine?debug=1"),
    ("http://127.0.0.1:9081/debug/pprof/goroutine?debug=2", "http://127.0.0.1:9081/debug/pprof/goroutine?debug=2"),
])
def test_urls_are_completed_to_the_debug1_profile(url, full):
    assert goroutines.complete_url(url) == full


def test_fetch_from_a_closed_port_is_a_dump_error():
    with pytest.raises(DumpError, match="could not fetch"):
        goroutines.fetch(f"http://127.0.0.1:{free_port()}", timeout_s=1)


def cli(*argv):
    p = argparse.ArgumentParser()
    goroutines_cli.add_parser(p.add_subparsers(dest="command"))
    return goroutines_cli.run(p.parse_args(["goroutines", *argv]))


def test_cli_diff_prints_the_table(capsys):
    assert cli("diff", str(FIXTURES / "buggy-before.txt"), str(FIXTURES / "buggy-after.txt")) == 0
    out = capsys.readouterr().out
    assert "net/http.(*Transport).getConn" in out and "goservices/patterns/unclosedbody/buggy.go:" in out


def test_cli_diff_json(capsys):
    assert cli("diff", str(FIXTURES / "buggy-before.txt"), str(FIXTURES / "buggy-after.txt"), "--json", "--threshold", "10") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["blocking_call"] == "net/http.(*Transport).getConn"
    assert all(r["growth"] >= 10 for r in rows)


def test_cli_diff_without_growth_says_so(capsys):
    assert cli("diff", str(FIXTURES / "fixed-before.txt"), str(FIXTURES / "fixed-after.txt")) == 0
    assert "no stack grew by 5 or more" in capsys.readouterr().out


def test_cli_bad_input_exits_2(tmp_path, capsys):
    bad = tmp_path / "dump.txt"
    bad.write_text("goroutine 1 [running]:\n")
    assert cli("diff", str(bad), str(FIXTURES / "fixed-after.txt")) == 2
    assert "debug=1" in capsys.readouterr().err
    assert cli("diff", str(tmp_path / "missing.txt"), str(bad)) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.fixture
def fixed_service(tmp_path):
    """bin/dependency and bin/refsvc (fixed) on free loopback ports; yields the admin URL."""
    dep, port, admin = free_port(), free_port(), free_port()
    started = []
    try:
        started.append(Proc("dependency", [str(ROOT / "bin/dependency"), "-addr", f"127.0.0.1:{dep}"], tmp_path / "dep.log"))
        started.append(Proc("refsvc", [str(ROOT / "bin/refsvc"), "-addr", f"127.0.0.1:{port}", "-admin-addr", f"127.0.0.1:{admin}",
                                       "-dependency", f"http://127.0.0.1:{dep}", "-variant", "fixed", "-name", "a"],
                            tmp_path / "refsvc.log"))
        for _ in range(100):
            if http_get(f"http://127.0.0.1:{admin}/healthz", 0.5):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"refsvc did not answer: {started[-1].tail()}")
        yield f"http://127.0.0.1:{admin}"
    finally:
        for p in reversed(started):
            p.stop()


def test_live_fetch_parses(fixed_service):
    d = parse(goroutines.fetch(fixed_service))
    assert d.total >= 3
    funcs = {f.func for stack in d.stacks for f in stack}
    assert "gatewaylab/goservices/leakwatch.(*Watcher).Run" in funcs


def test_live_snapshot_to_file(fixed_service, tmp_path, capsys):
    out = tmp_path / "now.txt"
    assert cli("snapshot", fixed_service + "/debug/pprof/", "-o", str(out)) == 0
    assert parse(out.read_text()).total >= 3
    assert "saved" in capsys.readouterr().err


def test_cli_diff_of_a_saved_dump_against_a_live_url(fixed_service, tmp_path):
    """The installed command, as a user runs it: a file from before, the live endpoint now."""
    import subprocess
    import sys

    before = tmp_path / "before.txt"
    before.write_text(goroutines.fetch(fixed_service))
    out = subprocess.run([sys.executable, "-m", "harness", "goroutines", "diff", str(before), fixed_service, "--threshold", "5"],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "no stack grew by 5 or more" in out.stdout
