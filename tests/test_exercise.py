"""`gatewaylab exercise`: a workspace, a file that does not compile, and the verdicts of recorded checks.

A file that does not compile gives the compiler's message and exit 2. The real
checks (about a minute each) run through the workshop page, in
tests/test_workshop_exercise.py; here the verdict logic judges four recorded
check folders of unclosed-body again: the reference fix is fixed, the untouched
file still leaks at its Client.Do line, the two half-fixes are hidden with the
figure that shows it.

tests/fixtures/exercise/*: recorded on 5 December 2026 by this file's former
real checks (`gatewaylab exercise check` of a workspace from `gatewaylab exercise
start unclosed-body`, the four files below), then stripped to what
verdict.judge reads: summary.json (as the check wrote it), exercise/exercise.json,
variants/yours/samples.jsonl (pool_dials) and the participant's file in
exercise/src/. exercise/verdict.json is what the check said then.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli.exercise import verdict
from tests.runs import ROOT

PATTERN = ROOT / "goservices" / "patterns" / "unclosedbody"
RECORDED = ROOT / "tests" / "fixtures" / "exercise"


def gatewaylab(*args: str, cwd: Path = ROOT, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's harness, from any folder
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def workspace(tmp_path: Path, name: str = "ws") -> Path:
    got = gatewaylab("exercise", "start", "unclosed-body", "--dir", str(tmp_path / name))
    assert got.returncode == 0, got.stderr
    return tmp_path / name


def check(ws: Path, reports: Path) -> tuple[subprocess.CompletedProcess, float, dict]:
    """`exercise check` with no folder, from inside the workspace; (result, seconds, verdict.json)."""
    t = time.monotonic()
    got = gatewaylab("exercise", "check", "--reports", str(reports), cwd=ws)
    took = time.monotonic() - t
    runs = sorted((reports / "runs").glob("*"))
    vd = json.loads((runs[-1] / "exercise" / "verdict.json").read_text()) if runs else {}
    return got, took, vd


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_start_writes_the_workspace_and_refuses_what_it_should(tmp_path):
    ws = workspace(tmp_path)
    assert (ws / "handler.go").read_text() == (PATTERN / "buggy.go").read_text()
    assert [p.name for p in sorted((ws / "hints").iterdir())] == ["1.md", "2.md", "3.md"]
    assert "exercise check" in (ws / "TASK.md").read_text()
    meta = json.loads((ws / "exercise.json").read_text())
    assert meta["scenario"] == "unclosed-body" and meta["replaces"] == "goservices/patterns/unclosedbody/buggy.go"
    (ws / "handler.go").write_text("// mine\n")
    again = gatewaylab("exercise", "start", "unclosed-body", "--dir", str(ws))
    assert again.returncode == 2 and "never overwrites" in again.stderr
    assert (ws / "handler.go").read_text() == "// mine\n"
    unknown = gatewaylab("exercise", "start", "no-such-scenario", "--dir", str(tmp_path / "x"))
    assert unknown.returncode == 2 and "unclosed-body" in unknown.stderr and not (tmp_path / "x").exists()
    setting = gatewaylab("exercise", "start", "status-not-counted", "--dir", str(tmp_path / "y"))
    assert setting.returncode == 2 and "setting" in setting.stderr
    nowhere = gatewaylab("exercise", "check", cwd=tmp_path)
    assert nowhere.returncode == 2 and "not an exercise workspace" in nowhere.stderr


def test_a_compile_error_is_the_compilers_message_and_exit_2(tmp_path):
    ws = workspace(tmp_path)
    edit(ws / "handler.go", "_ = resp // body left open", "resp.Body.Closee()")
    got, _, _ = check(ws, tmp_path / "reports")
    assert got.returncode == 2, got.stdout + got.stderr
    assert f"{ws / 'handler.go'}:22:" in got.stderr and "Closee" in got.stderr, got.stderr
    assert not list((tmp_path / "reports" / "runs").glob("*")), "a build that fails leaves no run folder"


def judged(name: str) -> tuple[dict, str]:
    """The verdict of a recorded check folder, judged again now, and its words."""
    run = RECORDED / name
    vd = verdict.judge(run, json.loads((run / "summary.json").read_text()))
    return vd, verdict.text(vd)


@pytest.mark.parametrize("name", ["fixed", "still-leaking", "client-timeout", "request-context"])
def test_a_recorded_check_is_judged_as_it_was_then(name):
    vd, _ = judged(name)
    then = json.loads((RECORDED / name / "exercise" / "verdict.json").read_text())
    then.pop("wall_s")
    assert {**vd, "run_dir": then["run_dir"]} == then


def test_the_reference_fix_is_fixed():
    vd, said = judged("fixed")
    assert vd["verdict"] == "fixed" and verdict.EXIT["fixed"] == 0
    assert not vd["evidence"] and not vd["gateway_failed"] and vd["dials"]["a"]["per_request"] < 0.01
    assert said.splitlines()[0].endswith("FIXED: your build behaves like the fixed build under the same load and faults.")
    assert "Growing stack" not in said


def test_the_untouched_file_still_leaks_at_its_line():
    vd, said = judged("still-leaking")
    assert vd["verdict"] == "still leaking" and vd["gateway"]["ejections"]["a"] >= 2
    line = next(i for i, s in enumerate((PATTERN / "buggy.go").read_text().splitlines(), 1) if "Client.Do(" in s)
    assert f"net/http.(*Transport).getConn from {vd['file']}:{line}" in said, said
    assert f"{line:>4} | resp, err := env.Client.Do(req)" in said, said


def test_the_client_timeout_half_fix_is_hidden_with_its_figure():
    vd, said = judged("client-timeout")
    g = vd["gateway"]
    assert vd["verdict"] == "hidden" and not vd["gateway_failed"]
    assert g["ejections"]["a"] == 0 and g["bypass"] >= 0.9 and g["bad_requests"] >= 100  # nginx saw nothing
    assert f"The figure: {g['bad_requests']} requests were slow or failed" in said
    assert f"bypass figure {g['bypass']:.0%}" in said, said
    assert any(e["metric"] == "replicas.a.pool_waiters_peak" for e in vd["evidence"])


def test_the_request_context_half_fix_is_hidden_by_its_dials():
    vd, said = judged("request-context")
    assert vd["verdict"] == "hidden" and not vd["gateway_failed"]
    dials = vd["dials"]["a"]
    assert dials["per_request"] > 0.9 and f"The figure: {dials['dials']} outbound connections dialled" in said, said
