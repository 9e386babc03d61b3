"""`gatewaylab compare` and `regress` on the real stack, shortened.

The user-service contract with tests/userservice (not a reference service),
and a git revision that reintroduces the unclosed-body leak failing
`regress` with the scenario and metric in its JUnit file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from harness.scenario import SCENARIO_DIR
from tests.runs import shorten

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
USER = ROOT / "tests" / "userservice"


def gatewaylab(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def shortened(src: Path, dst: Path, seconds: float, keep_expect: bool = True) -> Path:
    data = shorten(yaml.safe_load(src.read_text()), seconds)
    for v in data["variants"].values():
        # what a short run cannot show (slopes, re-probes, slow retries) is left to the full scenario
        v["expect"] = [e for e in v.get("expect", []) if keep_expect and e["metric"].endswith(
            ("pool_waiters_peak", "pool_in_use_peak", "errors_5xx", "own_frame", "blocking_call"))]
    dst.write_text(yaml.safe_dump(data))
    return dst


def only_comparison(reports: Path) -> Path:
    found = sorted((reports / "compare").glob("*"))
    assert len(found) == 1, found
    return found[0]


def test_user_service_leak_is_detected_and_the_comparison_is_kept(tmp_path):
    """Also `--jobs`: the four trials side by side, each child rebuilding its step from the folder."""
    scenario = shortened(USER / "scenario.yaml", tmp_path / "inventory.yaml", 15)
    got = gatewaylab("compare", str(scenario), "--baseline-service", str(USER / "tidy.yaml"),
                     "--candidate-service", str(USER / "leaky.yaml"), "--trials", "2", "--jobs", "4",
                     "--reports", str(tmp_path / "reports"), "--junit", str(tmp_path / "compare.xml"))
    assert got.returncode == 1, got.stdout + got.stderr  # candidate worse
    folder = only_comparison(tmp_path / "reports")
    assert json.loads((folder / "compare.json").read_text())["jobs"] == 4
    logs = sorted(p.name for p in (folder / "logs").glob("*.log"))
    assert logs == [f"trial-0{i}-{r}.log" for i in (1, 2) for r in ("baseline", "candidate")], logs
    assert "4 running" in got.stderr  # all four at once, not one after the other
    v = json.loads((folder / "verdict.json").read_text())
    by = {r["metric"]: r for r in v["metrics"]}
    assert v["overall"] == "candidate worse" and v["trials_complete"] == {"baseline": 2, "candidate": 2}
    assert by["client.rate_5xx"]["verdict"] == "worse", by["client.rate_5xx"]
    assert "replicas.a.pool_waiters_peak" not in by  # the service exports no pool metrics: left out, not zero
    for role, build in (("baseline", "service inventory"), ("candidate", "service inventory-leaky")):
        summary = json.loads((folder / role / "summary.json").read_text())
        assert summary["variants"]["trial-1"]["builds"]["a"] == build
    leaky = json.loads((folder / "candidate" / "summary.json").read_text())["variants"]["trial-1"]["replicas"]["a"]
    assert "userservice/main.go" in leaky["top_stack"]["own_frame"]  # the dump names the user's leaking line
    assert leaky["goroutine_growth"] >= 5
    # kept: a later report rebuilds the same verdict from the folder alone
    again = gatewaylab("report", str(folder))
    assert again.returncode == 1
    assert json.loads((folder / "verdict.json").read_text())["metrics"] == v["metrics"]
    cases = ET.parse(tmp_path / "compare.xml").getroot().findall(".//testcase")
    assert any(c.get("name").endswith("client.rate_5xx") and c.find("failure") is not None for c in cases)
    # two comparisons can be diffed
    diff = gatewaylab("compare-diff", str(folder), str(folder))
    assert diff.returncode == 0 and "0 metric(s) changed verdict" in diff.stdout


def test_a_service_file_with_a_bad_url_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "svc.yaml"
    bad.write_text("name: x\ncommand: [./x]\nmetrics: http://10.0.0.1:{port}/metrics\n")
    got = gatewaylab("compare", str(USER / "scenario.yaml"), "--baseline-service", str(bad),
                     "--candidate-service", str(bad), "--reports", str(tmp_path / "reports"))
    assert got.returncode == 2 and "metrics" in got.stderr and "127.0.0.1" in got.stderr
    assert not (tmp_path / "reports" / "compare").exists() or not any((tmp_path / "reports" / "compare").iterdir())


def test_a_revision_that_reintroduces_the_leak_fails_regress(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("the project is not a git clone here: there is no revision to build")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    fixed = clone / "goservices" / "patterns" / "unclosedbody" / "fixed.go"
    text = fixed.read_text()
    assert "Close()" in text
    # a "refactoring" that drops the drain-and-close: the body is read a little and left open
    fixed.write_text(text.replace("\t\tdefer resp.Body.Close()\n\t\tio.Copy(io.Discard, resp.Body)\n",
                                  "\t\tio.ReadAll(io.LimitReader(resp.Body, 1))\n"))
    assert fixed.read_text() != text
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "-C", str(clone), *ident, "commit", "-qam", "reintroduce the leak"], check=True)
    scenario = shortened(SCENARIO_DIR / "unclosed-body.yaml", tmp_path / "unclosed-body.yaml", 15)
    junit = tmp_path / "regress.xml"
    got = gatewaylab("regress", str(scenario), "--repo", str(clone), "--candidate-ref", "HEAD", "--trials", "1",
                     "--reports", str(tmp_path / "reports"), "--junit", str(junit))
    assert got.returncode == 1, got.stdout + got.stderr
    cases = ET.parse(junit).getroot().findall(".//testcase")
    failed = {c.get("name"): c.find("failure").get("message") for c in cases if c.find("failure") is not None}
    assert "fixed meets its expectations" in failed, failed
    assert "replicas.a.pool_waiters_peak" in failed["fixed meets its expectations"]
    assert all(c.get("classname") == "gatewaylab.unclosed-body" for c in cases)
    index = next((tmp_path / "reports" / "regress").glob("*/index.html")).read_text()
    assert "comparison.html" in index and "replicas.a.pool_waiters_peak" in index
    assert not (clone / ".git" / "worktrees").exists() or not any((clone / ".git" / "worktrees").iterdir())


def test_a_revision_that_does_not_build_is_exit_2_with_its_log(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("the project is not a git clone here: there is no revision to build")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    (clone / "goservices" / "cmd" / "refsvc" / "broken.go").write_text("package main\n\nfunc broken() { undefined() }\n")
    subprocess.run(["git", "-C", str(clone), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "break"], check=True)
    got = gatewaylab("compare", "unclosed-body", "--repo", str(clone), "--baseline", "fixed", "--candidate-ref", "HEAD",
                     "--reports", str(tmp_path / "reports"))
    assert got.returncode == 2, got.stdout + got.stderr
    assert "undefined" in got.stderr and "build.log" in got.stderr
    shutil.rmtree(clone)
