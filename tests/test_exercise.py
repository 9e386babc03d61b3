"""`gatewaylab exercise`: a workspace, then real checks of four participants' files of unclosed-body.

Each check builds the file into refsvc and runs the scenario on it (about a
minute each): the reference fix is fixed, the untouched file still leaks at its
Client.Do line, the two half-fixes are hidden with the figure that shows it, and
a file that does not compile gives the compiler's message and exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.runs import ROOT

PATTERN = ROOT / "goservices" / "patterns" / "unclosedbody"
MINUTES_3 = 180


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


@pytest.mark.e2e
def test_the_reference_fix_is_fixed(tmp_path):
    ws = workspace(tmp_path)
    (ws / "handler.go").write_text((PATTERN / "fixed.go").read_text().replace("func Fixed(", "func Buggy("))
    got, took, vd = check(ws, tmp_path / "reports")
    assert got.returncode == 0 and vd["verdict"] == "fixed", got.stdout + got.stderr
    assert "FIXED" in got.stdout and "Report:" in got.stdout
    assert took < MINUTES_3


@pytest.mark.e2e
def test_the_untouched_file_still_leaks_at_its_line(tmp_path):
    ws = workspace(tmp_path)
    got, took, vd = check(ws, tmp_path / "reports")
    assert got.returncode == 1 and vd["verdict"] == "still leaking", got.stdout + got.stderr
    line = next(i for i, s in enumerate((ws / "handler.go").read_text().splitlines(), 1) if "Client.Do(" in s)
    assert f"from {ws / 'handler.go'}:{line}" in got.stdout, got.stdout
    assert "Transport).getConn" in got.stdout and vd["gateway"]["ejections"]["a"] >= 2
    assert took < MINUTES_3


@pytest.mark.e2e
def test_the_client_timeout_half_fix_is_hidden_with_its_figure(tmp_path):
    ws = workspace(tmp_path)
    edit(ws / "handler.go", "func Buggy(env svc.Env) http.Handler {\n",
         "func Buggy(env svc.Env) http.Handler {\n\tclient := *env.Client\n\tclient.Timeout = env.ClientTimeout\n"
         "\tenv.Client = &client\n")
    got, took, vd = check(ws, tmp_path / "reports")
    assert got.returncode == 1 and vd["verdict"] == "hidden", got.stdout + got.stderr
    g = vd["gateway"]
    assert g["ejections"]["a"] == 0 and g["bypass"] >= 0.9 and g["bad_requests"] >= 100  # nginx saw nothing
    assert f"bypass figure {g['bypass']:.0%}" in got.stdout, got.stdout
    assert any(e["metric"] == "replicas.a.pool_waiters_peak" for e in vd["evidence"])
    assert took < MINUTES_3


@pytest.mark.e2e
def test_the_request_context_half_fix_is_hidden_by_its_dials(tmp_path):
    ws = workspace(tmp_path)
    edit(ws / "handler.go", "http.NewRequest(http.MethodGet,", "http.NewRequestWithContext(r.Context(), http.MethodGet,")
    got, took, vd = check(ws, tmp_path / "reports")
    assert got.returncode == 1 and vd["verdict"] == "hidden", got.stdout + got.stderr
    dials = vd["dials"]["a"]
    assert dials["per_request"] > 0.9 and f"{dials['dials']} outbound connections dialled" in got.stdout, got.stdout
    assert took < MINUTES_3
