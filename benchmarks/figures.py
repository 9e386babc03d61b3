"""Each section of `make bench`: (figures as data, lines of text). The measuring is in the modules it calls."""

from __future__ import annotations

import json
from pathlib import Path

from common import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "runs"


def loadgen(args) -> tuple[dict, list[str]]:
    import loadgen as lg
    f = lg.run()
    r = f["rps"]
    return f, [
        "## The load generator (target: nginx answering 200 from memory; "
        f"{f['connections_or_users']} connections/users, {f['seconds_each']} s each, medians of {len(f['rounds'])} rounds)",
        "", "| generator | req/s |", "|---|---|",
        *[f"| {k.replace('_', ' ')} | {v:,.0f} |" for k, v in r.items()],
        "",
        f"- harness / bare Locust: {f['harness_of_bare']:.2f} (goal: at least 0.90, i.e. recording costs at most 10 %)"
        f" - {'met' if f['harness_of_bare'] >= 0.9 else 'MISSED'}; per round: "
        + ", ".join(f"{r['harness']['rps'] / r['bare_locust']['rps']:.2f}" for r in f["rounds"]),
        f"- harness / wrk: {f['harness_of_wrk']:.3f} (wrk is the physical limit, not a target)",
        f"- two Locust workers / one: {f['two_workers_of_one']:.2f} (workers add throughput until the cores run out)",
    ]


def instrumentation(args) -> tuple[dict, list[str]]:
    import instrumentation as ins
    f = ins.run()
    return f, [
        f"## What watching a replica costs (wrk, {f['connections']} connections, straight to a fixed replica; medians of {len(f['rounds'])} rounds)",
        "",
        f"- bare (-instrument=false, nobody scraping): {f['rps_off']:,.0f} req/s",
        f"- instrumented and watched as in a run: {f['rps_on']:,.0f} req/s",
        f"- cost: {f['cost']:.1%} (goal: at most 3 %) - {'met' if f['cost'] <= 0.03 else 'MISSED'}; per round (off, on): "
        + ", ".join(f"{1 - r['on'] / r['off']:+.1%}" for r in f["rounds"]),
    ]


def _run_dirs(args) -> list[Path]:
    dirs = [d for d in sorted(FIXTURES.iterdir()) if (d / "run.json").exists()]
    cat = _catalogue(args)
    if cat is not None:
        dirs += sorted({Path(r["report"]).parent for r in json.loads((cat / "catalogue.json").read_text())})
    return dirs


def settle(args) -> tuple[dict, list[str]]:
    from harness.analysis import records
    from harness.analysis.settle import settle as settle_one
    rows = []
    for d in _run_dirs(args):
        for v in records.variants(d):
            try:
                rows.append({"run": d.name, **settle_one(d, v)})
            except (OSError, ValueError, KeyError) as e:
                rows.append({"run": d.name, "variant": v, "error": f"{type(e).__name__}: {e}"})
    ok = [r for r in rows if r.get("settled_s") is not None]
    return {"rows": rows}, [
        "## Time to verdict (seconds of load before every expectation held or failed as it does at the end; 5 s steps)",
        "", "| run | variant | settled at (s) | load (s) | verdict | last to settle |", "|---|---|---|---|---|---|",
        *[f"| {r['run']} | {r['variant']} | {r.get('settled_s', '-')} | {r.get('duration_s', '-')} | {r.get('verdict', r.get('error'))} "
          f"| {r.get('last_to_settle') or '-'} |" for r in rows],
        "", f"- {sum(1 for r in ok if r['settled_s'] < r['duration_s'])} of {len(ok)} variants settled before their load ended.",
    ]


def _catalogue(args) -> Path | None:
    if args.catalogue:
        return args.catalogue
    found = sorted((ROOT / "reports" / "catalogue").glob("*/catalogue.json"))
    return found[-1].parent if found else None


def catalogue(args) -> tuple[dict, list[str]]:
    from harness.record.journal import read
    cat = _catalogue(args)
    if cat is None:
        return {"wall_s": None}, ["## The catalogue", "", "- no catalogue folder under reports/catalogue/: run `make catalogue` first."]
    runs = sorted({Path(r["report"]).parent for r in json.loads((cat / "catalogue.json").read_text())})
    times = [j["t"] for d in runs for j in read(d / "journal.jsonl")]
    wall = max(times) - min(times) if times else None
    return {"folder": str(cat), "runs": len(runs), "wall_s": wall}, [
        "## The catalogue", "",
        f"- {cat}: {len(runs)} runs, {wall / 60:.1f} min from the first run's start to the last run's end (goal: 10 min)"
        if wall else f"- {cat}: no journal to time.",
    ]


def report(args) -> tuple[dict, list[str]]:
    import report_rebuild
    f = report_rebuild.run()
    return f, ["## Rebuilding a report", "",
               f"- a 20-minute run at 70 req/s ({f['requests']} requests): {f['took_s']} s, peak RSS {f['peak_rss_mb']} MB"
               f" (goal: under {f['goal_s']} s)"]
