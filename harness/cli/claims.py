"""`gatewaylab claims`: the article's claims, each with its verdict and the evidence the project runs."""

from __future__ import annotations

import argparse
import sys

from harness.report import claims


def add_parser(sub) -> None:
    p = sub.add_parser("claims", help="what the article claims, judged, with the scenario or Go test that shows it")
    p.add_argument("--markdown", action="store_true", help="print the README's markdown table")
    p.add_argument("--verdict", choices=sorted(claims.VERDICTS), help="only the rows with this verdict")


def run(args: argparse.Namespace) -> int:
    article = claims.load()
    bad = claims.problems(article)
    if args.verdict:
        article = article.model_copy(update={"claims": [c for c in article.claims if c.verdict == args.verdict]})
    if args.markdown:
        print(claims.markdown(article), end="")
    else:
        _table(article)
    if bad:
        print(f"\ngatewaylab: {len(bad)} rows point at evidence that does not exist or is not run; "
              f"fix {claims.CLAIMS_FILE}:", file=sys.stderr)
        for line in bad:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


def _table(article: claims.Article) -> None:
    from rich.console import Console
    from rich.table import Table

    n = claims.counts(article)
    t = Table(title=f"The article ({article.article}): {len(article.claims)} claims - "
                    f"{n['holds']} hold, {n['wrong']} wrong, {n['only-when']} hold only when ...",
              show_lines=True)
    for col in ("§", "the article says", "verdict", "what happens", "evidence"):
        t.add_column(col, overflow="fold")
    style = {"holds": "green", "wrong": "red", "only-when": "yellow"}
    for c in article.claims:
        t.add_row(c.section, c.claim, f"[{style[c.verdict]}]{claims.verdict_text(c)}[/]", c.finding,
                  "\n".join(claims.evidence_text(e) for e in c.evidence))
    Console().print(t)
