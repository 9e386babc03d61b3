"""`gatewaylab catalogue`: every scenario's default variants, one table, a one-line verdict each.

Runs the scenarios one after the other (each is a normal run with its own
folder and report) and writes reports/catalogue/<time>/index.html linking them.
`--from RUN_DIR ...` builds the table from existing runs instead; `--shard I/N` runs (or
reads) one deterministic slice, and `gatewaylab merge` joins the slices (cli/merge.py).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from rich.table import Table

from harness import scenario as scenarios
from harness.cli import parallel, terminal
from harness.cli.terminal import table
from harness.errors import ScenarioError
from harness.record import folder as rf
from harness.scenario import shards
from harness.record.folder import stamped
from harness.report import pages



def one_liner(v: dict) -> str:
    """What the gateway made of this variant, in words, from the figures."""
    reps = v["replicas"].values()
    episodes = sum(r.get("ejection_episodes") or 0 for r in reps)
    counted = sum(r.get("failed_attempts") or 0 for r in reps)
    leaked = any((r.get("stacks_grown") or 0) > 0 for r in reps)
    b = v["bypass"]
    parts = []
    if episodes:
        parts.append(f"the passive check ejected it ({episodes} episode{'s' if episodes > 1 else ''})")
    elif counted:
        parts.append(f"{counted} failures counted, never ejected")
    if v["gateway"].get("no_live_upstreams"):
        parts.append(f"{v['gateway']['no_live_upstreams']} x no live upstreams")
    if b["bypassed"]:
        parts.append(f"bypassed: {b['bypassed']} of {b['bad_requests']} bad requests never counted")
    c = v["client"]
    if c.get("rejected"):
        parts.append(f"service rejected {c['rejected']} of {c['requests']} requests (403/421), never counted")
    if c.get("wrong_redirects"):
        parts.append(f"{c['wrong_redirects']} of {c['redirects']} redirects off the public origin")
    if v["gateway"].get("rewritten_redirects"):
        parts.append(f"nginx's proxy_redirect rewrote {v['gateway']['rewritten_redirects']} Locations")
    if leaked and not b["bad_requests"] and not counted:
        parts.append("leak invisible to the gateway")
    elif leaked:
        parts.append("leaks")
    endpoints = c.get("endpoint", {})
    # One route can starve another below any error or slow line (noisy-neighbour): name their
    # p99s once any is above 100 ms (fast loopback answers need no mention).
    if len(endpoints) > 1 and max((e.get("p99_ms") or 0) for e in endpoints.values()) >= 100:
        parts.append("p99 by endpoint: " + ", ".join(f"{k} {e['p99_ms']:g} ms" for k, e in endpoints.items()
                                                     if e.get("p99_ms") is not None))
    return "; ".join(parts) or "no symptom"


def rows(summary: dict, report: Path, unit: str | None = None) -> list[dict]:
    """One row per variant; unit: the suite's unit it came from (a scenario, or a run folder's name)."""
    out = []
    for name, v in summary["variants"].items():
        trends = {r: f.get("goroutine_trend") for r, f in v["replicas"].items()}
        left = {r: f.get("goroutines_left") for r, f in v["replicas"].items()}
        out.append({
            "scenario": summary["scenario"], "variant": name, "gateway": v["gateway"].get("kind", "nginx"),
            "verdict": v["verdict"],
            "errors": {k: n for k, n in v["client"]["status"].items() if k == "0" or k >= "4"},
            "p99_ms": v["client"]["p99_ms"], "goroutine_trend": trends, "goroutines_left": left,
            "ejections": sum(f.get("ejection_episodes") or 0 for f in v["replicas"].values()),
            "bypass": v["bypass"]["figure"], "says": one_liner(v), "report": str(report),
            "unit": unit or summary["scenario"],
        })
    return out


def slice_record(shard: tuple[int, int] | None, units: list[str], universe: list[str]) -> dict:
    """Which slice of which suite a catalogue folder holds: what `gatewaylab merge` checks."""
    return {"shard": list(shard) if shard else [1, 1], "units": units, "universe": universe}


def write(all_rows: list[dict], folder: Path, slice_: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalogue.json").write_text(json.dumps(all_rows, indent=2))
    if slice_ is not None:
        (folder / "shard.json").write_text(json.dumps(slice_, indent=1))
    out = folder / "index.html"
    out.write_text(pages.render("catalogue.html.j2", rows=all_rows, link=lambda p: os.path.relpath(p, folder),
                                left_after=_left))
    return out


def _left(n) -> str:
    return "no data" if n is None else f"{n:+d}"


def new_folder(reports: Path) -> Path:
    return stamped(reports / "catalogue")


def text_table(all_rows: list[dict]) -> Table:
    t = table("scenario/variant", "verdict", "what the gateway made of it")
    for r in all_rows:
        t.add_row(f"{r['scenario']}/{r['variant']}", r["verdict"], r["says"])
    return t


def _jobs(given: str | None, nothing_to_run: bool) -> int:
    """--jobs: a whole number, or auto (parallel.default_jobs); 1 where nothing runs (--from) or the matrix runs."""
    if given is not None and not (given == "auto" or (given.isdigit() and 1 <= int(given) <= parallel.MAX_JOBS)):
        raise ScenarioError(f"--jobs {given}: give a whole number from 1 to {parallel.MAX_JOBS}, or auto.")
    if nothing_to_run:
        if given not in (None, "1"):
            raise ScenarioError("--jobs runs scenarios side by side; with --from (or the --gateway matrix) there is nothing to run.")
        return 1
    return parallel.default_jobs() if given in (None, "auto") else int(given)


def _side_by_side(args, jobs: int, loaded: dict, wanted: dict, chosen: list[str], shard, universe: list[str]) -> int:
    """--jobs N: the chosen scenarios as child runs, N at a time (cli/parallel.py); the same table."""
    out = new_folder(args.reports)
    source = {scenarios.load(g).name: str(g) for g in args.names} if args.names else {}
    units = [parallel.Unit(n, ["run", source.get(n, n), *(x for v in wanted[n] for x in ("--variant", v)), "--reports", str(args.reports)],
                           sum(shards.variant_cost(loaded[n], v) for v in wanted[n]), loaded[n].backend == "docker")
             for n in chosen]
    try:
        parallel.run_all(units, jobs, out / "logs", say=lambda m: print(m, file=sys.stderr))
    except KeyboardInterrupt:
        return 130
    found, code = [], 0
    for u in units:
        code = max(code, u.code if u.code is not None else 1)
        if u.run_dir is not None and (u.run_dir / rf.SUMMARY).exists():
            found += rows(json.loads((u.run_dir / rf.SUMMARY).read_text()), u.run_dir / rf.REPORT, unit=u.name)
        else:
            print(f"gatewaylab: {u.name} wrote no summary (exit {u.code}); its output: {out / 'logs' / (u.name + '.log')}",
                  file=sys.stderr)
            code = max(code, 1)
    (out / "timing.json").write_text(json.dumps({u.name: {"seconds": u.took_s, "exit": u.code} for u in units}, indent=1))
    write(found, out, slice_record(shard, chosen, universe))
    terminal.console().print(text_table(found))
    print(f"\nCatalogue: {out / 'index.html'}")
    return code


def chosen_scenarios(names: list[str]) -> dict:
    """Name -> scenario: these (names or YAML files), or every scenario in scenarios/; a unit is a scenario's name."""
    loaded = {}
    for given in names or scenarios.available():
        s = scenarios.load(given)
        if s.name in loaded:
            raise ScenarioError(f"Two scenarios are called {s.name!r} ({given} and another): name each once.")
        loaded[s.name] = s
    return loaded


def run(args, run_one) -> int:
    """The catalogue (or its slice): run each unit, or read its folder (--from); one table."""
    from harness.cli import matrix
    from harness.report import build

    shard = shards.parse(args.shard)
    jobs = _jobs(getattr(args, "jobs", None), bool(args.runs or args.gateway))
    found = []
    if args.names and (args.runs or args.gateway):
        raise ScenarioError("Name scenarios to run, or give --from RUN_DIR ... (or --gateway), not both.")
    if args.gateway and not args.runs:
        if shard is not None:
            raise ScenarioError("--shard splits the catalogue of one gateway; the matrix (--gateway) is not sharded yet.")
        return matrix.run(args.gateway, args.all_variants, args.reports, run_one)
    if args.runs:
        by_name = {d.name: d for d in args.runs}
        universe = sorted(by_name)
        chosen = shards.pick(dict.fromkeys(universe, 1.0), shard)
        for name in chosen:
            summary, html = build.write(by_name[name])
            found += rows(summary, html, unit=name)
        code = 0 if all(r["verdict"] == "pass" for r in found) else 1
        if args.gateway:
            return matrix.finish(found, args.reports, code)
    else:
        loaded = chosen_scenarios(args.names)  # all valid before anything starts
        wanted = {n: list(s.variants) if args.all_variants else list(s.default_variants) for n, s in loaded.items()}
        universe = sorted(loaded)
        chosen = shards.pick({n: sum(shards.variant_cost(loaded[n], v) for v in wanted[n]) for n in universe}, shard)
        code = 0
        if jobs > 1:
            return _side_by_side(args, jobs, loaded, wanted, chosen, shard, universe)
        for name in chosen:
            s, variants = loaded[name], wanted[name]
            try:
                one, run_dir = run_one(s, variants, args.reports)
            except Exception:  # a bug: say so, keep what the other scenarios give
                traceback.print_exc()
                print(f"gatewaylab: {s.name} stopped on an internal error (a bug; the traceback above says where). "
                      "Its run folder keeps what was gathered; the catalogue goes on.", file=sys.stderr)
                code = max(code, 1)
                continue
            if one == 130:
                return 130
            code = max(code, one)
            if (run_dir / rf.SUMMARY).exists():
                found += rows(json.loads((run_dir / rf.SUMMARY).read_text()), run_dir / rf.REPORT, unit=name)
    out = write(found, new_folder(args.reports), slice_record(shard, chosen, universe))
    terminal.console().print(text_table(found))
    print(f"\nCatalogue: {out}")
    return code
