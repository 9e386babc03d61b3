"""The `gatewaylab` command. Thin: parse, call, map outcomes to exit codes.

Exit codes: 0 every expectation holds, 1 one does not (or the run is
incomplete), 2 bad input or a broken environment, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import goroutines_cli
from harness import scenario as scenarios
from harness.capture import KINDS as CAPTURE_KINDS
from harness.errors import GatewaylabError
from harness.tools import ROOT


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatewaylab", description="Reproduce how Go services fail behind an nginx gateway.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario and write its report")
    run.add_argument("name", help="scenario name (see `gatewaylab list`) or path to a scenario YAML file")
    run.add_argument("--variant", action="append", metavar="NAME",
                     help="variant to run (repeat or comma-separate; 'all' for every one). Default: the scenario's default_variants")
    run.add_argument("--reports", type=Path, default=ROOT / "reports", help="where run folders go (default: reports/)")
    run.add_argument("--deadline", type=float, metavar="SECONDS",
                     help="stop the whole run after this long (default: each variant's load + 80 s)")
    rep = sub.add_parser("report", help="rebuild the report of a run folder, running nothing")
    rep.add_argument("run_dir", type=Path)
    run.add_argument("--capture", metavar="KINDS", default="",
                     help="deep capture during the inject phase: trace (runtime/trace of each replica), "
                          "tcpdump (nginx->replica traffic), or both comma-separated. Off by default")
    sub.add_parser("list", help="list the scenarios")
    ex = sub.add_parser("explain", help="the story of a scenario, what to watch, and the buggy-vs-fixed code")
    ex.add_argument("name")
    goroutines_cli.add_parser(sub)
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
            from harness.explain import explain

            print(explain(scenarios.load(args.name)), end="")
            return 0
        if args.command == "goroutines":
            return goroutines_cli.run(args)
        if args.command == "report":
            return _report(args.run_dir)
        return _run(args)
    except GatewaylabError as e:
        print(f"gatewaylab: {e}", file=sys.stderr)
        return e.exit_code


def _list() -> int:
    for name in scenarios.available():
        try:
            s = scenarios.load(name)
            print(f"{name:<24} {s.title}  [variants: {', '.join(s.variants)}; default: {', '.join(s.default_variants)}]")
        except GatewaylabError as e:
            print(f"{name:<24} INVALID: {e}")
    return 0


def _run(args) -> int:
    from harness import runner, tools

    scenario = scenarios.load(args.name)
    wanted = [v.strip() for item in (args.variant or []) for v in item.split(",") if v.strip()]
    variants = scenarios.pick_variants(scenario, wanted or None)
    if args.deadline is not None and not 0 < args.deadline <= 86400:
        raise scenarios.ScenarioError("--deadline takes a number of seconds between 1 and 86400.")
    capture = tuple(k.strip() for k in args.capture.split(",") if k.strip())
    for k in capture:
        if k not in CAPTURE_KINDS:
            raise scenarios.ScenarioError(f"--capture {k!r} is unknown; use {' or '.join(CAPTURE_KINDS)} (comma-separated).")
    found = tools.find()
    print(f"gatewaylab: {scenario.name} - {scenario.title}; variants: {', '.join(variants)}", file=sys.stderr)
    run_dir = runner.prepare(scenario, variants, args.reports)
    try:
        runner.run(scenario, variants, found, run_dir, args.deadline, capture)
    except (KeyboardInterrupt, runner.Interrupted) as e:
        print(f"\ngatewaylab: interrupted ({e or 'Ctrl-C'}); every process of the run was stopped.", file=sys.stderr)
        _report_incomplete(run_dir)
        return 130
    except GatewaylabError as e:
        print(f"gatewaylab: {e}", file=sys.stderr)
        _report_incomplete(run_dir)
        return e.exit_code
    return _report(run_dir)


def _report_incomplete(run_dir: Path) -> None:
    """Whatever was gathered still gets a report, marked INCOMPLETE."""
    try:
        _report(run_dir)
    except Exception as e:  # the data stays; the report can be rebuilt later
        print(f"gatewaylab: could not build the report of {run_dir} ({type(e).__name__}: {e}); "
              f"the data is there; try `gatewaylab report {run_dir}`.", file=sys.stderr)


def _report(run_dir: Path) -> int:
    from harness.report import build

    summary, html = build.write(run_dir)
    print(build.markdown(summary))
    print(f"\nReport: {html}")
    return 0 if summary["verdict"] == "pass" else 1


if __name__ == "__main__":
    raise SystemExit(main())
