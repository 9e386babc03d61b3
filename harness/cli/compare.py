"""The `compare`, `regress`, `compare-diff` and `false-alarm` commands."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rich.table import Table

from harness import scenario as scenarios
from harness.cli import parallel, terminal
from harness.compare import junit
from harness.compare.builds import Build, build_ref, build_service, resolve_commit
from harness.scenario import UserService, load_service, shards
from harness.errors import GatewaylabError, ScenarioError
from harness.host.tools import ROOT
from harness.record.folder import stamped
from harness.run import runner
from harness.stack import gateways


def add_parsers(sub) -> None:
    c = sub.add_parser("compare", help="compare two builds on one scenario: trials interleaved, a verdict per metric")
    c.add_argument("name", help="scenario name or YAML path")
    for role in ("baseline", "candidate"):
        c.add_argument(f"--{role}", metavar="VARIANT", help=f"the {role}'s variant of the reference services")
        c.add_argument(f"--{role}-ref", metavar="REV", help=f"build the {role} from this git revision (temporary worktree)")
        c.add_argument(f"--{role}-service", metavar="FILE", type=Path, help=f"the {role} is your own service (see README)")
    c.add_argument("--variant", help="variant for builds given by --*-ref or --*-service (default: fixed, else the first default)")
    _common(c)
    c.add_argument("--deadline", type=float, metavar="SECONDS", help="stop the whole comparison after this long")
    c.add_argument("--gateway", choices=gateways.KINDS, help="compare behind this gateway (default: the scenario's, else nginx)")
    c.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="run N trials side by side, each pair of builds together (default 1: interleaved, one at a time)")
    r = sub.add_parser("regress", help="the pre-release suite: fixed meets its expectations and beats buggy, which still reproduces")
    r.add_argument("names", nargs="*", help="scenarios (default: every one)")
    r.add_argument("--candidate-ref", metavar="REV", help="git revision to test (default: this working tree's build)")
    r.add_argument("--baseline-ref", metavar="REV", help="also compare the fixed variant with this revision's")
    r.add_argument("--shard", metavar="I/N", help="run only slice I of N (deterministic); `gatewaylab merge` joins the slices")
    r.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="regress N scenarios side by side, each a child `gatewaylab regress` (default 1: one after the other)")
    _common(r, trials=2)
    d = sub.add_parser("compare-diff", help="what changed between two comparisons (metric by metric)")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    from harness.cli import falsealarm

    falsealarm.add_parser(sub)


def _common(p, trials: int = 3) -> None:
    p.add_argument("--trials", type=int, default=trials, help=f"trials per build (default {trials})")
    p.add_argument("--threshold", action="append", default=[], metavar="METRIC=VALUE",
                   help="smallest difference worth a verdict, per metric kind or path (repeatable)")
    p.add_argument("--repo", type=Path, default=ROOT, help="git repository for --*-ref (default: this one)")
    p.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML here")
    p.add_argument("--reports", type=Path, default=ROOT / "reports", help="where comparison folders go (default: reports/)")


def thresholds(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        key, _, val = item.partition("=")
        try:
            scenarios.Compare(thresholds={key.strip(): float(val)})
        except ValueError as e:  # pydantic.ValidationError is one
            raise ScenarioError(f"--threshold {item!r}: give METRIC=NUMBER, METRIC one of "
                                f"{', '.join(scenarios.COMPARE_KINDS)} or a metric path ({str(e).splitlines()[-1]}).") from None
        out[key.strip()] = float(val)
    return out


def default_variant(s: scenarios.Scenario, given: str | None) -> str:
    v = given or ("fixed" if "fixed" in s.variants else s.default_variants[0])
    if v not in s.variants:
        raise ScenarioError(f"Scenario {s.name!r} has no variant {v!r}. Its variants: {', '.join(s.variants)}.")
    return v


def make_build(role: str, s, tools, variant: str | None, ref: str | None, service: Path | None, fallback: str | None,
               repo: Path, folder: Path) -> Build:
    if ref and service:
        raise ScenarioError(f"--{role}-ref and --{role}-service name two different builds; give one.")
    var = default_variant(s, variant or fallback)
    if ref:
        bin_dir, commit = build_ref(repo, ref, folder / "builds" / role)
        return Build(role, var, tools, ref=ref, commit=commit, binary=bin_dir / "refsvc")
    if service:
        svc = service if isinstance(service, UserService) else load_service(service)
        build_service(svc, folder / "builds" / role / "build.log")
        return Build(role, var, tools, service=svc)
    if variant is None and fallback is None:
        raise ScenarioError(f"Say what the {role} is: --{role} VARIANT, --{role}-ref REV or --{role}-service FILE.")
    return Build(role, var, tools)


def compare(args) -> int:
    from harness.host import tools as tools_mod
    from harness.compare import trials, verdict

    s = scenarios.on_gateway(scenarios.load(args.name), args.gateway)
    over = thresholds(args.threshold)
    if not 1 <= args.trials <= trials.MAX_TRIALS:
        raise ScenarioError(f"--trials takes a number from 1 to {trials.MAX_TRIALS}.")
    parallel.checked_jobs(args.jobs)
    for role in ("baseline", "candidate"):  # everything checked before anything is built or started
        if getattr(args, role) and getattr(args, role) not in s.variants:
            raise ScenarioError(f"--{role} {getattr(args, role)!r}: scenario {s.name!r} has no such variant; "
                                f"its variants: {', '.join(s.variants)}.")
        if getattr(args, f"{role}_service") and not getattr(args, f"{role}_service").is_file():
            raise ScenarioError(f"--{role}-service {getattr(args, f'{role}_service')}: no such file.")
    services = {role: load_service(getattr(args, f"{role}_service")) if getattr(args, f"{role}_service") else None
                for role in ("baseline", "candidate")}
    for role in ("baseline", "candidate"):
        if getattr(args, f"{role}_ref"):
            resolve_commit(args.repo, getattr(args, f"{role}_ref"))
        if s.pattern == "own-service" and services[role] is None:
            raise ScenarioError(f"Scenario {s.name!r} runs your own service: give --{role}-service FILE.")
    found = tools_mod.find()
    gateways.check(s, [v for v in (args.baseline, args.candidate, args.variant) if v in s.variants] or list(s.default_variants))
    folder = trials.new_folder(args.reports, s.name)
    b = {}
    for role in ("baseline", "candidate"):
        b[role] = make_build(role, s, found, getattr(args, role), getattr(args, f"{role}_ref"),
                             services[role], args.variant, args.repo, folder)
    code = 0
    try:
        if args.jobs > 1:
            from harness.cli import comparejobs

            steps, per_trial = trials.prepare(s, b["baseline"], b["candidate"], args.trials, folder,
                                              {**s.compare.thresholds, **over}, args.jobs)
            print(f"gatewaylab: comparing {b['baseline'].describe()} (baseline) with {b['candidate'].describe()} "
                  f"(candidate) on {s.name}, {args.trials} trial(s) each, {args.jobs} at a time", file=sys.stderr)
            comparejobs.run(steps, folder, args.jobs, per_trial, args.deadline)
        else:
            trials.run(s, b["baseline"], b["candidate"], args.trials, folder, {**s.compare.thresholds, **over},
                       args.deadline)
    except (KeyboardInterrupt, runner.Interrupted) as e:
        print(f"\ngatewaylab: interrupted ({str(e) or 'Ctrl-C'}); every process was stopped. What was gathered is kept.",
              file=sys.stderr)
        code = 130
    except GatewaylabError as e:
        print(f"gatewaylab: {e}", file=sys.stderr)
        code = e.exit_code
    try:
        v, html = verdict.write(folder)
    except GatewaylabError as e:
        print(f"gatewaylab: no verdict: {e}", file=sys.stderr)
        return code or e.exit_code
    terminal.console().print(_text(v))
    print(f"\nComparison: {html}")
    if args.junit:
        junit.write(junit.from_verdict(s.name, f"{v['builds']['candidate']['describe']} vs {v['builds']['baseline']['describe']}", v),
                    args.junit)
    if code:
        return code
    return 1 if v["overall"] in ("candidate worse", "incomplete") else 0


def _text(v: dict) -> Table:
    t = terminal.table("metric", "difference>", "interval", "verdict",
                       title=f"{v['scenario']}: {v['builds']['candidate']['describe']} (candidate) vs "
                             f"{v['builds']['baseline']['describe']} (baseline): {v['overall'].upper()}")
    for r in v["metrics"]:
        ci = "" if r["ci_low"] is None else f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
        t.add_row(r["label"], "-" if r["diff"] is None else f"{r['diff']:+.4g}", ci, r["verdict"])
    return t


def regress(args) -> int:
    from harness.host import tools as tools_mod
    from harness.compare import regress as suite

    loaded = [scenarios.load(n) for n in (args.names or scenarios.available())]  # all valid before anything starts
    over = thresholds(args.threshold)
    shard = shards.parse(getattr(args, "shard", None))
    costs = {s.name: shards.regress_cost(s, args.trials) for s in loaded}
    chosen = shards.pick(costs, shard)
    record = {"suite": "regress", "shard": list(shard or (1, 1)), "units": chosen, "universe": sorted(costs)}
    loaded = [s for s in loaded if s.name in chosen]
    out = stamped(args.reports / "regress")
    if not loaded:  # more slices than scenarios: this one has nothing to run, and says so
        _finish([], out, args.junit, [], record)
        print(f"gatewaylab regress: slice {shard[0]}/{shard[1]} holds no scenario", file=sys.stderr)
        return 0
    parallel.checked_jobs(args.jobs)
    if args.jobs > 1 and len(loaded) > 1:
        return _side_by_side(args, loaded, out, record)
    found = tools_mod.find()
    cand = make_build("candidate", loaded[0], found, None, args.candidate_ref, None, "fixed" if "fixed" in loaded[0].variants
                      else loaded[0].default_variants[0], args.repo, out)
    base = (make_build("baseline", loaded[0], found, None, args.baseline_ref, None, cand.variant, args.repo, out)
            if args.baseline_ref else None)
    cases: list[junit.Case] = []
    made: list[Path] = []
    interrupted = False
    for s in loaded:
        t = time.monotonic()
        try:
            cases += suite.one(s, cand, base, args.trials, args.reports, over, made)
        except (KeyboardInterrupt, runner.Interrupted) as e:
            cases.append(junit.Case(s.name, "run", "error", f"interrupted ({str(e) or 'Ctrl-C'})", time.monotonic() - t))
            interrupted = True
            break
        except GatewaylabError as e:
            if e.exit_code == 2:  # a build that does not start, a broken environment: stop the suite
                cases.append(junit.Case(s.name, "run", "error", str(e), time.monotonic() - t))
                _finish(cases, out, args.junit, made, record)
                raise
            cases.append(junit.Case(s.name, "run", "error", str(e), time.monotonic() - t))
    _finish(cases, out, args.junit, made, record)
    print(suite.summary_line(cases))
    if interrupted:
        return 130
    return 1 if any(c.outcome in ("fail", "error") for c in cases) else 0


def _side_by_side(args, loaded: list, out: Path, record: dict) -> int:
    """--jobs N: each scenario a child `gatewaylab regress` with its own reports folder (out/units/NAME),
    N at a time; their checks joined in the suite's order, as `merge` joins slices."""
    from harness.compare import regress as suite

    source = {scenarios.load(g).name: str(g) for g in args.names} if args.names else {}
    common = ["--trials", str(args.trials), *(x for t in args.threshold for x in ("--threshold", t)),
              *(x for flag, v in (("--candidate-ref", args.candidate_ref), ("--baseline-ref", args.baseline_ref),
                                  ("--repo", args.repo)) if v for x in (flag, str(v)))]
    units = [parallel.Unit(s.name, ["regress", source.get(s.name, s.name), *common, "--reports", str(out / "units" / s.name)],
                           shards.regress_cost(s, args.trials)) for s in loaded]
    try:
        parallel.run_all(units, args.jobs, out / "logs", say=lambda m: print(m, file=sys.stderr))
    except KeyboardInterrupt:
        return 130
    cases: list[junit.Case] = []
    made: list[Path] = []
    for u in units:
        found = sorted((out / "units" / u.name / "regress").glob("*/regress.json"))
        if not found:
            cases.append(junit.Case(u.name, "run", "error", f"no results (exit {u.code}); its output: {out / 'logs' / (u.name + '.log')}"))
            continue
        data = json.loads(found[-1].read_text())
        cases += [junit.Case(**c) for c in data["cases"]]
        made += [Path(p) for p in data.get("reports", [])]
    _finish(cases, out, args.junit, made, record)
    print(suite.summary_line(cases))
    codes = {u.code for u in units}
    return 130 if 130 in codes else 2 if 2 in codes else 1 if any(c.outcome in ("fail", "error") for c in cases) else 0


def _finish(cases, out: Path, junit_path: Path | None, made: list[Path], record: dict) -> None:
    from harness.compare import regress as suite

    index = suite.write_index(cases, out, made)
    (out / "shard.json").write_text(json.dumps(record, indent=1))  # which slice of which suite: what merge checks
    junit.write(cases, out / "junit.xml")
    if junit_path:
        junit.write(cases, junit_path)
    print(f"gatewaylab regress: {index}" + (f", JUnit in {junit_path}" if junit_path else ""), file=sys.stderr)


def false_alarm(args) -> int:
    from harness.cli import falsealarm

    return falsealarm.run(args)


def diff(args) -> int:
    a, b = (json.loads((Path(p) / "verdict.json").read_text()) if (Path(p) / "verdict.json").exists() else None
            for p in (args.a, args.b))
    if a is None or b is None:
        raise ScenarioError("compare-diff takes two comparison folders with a verdict.json (run `gatewaylab report` on them first).")
    rows_a = {r["metric"]: r for r in a["metrics"]}
    print(f"A: {args.a} ({a['overall']})\nB: {args.b} ({b['overall']})")
    changed = 0
    for r in b["metrics"]:
        old = rows_a.pop(r["metric"], None)
        before = old["verdict"] if old else "(absent)"
        mark = " " if old and before == r["verdict"] else "*"
        changed += mark == "*"
        d_old = "-" if not old or old["diff"] is None else f"{old['diff']:+.4g}"
        d_new = "-" if r["diff"] is None else f"{r['diff']:+.4g}"
        print(f"{mark} {r['label']:<52} {before:>20} -> {r['verdict']:<20} diff {d_old} -> {d_new}")
    for m, old in rows_a.items():
        changed += 1
        print(f"* {old['label']:<52} {old['verdict']:>20} -> (absent)")
    print(f"{changed} metric(s) changed verdict")
    return 0
