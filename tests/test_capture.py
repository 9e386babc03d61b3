"""--capture: runtime traces of each replica during the inject phase, listed in the report."""

import json
import shutil
import subprocess

import pytest

from tests.runs import SCENARIOS, journal, run_dir_of, start

pytestmark = pytest.mark.e2e


def test_trace_and_tcpdump_capture(tmp_path):
    proc = start(SCENARIOS / "tiny.yaml", tmp_path, "--capture", "trace,tcpdump")
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), out
    run_dir = run_dir_of(tmp_path)
    traces = sorted((run_dir / "variants" / "buggy" / "capture").glob("*.trace"))
    assert [t.name for t in traces] == ["a.trace", "b.trace"]
    go = shutil.which("go") or "/usr/local/go/bin/go"
    parsed = subprocess.run([go, "tool", "trace", "-pprof=sched", str(traces[0])], capture_output=True, timeout=120)
    assert parsed.returncode == 0, parsed.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    listed = [c["open"] for c in summary["variants"]["buggy"]["captures"]]
    assert f"go tool trace {traces[0]}" in listed
    assert "go tool trace" in (run_dir / "report.html").read_text()
    tcpdump = [j for j in journal(run_dir) if j["step"] == "capture tcpdump"]
    assert tcpdump and tcpdump[0]["outcome"] in ("ok", "skipped")
    if tcpdump[0]["outcome"] == "skipped":
        assert "tcpdump" in tcpdump[0]["reason"] or "root" in tcpdump[0]["reason"]


def test_unknown_capture_kind_is_refused(tmp_path):
    proc = start(SCENARIOS / "tiny.yaml", tmp_path, "--capture", "strace")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "--capture 'strace' is unknown" in out
    assert run_dir_of(tmp_path) is None
