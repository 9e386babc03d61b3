"""The run folder as a format: a run cut short still reports, other formats are read or refused clearly.

On the recorded folder tests/fixtures/runs/unclosed-body-fixed-step (format 1: before run.json
carried a format), copied to a temporary folder; seconds, no process started.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import RunError
from harness.record import folder as rf
from harness.record.folder import FORMAT, RunFolder, read_jsonl
from harness.report import build

FIXTURE = Path(__file__).parent / "fixtures" / "runs" / "unclosed-body-fixed-step"


@pytest.fixture
def run(tmp_path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(FIXTURE, dst)
    return dst


def _jsonl_files(run: Path) -> list[Path]:
    files = [p for p in run.rglob("*") if p.is_file() and (p.suffix == ".jsonl" or p.name == "access.log")]
    assert {p.name for p in files} >= {"journal.jsonl", "requests.jsonl", "samples.jsonl", "access.log"}
    return files


def test_a_truncated_last_line_in_every_jsonl_file_still_reports(run):
    whole, _ = build.write(run)
    for p in _jsonl_files(run):
        text = p.read_text()
        if text.strip():
            last = text.rstrip("\n").rsplit("\n", 1)[-1]
            p.write_text(text.rstrip("\n") + "\n" + last[: len(last) // 2])  # SIGKILL mid-write: half a record, no newline
    cut, report = build.write(run)
    assert report.exists() and "report" in report.name
    a, b = whole["variants"]["fixed"], cut["variants"]["fixed"]
    assert b["client"]["requests"] == a["client"]["requests"]
    assert b["verdict"] == a["verdict"]


def test_a_damaged_line_before_the_end_is_an_error_naming_the_file_and_line(run):
    p = run / "variants" / "fixed" / "samples.jsonl"
    lines = p.read_text().splitlines()
    lines[3] = lines[3][:10]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(RunError, match=r"samples.jsonl, line 4: not a JSON record"):
        read_jsonl(p)


def test_formats(run):
    assert "format" not in json.loads((run / "run.json").read_text())
    assert RunFolder(run).format() == 1  # read alike: same files
    assert RunFolder(run).scenario().name == "unclosed-body"
    header = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**header, "format": FORMAT + 1}))
    with pytest.raises(RunError, match=rf"newer gatewaylab \(run-folder format {FORMAT + 1}\).*formats 1 to {FORMAT}"):
        RunFolder(run).scenario()
    with pytest.raises(RunError, match="newer gatewaylab"):
        build.write(run)


def test_a_scenario_todays_model_refuses_is_refused_with_a_sentence(run):
    text = (run / "scenario.yaml").read_text()
    (run / "scenario.yaml").write_text(text + "retired_field: 3\n")
    with pytest.raises(RunError, match=r"no longer reads as a scenario of this gatewaylab.*retired_field.*older version"):
        RunFolder(run).scenario()


def test_a_new_folder_says_its_format_and_two_in_one_second_do_not_collide(tmp_path):
    s = RunFolder(FIXTURE).scenario()
    a = RunFolder.create(tmp_path, s, ["fixed"])
    b = RunFolder.create(tmp_path, s, ["fixed"])
    assert a.path != b.path and a.path.parent == b.path.parent == tmp_path
    assert json.loads((a / rf.RUN).read_text()) == {"format": FORMAT, "scenario": "unclosed-body", "variants": ["fixed"]}
    assert a.scenario() == s and a.planned() == ["fixed"] and a.variants() == []
