"""The `gatewaylab` command. Thin: parse, call, map outcomes to exit codes.

Exit codes: 0 every expectation holds, 1 one does not (or the run is
incomplete), 2 bad input or a broken environment, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from harness.cli import goroutines as goroutines_cli
from harness.cli import compare as compare_cli
from harness.cli import comparejobs
from harness.cli import clean as clean_cli
from harness.cli import claims as claims_cli
from harness.cli import merge as merge_cli
from harness.cli import workshop as workshop_cli
from harness.cli import k8sjob as k8sjob_cli
from harness.cli.exercise import command as exercise_cli
from harness import scenario as scenarios
from harness.record.capture import KINDS as CAPTURE_KINDS
from harness.errors import GatewaylabError
from harness.host.tools import ROOT
from harness.record.folder import stamped
from harness.stack import gateways
from harness.stack.gateways import KINDS as GATEWAY_KINDS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatewaylab", description="Reproduce how Go services fail behind an API gateway (nginx, HAProxy, Caddy, Traefik).")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write its report")
    run.add_argument("name", help="scenario name (see `gatewaylab list`) or path to a scenario YAML file")
    run.add_argument("--variant", action="append", metavar="NAME",
                     help="variant to run (repeat or comma-separate; 'all' for every one). Default: the scenario's default_variants")
    run.add_argument("--reports", type=Path, default=ROOT / "reports", help="where run folders go (default: reports/)")
    run.add_argument("--service", type=Path, metavar="FILE",
                     help="run your own service on the replicas under test (a service file, see README)")
    run.add_argument("--backend", choices=("local", "docker"),
                     help="where the stack runs: local processes, or containers of the local Docker engine "
                          "(default: the scenario's `backend`, else local)")
    run.add_argument("--gateway", choices=GATEWAY_KINDS,
                     help="the gateway in front of the replicas (default: the scenario's gateway.kind, else nginx)")
    run.add_argument("--load-model", choices=("closed", "open"),
                     help="closed: users wait for answers (a stall slows the load); open: requests start on schedule "
                          "(default: the scenario's load.model, else closed)")
    run.add_argument("--load-workers", metavar="N|auto",
                     help="Locust processes sending the load: a master and N workers above 1 (default: load.workers, else 1)")
    run.add_argument("--deadline", type=float, metavar="SECONDS",
                     help="stop the whole run after this long (default: each variant's load + 80 s)")
    rep = sub.add_parser("report", help="rebuild the report of a run or comparison folder, running nothing")
    rep.add_argument("run_dir", type=Path)
    run.add_argument("--capture", metavar="KINDS", default="",
                     help="deep capture during the inject phase: trace (runtime/trace of each replica), "
                          "tcpdump (nginx->replica traffic), or both comma-separated. Off by default")
    sub.add_parser("list", help="list the scenarios")
    cat = sub.add_parser("catalogue", help="run every scenario's default variants; one summary table")
    cat.add_argument("names", nargs="*", metavar="SCENARIO",
                     help="only these scenarios (names or YAML files; default: every scenario in scenarios/)")
    cat.add_argument("--all-variants", action="store_true", help="every variant, not only the defaults")
    cat.add_argument("--reports", type=Path, default=ROOT / "reports", help="where run folders go (default: reports/)")
    cat.add_argument("--gateway", choices=(*GATEWAY_KINDS, "all"),
                     help="the gateway matrix: the scenarios about the gateway's view behind this gateway (or all), one table")
    cat.add_argument("--from", dest="runs", nargs="+", type=Path, metavar="RUN_DIR",
                     help="build the table from these run folders instead of running anything")
    cat.add_argument("--jobs", metavar="N|auto",
                     help="run N scenarios side by side, each a run with its own stack and ports (default auto: "
                          "2 per core + 1; 1: one after the other, in this process)")
    cat.add_argument("--shard", metavar="I/N",
                     help="run only slice I of N (deterministic: the same on every machine); `gatewaylab merge` joins the slices")
    cal = sub.add_parser("calibrate", help="run a scenario N times; per expectation the measured range, passes and margin")
    cal.add_argument("name")
    cal.add_argument("--runs", type=int, default=5, help="runs of each variant (default 5)")
    cal.add_argument("--variant", action="append", metavar="NAME",
                     help="variants (repeat or comma-separate; 'all'). Default: the scenario's default_variants")
    cal.add_argument("--gateway", choices=GATEWAY_KINDS,
                     help="calibrate behind this gateway (saved as scenarios/calibration/NAME@KIND.json; nginx: NAME.json)")
    cal.add_argument("--from", dest="runs_from", nargs="+", type=Path, metavar="RUN_DIR",
                     help="judge these run folders instead of running anything")
    cal.add_argument("--recorded", action="store_true",
                     help="judge every recorded run of the scenario under reports/runs instead of running anything")
    cal.add_argument("--save", action="store_true",
                     help="write the figures beside the scenario: scenarios/calibration/NAME.json")
    cal.add_argument("--shard", metavar="I/N",
                     help="run only runs I, I+N, I+2N, ... of --runs; then judge every slice's folders with --from ... --save")
    cal.add_argument("--reports", type=Path, default=ROOT / "reports", help="where run folders go (default: reports/)")
    sub.add_parser("stability", help="the stability and detector tables from scenarios/calibration/*.json (markdown)")
    ex = sub.add_parser("explain", help="the story of a scenario, what to watch, and the buggy-vs-fixed code")
    ex.add_argument("name")
    goroutines_cli.add_parser(sub)
    compare_cli.add_parsers(sub)
    comparejobs.add_parser(sub)
    clean_cli.add_parser(sub)
    claims_cli.add_parser(sub)
    merge_cli.add_parser(sub)
    workshop_cli.add_parser(sub)
    k8sjob_cli.add_parser(sub)
    exercise_cli.add_parser(sub)
    check = sub.add_parser("check", help="validate scenario files without running anything")
    check.add_argument("names", nargs="*", help="names or paths (default: every scenario)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "check":
            for name in args.names or scenarios.available():
                scenarios.load(name)
                print(f"{name}: valid")
            return 0
        if args.command == "explain":
            from harness.cli.explain import explain

            print(explain(scenarios.load(args.name)), end="")
            return 0
        if args.command == "clean":
            return clean_cli.run(args)
        if args.command == "claims":
            return claims_cli.run(args)
        if args.command == "merge":
            return merge_cli.run(args)
        if args.command == "workshop":
            return workshop_cli.run(args)
        if args.command == "k8s-job":
            return k8sjob_cli.run(args)
        if args.command == "exercise":
            return exercise_cli.run(args)
        if args.command == "goroutines":
            return goroutines_cli.run(args)
        if args.command == "catalogue":
            return _catalogue(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "stability":
            from harness.report.calibration import stability_markdown

            files = sorted((scenarios.SCENARIO_DIR / "calibration").glob("*.json"))
            print(stability_markdown([json.loads(f.read_text()) for f in files]))
            return 0
        if args.command == "compare":
            return compare_cli.compare(args)
        if args.command == "regress":
            return compare_cli.regress(args)
        if args.command == "trial":
            return comparejobs.trial(args)
        if args.command == "compare-diff":
            return compare_cli.diff(args)
        if args.command == "false-alarm": return compare_cli.false_alarm(args)  # noqa: E701
        if args.command == "report":
            if (args.run_dir / "compare.json").exists():
                return _report_comparison(args.run_dir)
            return _report(args.run_dir)
        return _run(args)
    except GatewaylabError as e:
        print(f"gatewaylab: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # the reader left (`gatewaylab list | head`): say nothing more; Python's recipe, exit 1
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _list() -> int:
    for name in scenarios.available():
        try:
            s = scenarios.load(name)
            print(f"{name:<24} {s.title}  [variants: {', '.join(s.variants)}; default: {', '.join(s.default_variants)}]")
        except GatewaylabError as e:
            print(f"{name:<24} INVALID: {e}")
    return 0


def _run(args) -> int:
    scenario = scenarios.on_gateway(scenarios.on_backend(scenarios.load(args.name), args.backend), args.gateway)
    scenario = scenarios.on_load(scenario, args.load_model, args.load_workers)
    wanted = [v.strip() for item in (args.variant or []) for v in item.split(",") if v.strip()]
    variants = scenarios.pick_variants(scenario, wanted or None)
    if args.deadline is not None and not 0 < args.deadline <= 86400:
        raise scenarios.ScenarioError("--deadline takes a number of seconds between 1 and 86400.")
    capture = tuple(k.strip() for k in args.capture.split(",") if k.strip())
    for k in capture:
        if k not in CAPTURE_KINDS:
            raise scenarios.ScenarioError(f"--capture {k!r} is unknown; use {' or '.join(CAPTURE_KINDS)} (comma-separated).")
    service = None
    if args.service is not None:
        from harness.scenario import load_service

        service = load_service(args.service)
    return _run_one(scenario, variants, args.reports, args.deadline, capture, service)[0]


def _run_one(scenario, variants: list[str], reports: Path, deadline: float | None = None,
             capture: tuple[str, ...] = (), service=None) -> tuple[int, Path]:
    from harness.run import runner
    from harness.host import tools

    found = tools.find()
    gateways.check(scenario, variants)  # a setting the gateway cannot express, or no gateway: exit 2 now
    if scenario.database is not None:
        from harness.stack import postgres
        postgres.check()  # a missing PostgreSQL stops the run before anything starts
    if scenario.backend == "docker":
        from harness.stack.containers import engine
        engine.connect()  # no engine: exit 2 with how to get one, before anything starts
    print(f"gatewaylab: {scenario.name} - {scenario.title}; variants: {', '.join(variants)}", file=sys.stderr)
    if scenario.pattern == "own-service" and service is None:
        raise scenarios.ScenarioError(f"Scenario {scenario.name!r} runs your own service: name it with --service FILE.")
    run_dir = runner.prepare(scenario, variants, reports)
    try:
        if service is not None:
            from harness.compare.builds import build_service

            build_service(service, run_dir / "build.log")
        runner.run(scenario, variants, found, run_dir, deadline, capture, service)
    except (KeyboardInterrupt, runner.Interrupted) as e:
        print(f"\ngatewaylab: interrupted ({e or 'Ctrl-C'}); every process of the run was stopped.", file=sys.stderr)
        _report_incomplete(run_dir)
        return 130, run_dir
    except GatewaylabError as e:
        print(f"gatewaylab: {e}", file=sys.stderr)
        _report_incomplete(run_dir)
        return e.exit_code, run_dir
    return _report(run_dir), run_dir


def _catalogue(args) -> int:
    from harness.cli import catalogue

    return catalogue.run(args, _run_one)


def _calibrate(args) -> int:
    from harness.compare import calibration
    from harness.report import calibration as shown

    scenario = scenarios.on_gateway(scenarios.load(args.name), args.gateway)
    wanted = [v.strip() for item in (args.variant or []) for v in item.split(",") if v.strip()]
    variants = scenarios.pick_variants(scenario, wanted or None)
    gateways.check(scenario, variants)
    if not 1 <= args.runs <= 100:
        raise scenarios.ScenarioError("--runs takes a whole number from 1 to 100.")
    from harness.scenario import shards

    shard = shards.parse(args.shard)
    if shard is not None and (args.save or args.runs_from or args.recorded):
        raise scenarios.ScenarioError("--shard runs a slice of the calibration runs: save the figures afterwards from "
                                      "every slice's run folders (`gatewaylab calibrate NAME --from DIR ... --save`).")
    if args.runs_from:
        run_dirs = list(args.runs_from)
    elif args.recorded:
        run_dirs = calibration.recorded_runs(args.reports, scenario.name)
    else:
        run_dirs = []
        for i in range(args.runs)[shard[0] - 1::shard[1]] if shard else range(args.runs):
            print(f"gatewaylab: calibration run {i + 1} of {args.runs}", file=sys.stderr)
            code, run_dir = _run_one(scenario, variants, args.reports)
            if code in (2, 130):
                return code
            run_dirs.append(run_dir)
    got, skipped = calibration.collect(scenario, run_dirs, variants)
    res = calibration.result(scenario, got, skipped)
    folder = stamped(args.reports / "calibration", scenario.name)
    (folder / "calibration.json").write_text(json.dumps(res, indent=1))
    (folder / "index.html").write_text(shown.html(res))
    shown.print_table(res)
    if args.save:
        path = calibration.path_of(scenario)
        calibration.save(res, path)
        print(f"Saved: {path}")
    print(f"\nCalibration: {folder / 'index.html'}")
    return 0 if res["ok"] else 1


def _report_incomplete(run_dir: Path) -> None:
    """Whatever was gathered still gets a report, marked INCOMPLETE."""
    try:
        _report(run_dir)
    except Exception as e:  # the data stays; the report can be rebuilt later
        print(f"gatewaylab: could not build the report of {run_dir} ({type(e).__name__}: {e}); "
              f"the data is there; try `gatewaylab report {run_dir}`.", file=sys.stderr)


def _report_comparison(folder: Path) -> int:
    from harness.cli import compare as c
    from harness.compare import verdict

    v, html = verdict.write(folder)
    print(c._text(v))
    print(f"\nComparison: {html}")
    return 1 if v["overall"] in ("candidate worse", "incomplete") else 0


def _report(run_dir: Path) -> int:
    from harness.report import build

    summary, html = build.write(run_dir)
    print(build.markdown(summary))
    print(f"\nReport: {html}")
    return 0 if summary["verdict"] == "pass" else 1


if __name__ == "__main__":
    raise SystemExit(main())
