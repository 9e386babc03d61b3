"""The article's claims table: every row's evidence exists and is run, and the README shows the table."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from harness.report import claims

ROOT = claims.ROOT


def test_every_row_points_at_evidence_that_exists_and_is_run():
    article = claims.load()
    assert claims.problems(article) == []
    # documentation instead of a run only where the product cannot run here (Kong)
    assert claims.documented_only(article) == ["kong-default-timeout-6s"]
    assert sum(claims.counts(article).values()) == len(article.claims)


def test_the_readme_shows_the_table_as_the_command_prints_it():
    table = claims.markdown(claims.load())
    assert table in (ROOT / "README.md").read_text(), "README out of date: paste `gatewaylab claims --markdown`"


def _write(tmp_path, rows):
    path = tmp_path / "article.yaml"
    path.write_text(yaml.safe_dump({"article": "the article", "claims": rows}, allow_unicode=True))
    return path


ROW = {"id": "x", "section": "1", "claim": "timeouts are not counted", "verdict": "wrong",
       "finding": "they are", "evidence": [{"go_test": "patterns/timeoutmismatch.TestNope"}]}


@pytest.mark.parametrize("change, message", [
    ({"verdict": "only-when"}, "`when` is required"),
    ({"evidence": [{"scenario": "timeout-mismatch"}]}, "needs its variant"),
    ({"evidence": [{"go_test": "patterns/x.TestY", "source": "docs"}]}, "exactly one of"),
    ({"evidence": []}, "at least 1"),
    ({"verdict": "maybe"}, "verdict"),
])
def test_a_malformed_row_is_refused_naming_its_field(tmp_path, change, message):
    with pytest.raises(claims.ClaimsError) as e:
        claims.load(_write(tmp_path, [{**ROW, **change}]))
    assert message in str(e.value) and "claims.0" in str(e.value)


def test_evidence_that_does_not_exist_or_is_not_run_is_named(tmp_path):
    rows = [
        ROW,  # a Go test that does not exist
        {**ROW, "id": "y", "evidence": [{"scenario": "timeout-mismatch", "variant": "no-such"}]},
        {**ROW, "id": "z", "evidence": [{"scenario": "timeout-mismatch", "variant": "slow-post"}]},  # not a default variant
        {**ROW, "id": "w", "evidence": [{"source": "a vendor's docs"}, {"scenario": "timeout-mismatch", "variant": "slow-post"}]},
        {**ROW, "id": "v", "evidence": [{"scenario": "timeout-mismatch", "variant": "slow-get", "metric": "client.p99_ms"}]},
        {**ROW, "id": "ok", "evidence": [{"go_test": "patterns/unbufferedchan.TestBuggyLeaksOneGoroutinePerTimeout"}]},
    ]
    found = claims.problems(claims.load(_write(tmp_path, rows)))
    text = "\n".join(found)
    assert "x: no Go test patterns/timeoutmismatch.TestNope" in text
    assert "y: scenario timeout-mismatch has no variant 'no-such'" in text
    assert "z: a 'wrong' row needs a Go test or a default variant" in text
    assert "w: a 'wrong' row needs" in text
    assert "v: timeout-mismatch/slow-get has no expectation on client.p99_ms" in text
    assert not any(line.startswith("ok:") for line in found)


def test_the_command_prints_the_table_and_filters_by_verdict():
    out = subprocess.run([sys.executable, "-m", "harness", "claims", "--markdown", "--verdict", "wrong"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows and all("| **wrong** |" in r for r in rows)
    assert len(rows) == claims.counts(claims.load())["wrong"]


def test_scenarios_that_cite_the_article_name_it_by_its_title():
    from harness import scenario as scenarios

    title = claims.load().article
    citing = [n for n in scenarios.available() if "article" in scenarios.load(n).description.lower()]
    assert citing, "no scenario cites the article"
    assert [n for n in citing if title not in scenarios.load(n).description] == []
    assert title in (ROOT / "README.md").read_text()
