"""`gatewaylab exercise start NAME` and `gatewaylab exercise check [DIR]`.

check: build the participant's file into refsvc (a compile error is the
compiler's message, exit 2), run the scenario with that build on the replicas
under test, judged by the fixed variant's expectations, and say fixed (0),
still leaking or hidden (1), with the figures and the run folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sys
import time
from pathlib import Path

from harness.cli.exercise import build as building
from harness.cli.exercise import verdict, workspace
from harness.errors import GatewaylabError
from harness.host.tools import ROOT
from harness.record.folder import RunFolder
from harness.stack import gateways


def add_parser(sub) -> None:
    ex = sub.add_parser("exercise", help="fix a scenario's buggy Go code yourself; the harness judges your fix")
    verbs = ex.add_subparsers(dest="verb", required=True)
    st = verbs.add_parser("start", help="write a workspace: the buggy file to edit, a task, hints in stages")
    st.add_argument("name", help="the scenario (see `gatewaylab exercise list`)")
    st.add_argument("--dir", type=Path, help="the workspace folder to create (default: ./exercise-NAME)")
    ck = verbs.add_parser("check", help="build your file, run the scenario on it, say fixed, still leaking or hidden")
    ck.add_argument("dir", type=Path, nargs="?", default=None, help="the workspace (default: the current folder)")
    ck.add_argument("--reports", type=Path, default=ROOT / "reports", help="where run folders go (default: reports/)")
    verbs.add_parser("list", help="the scenarios that have an exercise")
    vd = verbs.add_parser("verdict", help="say the verdict of an exercise check's run folder again, running nothing")
    vd.add_argument("run_dir", type=Path)


def run(args) -> int:
    if args.verb == "list":
        for name in workspace.available():
            print(name)
        return 0
    if args.verb == "verdict":
        return _again(args.run_dir)
    if args.verb == "start":
        return _start(args.name, args.dir or Path.cwd() / f"exercise-{args.name}")
    old = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return check(args.dir or Path.cwd(), args.reports)
    finally:
        signal.signal(signal.SIGTERM, old)


def _on_sigterm(signum, frame):
    # a Stop from the workshop page while Go builds: the same way out as Ctrl-C (the runner has its own)
    raise KeyboardInterrupt


def _again(run_dir: Path) -> int:
    if not (run_dir / "exercise" / "exercise.json").is_file():
        raise GatewaylabError(f"{run_dir} is not the run folder of an exercise check (no exercise/exercise.json).")
    from harness.report import build as report

    summary, html = report.write(run_dir)
    vd = verdict.judge(run_dir, summary)
    print(verdict.text(vd))
    print(f"\nRun folder: {run_dir}\nReport: {html}")
    return verdict.EXIT[vd["verdict"]]


def _start(name: str, folder: Path) -> int:
    ex = workspace.exercise(name)
    written = workspace.start(ex, folder)
    print(f"Workspace for {name}: {folder}")
    for p in written:
        print(f"  {p.relative_to(folder)}")
    print(f"\nEdit {folder / workspace.FILE} (it is {ex.replaces}), read TASK.md, open hints/1.md only when stuck,\n"
          f"then: gatewaylab exercise check {folder}")
    return 0


def check(folder: Path, reports: Path) -> int:
    from harness.host import tools
    from harness.report import build as report
    from harness.run import runner

    started = time.monotonic()
    ex, mine = workspace.open_workspace(folder)
    scenario = workspace.judged(ex)
    found = tools.find()
    gateways.check(scenario, [workspace.VARIANT])
    run_dir = RunFolder.create(reports / "runs", scenario, [workspace.VARIANT]).path
    out = run_dir / "exercise"
    out.mkdir()
    try:
        binary = building.build(mine, ex.replaces, out)
    except building.CompileError as e:
        shutil.rmtree(run_dir)  # made a moment ago, nothing ran in it
        print(f"gatewaylab: {mine} does not compile:\n{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        shutil.rmtree(run_dir)  # nothing ran in it yet
        print("\ngatewaylab: interrupted while building; nothing ran.", file=sys.stderr)
        return 130
    except BaseException:  # Go missing or too slow: nothing ran in the folder
        shutil.rmtree(run_dir)
        raise
    tested = [r.name for r in scenario.replicas if r.variant is None]
    meta = {"scenario": ex.scenario.name, "variant": workspace.VARIANT, "judged_as": ex.fixed, "build": ex.build,
            "replaces": ex.replaces, "workspace_file": str(mine), "tested": tested,
            "refsvc_sha256": hashlib.sha256(binary.read_bytes()).hexdigest()[:16],
            "references": verdict.references(ex.scenario.name, ex.fixed), **workspace.dial_limit(ex),
            "pool_size": scenario.resolve(workspace.VARIANT).service.max_conns_per_host}
    (out / "exercise.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"gatewaylab: {mine.name} built; running {ex.scenario.name} on it ({scenario.load.duration_s:g} s of load), "
          f"judged as the {ex.fixed} build", file=sys.stderr)
    failed: GatewaylabError | None = None
    try:
        runner.run_steps([runner.Step(scenario, workspace.VARIANT, found, run_dir, binary=binary)], reports,
                         run_dir.name, runner.default_deadline_s(scenario, [workspace.VARIANT]))
    except (KeyboardInterrupt, runner.Interrupted) as e:
        print(f"\ngatewaylab: interrupted ({e or 'Ctrl-C'}); every process of the run was stopped. Data: {run_dir}",
              file=sys.stderr)
        return 130
    except GatewaylabError as e:
        failed = e
        print(f"gatewaylab: {e}", file=sys.stderr)  # the report below says INCOMPLETE, the verdict "no verdict"
    finally:
        binary.unlink(missing_ok=True)  # 20 MB; the source it was built from stays in the run folder
    try:
        summary, html = report.write(run_dir)
    except Exception as e:  # a stack that never started leaves too little for a report
        if failed is None:
            raise
        print(f"gatewaylab: no report ({type(e).__name__}: {e}); what was gathered is in {run_dir}", file=sys.stderr)
        return failed.exit_code
    vd = verdict.judge(run_dir, summary)
    vd["wall_s"] = round(time.monotonic() - started, 1)
    (out / "verdict.json").write_text(json.dumps(vd, indent=1) + "\n")
    print(verdict.text(vd))
    print(f"\nRun folder: {run_dir}\nReport: {html}\n({vd['wall_s']:g} s)")
    return 2 if failed is not None and failed.exit_code == 2 else verdict.EXIT[vd["verdict"]]  # 2: a broken environment
