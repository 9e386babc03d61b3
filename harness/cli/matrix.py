"""`gatewaylab catalogue --gateway all|KIND`: the scenarios about the gateway's view, behind each gateway.

One table, scenario/variant x gateway: client errors, ejections, the bypass figure, the one-line account
and the verdict against that gateway's expectations (a variant's expect_on.<kind>, else its expect).
A variant whose settings a gateway cannot express is a cell that says why, not a run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rich.table import Table

from harness import scenario as scenarios
from harness.cli import catalogue, terminal
from harness.cli.terminal import table
from harness.record import folder as rf
from harness.record.folder import stamped
from harness.report import pages
from harness.stack import gateways

# scenario -> the variants the matrix runs (None: its default variants). unclosed-body with its half-fixes, and
# one of them behind a latency check (Caddy only); status-not-counted with a POST.
MATRIX = {
    "unclosed-body": ["buggy", "fixed", "client-timeout", "client-timeout-latency", "request-context"],
    "status-not-counted": ["get-500-default", "get-500-listed", "get-200-error", "get-503-listed", "post-500-listed"],
    "timeout-mismatch": None,
    "single-upstream": None,
    "unread-request-body": None,
    "defer-goroutine-panic": None,
}


def kinds(wanted: str) -> list[str]:
    return list(gateways.KINDS) if wanted == "all" else [wanted]


def plan(kind: str, all_variants: bool) -> list[tuple[scenarios.Scenario, list[str], dict[str, str]]]:
    """Per scenario behind `kind`: the variants to run, and those refused (variant -> why)."""
    out = []
    for name, chosen in MATRIX.items():
        s = scenarios.on_gateway(scenarios.load(name), kind)
        variants = list(s.variants) if all_variants else (chosen or list(s.default_variants))
        refused = {}
        for v in variants:
            reasons = gateways.plugin(kind).refusals(s.resolve(v).gateway)
            if reasons:
                refused[v] = " ".join(reasons)
        out.append((s, [v for v in variants if v not in refused], refused))
    return out


def refused_rows(s: scenarios.Scenario, kind: str, refused: dict[str, str]) -> list[dict]:
    return [{"scenario": s.name, "variant": v, "gateway": kind, "verdict": "not expressible", "says": why,
             "errors": {}, "ejections": None, "bypass": None, "report": None} for v, why in refused.items()]


def cell(r: dict) -> str:
    if r["verdict"] == "not expressible":
        return f"not expressible: {r['says']}"
    errors = sum(n for k, n in r["errors"].items() if k == "0" or k >= "5")
    return f"{r['verdict'].upper()} | 5xx/no answer {errors} | ejections {r['ejections']} | bypass {r['bypass']:.0%} | {r['says']}"


def grid(rows: list[dict]) -> tuple[list[str], list[tuple[str, str]], dict]:
    kinds_seen = [k for k in gateways.KINDS if any(r["gateway"] == k for r in rows)]
    keys = list(dict.fromkeys((r["scenario"], r["variant"]) for r in rows))
    cells = {(r["scenario"], r["variant"], r["gateway"]): r for r in rows}
    return kinds_seen, keys, cells


def markdown(rows: list[dict]) -> str:
    kinds_seen, keys, cells = grid(rows)
    lines = ["| scenario/variant | " + " | ".join(kinds_seen) + " |", "|---|" + "---|" * len(kinds_seen)]
    for s, v in keys:
        lines.append(f"| {s}/{v} | " + " | ".join(cell(cells[(s, v, k)]) if (s, v, k) in cells else "not run"
                                                    for k in kinds_seen) + " |")
    return "\n".join(lines) + "\n"


def write(rows: list[dict], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matrix.json").write_text(json.dumps(rows, indent=2))
    (folder / "matrix.md").write_text(markdown(rows))
    kinds_seen, keys, cells = grid(rows)
    out = folder / "index.html"
    out.write_text(pages.render("matrix.html.j2", kinds=kinds_seen, keys=keys, cells=cells, cell=cell,
                                link=lambda p: os.path.relpath(p, folder) if p else None))
    return out


def text_table(rows: list[dict]) -> Table:
    kinds_seen, keys, cells = grid(rows)
    t = table("scenario/variant", *kinds_seen)
    for s, v in keys:
        t.add_row(f"{s}/{v}", *(cell(cells[(s, v, k)]) if (s, v, k) in cells else "not run" for k in kinds_seen))
    return t


def run(wanted: str, all_variants: bool, reports: Path, run_one) -> int:
    """Every gateway-view scenario behind each gateway asked for (run_one: the CLI's one-run function)."""
    planned = [(kind, plan(kind, all_variants)) for kind in kinds(wanted)]  # every file valid before anything starts
    for kind, _ in planned:
        gateways.plugin(kind).binary()  # not installed: exit 2 before anything starts
    rows, code = [], 0
    for kind, scenario_plans in planned:
        for s, variants, refused in scenario_plans:
            rows += refused_rows(s, kind, refused)
            if not variants:
                continue
            one, run_dir = run_one(s, variants, reports)
            if one == 130:
                return 130
            code = max(code, one)
            if (run_dir / rf.SUMMARY).exists():
                rows += catalogue.rows(json.loads((run_dir / rf.SUMMARY).read_text()), run_dir / rf.REPORT)
    return finish(rows, reports, code)


def finish(rows: list[dict], reports: Path, code: int) -> int:
    out = write(rows, stamped(reports / "matrix"))
    terminal.console().print(text_table(rows))
    print(f"\nGateway matrix: {out}")
    return code
