"""Bad input: a clear message naming what is wrong, exit 2, and nothing started or written."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.host import tools
from harness.errors import ToolMissing

ROOT = Path(__file__).resolve().parent.parent


def gatewaylab(*args, reports: Path | None = None):
    extra = ["--reports", str(reports)] if reports is not None else []
    return subprocess.run([sys.executable, "-m", "harness", *args, *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_list_shows_scenarios():
    out = gatewaylab("list")
    assert out.returncode == 0
    assert "unclosed-body" in out.stdout


def test_unknown_scenario(tmp_path):
    out = gatewaylab("run", "no-such-scenario", reports=tmp_path)
    assert out.returncode == 2
    assert "no scenario called 'no-such-scenario'" in out.stderr and "unclosed-body" in out.stderr
    assert not any(tmp_path.iterdir())


def test_invalid_scenario_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "scenarios" / "unclosed-body.yaml").read_text().replace("max_fails: 3", "max_fails: lots"))
    reports = tmp_path / "reports"
    out = gatewaylab("run", str(bad), reports=reports)
    assert out.returncode == 2
    assert str(bad) in out.stderr and "gateway.max_fails" in out.stderr
    assert not reports.exists()


def test_unknown_variant(tmp_path):
    out = gatewaylab("run", "unclosed-body", "--variant", "buggy,nope", reports=tmp_path)
    assert out.returncode == 2
    assert "no variant 'nope'" in out.stderr and "client-timeout" in out.stderr
    assert not any(tmp_path.iterdir())


def test_report_of_a_missing_folder(tmp_path):
    out = gatewaylab("report", str(tmp_path / "nothing"))
    assert out.returncode == 2
    assert "does not exist" in out.stderr


def test_report_of_a_folder_that_is_not_a_run(tmp_path):
    out = gatewaylab("report", str(tmp_path))
    assert out.returncode == 2
    assert "not a gatewaylab run folder" in out.stderr


def test_missing_binary_says_how_to_build_it(tmp_path):
    with pytest.raises(ToolMissing, match="make setup"):
        tools._built(tmp_path / "refsvc", "The reference service")


def test_the_harness_validates_exactly_the_patterns_refsvc_registers():
    """The Go registry (goservices/patterns) is the source: `refsvc -list` must equal harness.scenario.PATTERNS."""
    from harness.scenario import PATTERNS

    out = subprocess.run([str(tools.find().refsvc), "-list"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    registry = json.loads(out.stdout)
    harness_side = {p: sorted(v) for p, v in PATTERNS.items() if p != "own-service"}  # own-service: a user's binary
    assert harness_side == registry, "update harness/scenario/vocabulary.py PATTERNS from `bin/refsvc -list`"


def test_explain_shows_the_story_and_the_code_difference():
    out = gatewaylab("explain", "unclosed-body")
    assert out.returncode == 0, out.stderr
    assert "Outbound response body never closed" in out.stdout
    assert "Code: buggy -> fixed" in out.stdout
    assert "+\t\tdefer resp.Body.Close()" in out.stdout
    assert "expects replicas.a.ejection_episodes >= 2" in out.stdout


def test_a_reader_that_leaves_early_gets_no_traceback(monkeypatch, capsys):
    # `gatewaylab list | head -1`: the pipe's reader is gone before the first line is written
    import os

    from harness.cli.main import main

    r, w = os.pipe()
    os.close(r)
    with capsys.disabled(), open(w, "w", buffering=1) as gone:
        monkeypatch.setattr(sys, "stdout", gone)
        assert main(["list"]) == 1
        monkeypatch.undo()
