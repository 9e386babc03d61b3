"""The workshop's index of scenarios: the story, what to watch, the article's claims it tests,
and the buggy-vs-fixed Go code side by side, read from the sources as `gatewaylab explain` does.

Returns plain data (lines of (css class, text) tokens); the template does the HTML.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from pygments.lexers import GoLexer
from pygments.token import STANDARD_TYPES

from harness import scenario as scenarios
from harness.cli.explain import source
from harness.host.tools import ROOT
from harness.report import claims
from harness.scenario import Scenario

_LEXER = GoLexer(stripnl=False, ensurenl=False)


def _css(ttype) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def highlighted(text: str) -> list[list[tuple[str, str]]]:
    """Go source -> one list of (pygments css class, text) per line."""
    lines: list[list[tuple[str, str]]] = [[]]
    for ttype, value in _LEXER.get_tokens(text):
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((_css(ttype), part))
    if text.endswith("\n") and not lines[-1]:
        lines.pop()
    return lines


def side_by_side(a: Path, b: Path) -> list[dict]:
    """Rows {kind, left, right}: kind is equal, changed, removed or added; left/right are
    (line number, tokens) or None. The whole files, so the change is read in its context."""
    la, lb = a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8")
    ha, hb = highlighted(la), highlighted(lb)
    rows = []
    matcher = difflib.SequenceMatcher(None, la.splitlines(), lb.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        kind = {"equal": "equal", "replace": "changed", "delete": "removed", "insert": "added"}[tag]
        for k in range(max(i2 - i1, j2 - j1)):
            left = (i1 + k + 1, ha[i1 + k]) if i1 + k < i2 else None
            right = (j1 + k + 1, hb[j1 + k]) if j1 + k < j2 else None
            rows.append({"kind": kind, "left": left, "right": right})
    return rows


def diffs(s: Scenario) -> list[dict]:
    """The base build (buggy where there is one) against every other build of the scenario."""
    builds = list(dict.fromkeys(v.build or n for n, v in s.variants.items()))
    base = "buggy" if "buggy" in builds else builds[0]
    out = []
    for other in builds:
        if other == base:
            continue
        a, b = source(s.pattern, base), source(s.pattern, other)
        missing = [str(p.relative_to(ROOT)) for p in (a, b) if not p.exists()]
        out.append({"base": base, "other": other, "left": str(a.relative_to(ROOT)), "right": str(b.relative_to(ROOT)),
                    "missing": missing, "rows": [] if missing else side_by_side(a, b)})
    return out


def story(s: Scenario) -> tuple[str, str]:
    """(the story, what to watch): the description's paragraph that starts with 'Watch:' is the latter."""
    paras = [p.strip() for p in s.description.strip().split("\n\n")]
    watch = [p for p in paras if p.startswith("Watch:")]
    rest = [p for p in paras if not p.startswith("Watch:")]
    return "\n\n".join(rest), " ".join(w.removeprefix("Watch:").strip() for w in watch)


def claims_of(name: str, article: claims.Article | None) -> list[dict]:
    if article is None:
        return []
    return [{"section": c.section, "claim": c.claim, "verdict": claims.verdict_text(c), "finding": c.finding,
             "variants": sorted({e.variant for e in c.evidence if e.scenario == name})}
            for c in article.claims if any(e.scenario == name for e in c.evidence)]


def entry(s: Scenario, article: claims.Article | None) -> dict:
    told, watch = story(s)
    return {
        "name": s.name, "title": s.title, "story": told, "watch": watch, "backend": s.backend,
        "duration_s": s.load.duration_s,
        "variants": [{"name": n, "description": v.description, "default": n in s.default_variants}
                     for n, v in s.variants.items()],
        "claims": claims_of(s.name, article),
        "diffs": diffs(s),
    }


def index() -> list[dict]:
    """Every scenario of scenarios/, in name order; one that does not load is listed with its error."""
    try:
        article = claims.load()
    except claims.ClaimsError:
        article = None
    out = []
    for name in scenarios.available():
        try:
            out.append(entry(scenarios.load(name), article))
        except scenarios.ScenarioError as e:
            out.append({"name": name, "error": str(e)})
    return out


def highlight_css() -> str:
    """Pygments' own colours for the token classes of highlighted(), under .hl."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".hl")
