"""The article's claims, judged: claims/article.yaml checked against what the project runs, and the table.

Each row's evidence is a scenario variant (with a measured figure from its calibration file) or a Go
test, so `gatewaylab claims` can tell when a row points at something that no longer exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness import scenario as scenarios
from harness.errors import GatewaylabError
from harness.host.tools import ROOT

CLAIMS_FILE = ROOT / "claims" / "article.yaml"
GO_ROOT = ROOT / "goservices"
VERDICTS = {"holds": "holds", "wrong": "wrong", "only-when": "holds only when"}


class ClaimsError(GatewaylabError):
    exit_code = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Line = Annotated[str, Field(min_length=3, max_length=400)]


class Evidence(_Strict):
    """One of: a scenario variant (and optionally one of its expectations' metrics), a Go test, or -
    only for a product the project cannot run - a named source."""
    scenario: str | None = None
    variant: str | None = None
    metric: str | None = None
    go_test: Annotated[str, Field(pattern=r"^[a-z0-9_/]+\.Test\w+$")] | None = None
    source: Line | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Evidence:
        forms = [self.scenario is not None, self.go_test is not None, self.source is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of scenario (+ variant), go_test or source")
        if (self.scenario is None) != (self.variant is None):
            raise ValueError("a scenario needs its variant, and a variant its scenario")
        if self.metric is not None and self.scenario is None:
            raise ValueError("metric belongs to a scenario variant")
        return self

    @property
    def runs(self) -> bool:
        return self.source is None


class Claim(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    section: Annotated[str, Field(min_length=1, max_length=40)]
    claim: Line
    verdict: Literal["holds", "wrong", "only-when"]
    when: Line | None = None
    finding: Line
    evidence: list[Evidence] = Field(min_length=1)

    @model_validator(mode="after")
    def _when(self) -> Claim:
        if (self.verdict == "only-when") != (self.when is not None):
            raise ValueError("`when` is required for verdict only-when, and only there")
        return self


class Article(_Strict):
    article: Line
    claims: list[Claim] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Article:
        seen = [c.id for c in self.claims]
        dup = sorted({i for i in seen if seen.count(i) > 1})
        if dup:
            raise ValueError(f"claim ids must be unique; repeated: {', '.join(dup)}")
        return self


def load(path: Path = CLAIMS_FILE) -> Article:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ClaimsError(f"Cannot read {path}: {e}.") from None
    except yaml.YAMLError as e:
        raise ClaimsError(f"{path}: this is not valid YAML ({e}).") from None
    try:
        return Article.model_validate(data)
    except ValidationError as e:
        lines = [f"  {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg'].removeprefix('Value error, ')}"
                 for err in e.errors(include_url=False)]
        raise ClaimsError(f"{path} is not a valid claims file:\n" + "\n".join(lines)) from None


def go_test_file(ref: str) -> Path | None:
    """The *_test.go file that defines the test `path.TestName`, or None."""
    pkg, name = ref.rsplit(".", 1)
    folder = GO_ROOT / pkg
    pattern = re.compile(rf"^func {re.escape(name)}\(t \*testing\.T\)", re.M)
    for f in sorted(folder.glob("*_test.go")) if folder.is_dir() else []:
        if pattern.search(f.read_text(encoding="utf-8")):
            return f
    return None


def measured(scenario: str, variant: str, metric: str) -> list | None:
    """The calibration values of one expectation of a variant, or None."""
    path = scenarios.SCENARIO_DIR / "calibration" / f"{scenario}.json"
    if not path.exists():
        return None
    rows = json.loads(path.read_text())["expectations"]
    return next((r["values"] for r in rows if r["variant"] == variant and r["metric"] == metric), None)


def problems(article: Article) -> list[str]:
    """Every row whose evidence does not exist or is not run by `make test` / `make catalogue`."""
    out = []
    for c in article.claims:
        runnable = False
        for e in c.evidence:
            where = f"{c.id}: "
            if e.go_test is not None:
                if go_test_file(e.go_test) is None:
                    out.append(where + f"no Go test {e.go_test} (goservices/{e.go_test.rsplit('.', 1)[0]}/*_test.go)")
                else:
                    runnable = True
            elif e.scenario is not None:
                try:
                    s = scenarios.load(e.scenario)
                except GatewaylabError:
                    out.append(where + f"no scenario {e.scenario!r}")
                    continue
                if e.variant not in s.variants:
                    out.append(where + f"scenario {e.scenario} has no variant {e.variant!r}")
                    continue
                runnable = runnable or e.variant in s.default_variants
                if e.metric is not None:
                    if e.metric not in {x.metric for x in s.variants[e.variant].expect}:
                        out.append(where + f"{e.scenario}/{e.variant} has no expectation on {e.metric}")
                    elif measured(e.scenario, e.variant, e.metric) is None:
                        out.append(where + f"{e.scenario}/{e.variant}: {e.metric} has no calibration figures")
        only_docs = all(e.source is not None for e in c.evidence)  # a product this machine cannot run
        if c.verdict != "holds" and not runnable and not only_docs:
            out.append(f"{c.id}: a '{c.verdict}' row needs a Go test or a default variant (run by make test / make catalogue)")
    return out


def _span(values: list) -> str:
    nums = [v for v in values if isinstance(v, (int, float))]
    if not nums:
        return " / ".join(dict.fromkeys(str(v) for v in values))  # text figures (a stack's line): each once
    lo, hi = min(nums), max(nums)
    fmt = (lambda x: f"{x:g}")
    return f"{fmt(lo)}" if lo == hi else f"{fmt(lo)}-{fmt(hi)}"


def evidence_text(e: Evidence) -> str:
    if e.go_test is not None:
        pkg, name = e.go_test.rsplit(".", 1)
        return f"Go test `{name}` ({pkg})"
    if e.source is not None:
        return f"not run here: {e.source}"
    text = f"`{e.scenario}` / `{e.variant}`"
    if e.metric is not None:
        values = measured(e.scenario, e.variant, e.metric)
        if values:
            text += f": {e.metric} {_span(values)} ({len(values)} runs)"
    return text


def documented_only(article: Article) -> list[str]:
    """Rows that rest on a vendor's documentation alone: about products the project cannot run."""
    return [c.id for c in article.claims if all(e.source is not None for e in c.evidence)]


def counts(article: Article) -> dict[str, int]:
    return {v: sum(1 for c in article.claims if c.verdict == v) for v in VERDICTS}


def verdict_text(c: Claim) -> str:
    return f"holds only when {c.when}" if c.verdict == "only-when" else c.verdict


def markdown(article: Article) -> str:
    n = counts(article)
    lines = [f"{len(article.claims)} claims, recommendations and tools of the article: {n['holds']} hold, "
             f"{n['wrong']} are wrong, {n['only-when']} hold only under a condition. "
             f"Every row's evidence is a scenario variant or a Go test the project runs, except "
             f"{len(documented_only(article))} about a product that cannot run here (its documentation is named). "
             "Figures are the measured range of the variant's calibration runs "
             "(`scenarios/calibration/`); `gatewaylab claims` prints this table.", "",
             "| § | the article says | verdict | what happens | evidence |", "|---|---|---|---|---|"]
    for c in article.claims:
        cells = [c.section, c.claim, f"**{verdict_text(c)}**", c.finding, "; ".join(evidence_text(e) for e in c.evidence)]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n"
