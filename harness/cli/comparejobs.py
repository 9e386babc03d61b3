"""`compare --jobs N`: a comparison's trials side by side, each a child `gatewaylab trial FOLDER ROLE I`.

The pair of trial-i (baseline and candidate) starts together, once there is room for both, so both
builds meet the same contention and any drift still cancels in pairs as it does interleaved
(`--jobs` is counted in trials: 2 runs one pair at a time, 4 two pairs); a child rebuilds its
step from the comparison folder alone (compare.json, the trial scenarios), picks its own ports
and writes only its own trial folder. The verdict reads the same folders as one after the other.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.cli import parallel
from harness.compare import trials
from harness.host.procs import deadline
from harness.run import runner


def add_parser(sub) -> None:
    t = sub.add_parser("trial", help="run one trial of a prepared comparison folder (what `compare --jobs` starts)")
    t.add_argument("folder", type=Path, help="the comparison folder (reports/compare/...)")
    t.add_argument("role", choices=("baseline", "candidate"))
    t.add_argument("number", type=int, help="which trial (1, 2, ...)")
    t.add_argument("--deadline", type=float, metavar="SECONDS", help="stop the trial after this long")


def trial(args) -> int:
    from harness.host import tools as tools_mod

    folder = args.folder.resolve()
    step = trials.step(folder, args.role, args.number, tools_mod.find())
    deadline = args.deadline or runner.default_deadline_s(step.scenario, [step.variant])
    runner.run_steps([step], folder.parent.parent, f"{folder.name}-{args.role}-{args.number}", deadline)
    return 0


def run(steps: list[runner.Step], folder: Path, jobs: int, per_trial_s: float, deadline_s: float | None) -> None:
    """Every step as a child, `jobs` at once, pairs first to last. Raises KeyboardInterrupt (Ctrl-C,
    SIGTERM) or RunDeadline after stopping every child; a child that failed leaves its trial
    incomplete, which the verdict reports (missing data is never read as zero)."""
    count = max(int(s.variant.removeprefix("trial-")) for s in steps)
    cores = os.cpu_count() or 1
    if jobs > cores:
        print(f"gatewaylab: --jobs {jobs} on {cores} cores: more trials than cores at once. Measured on 2 cores, "
              "--jobs 6 starved a fixed build until its goroutines climbed (slope 0.056/s) and the verdict on the "
              "slope was lost; --jobs 2 kept every verdict.", file=sys.stderr)
    units = []
    for s in steps:
        i, role = int(s.variant.removeprefix("trial-")), s.run_dir.name
        units.append(parallel.Unit(f"trial-{i:02d}-{role}", ["trial", str(folder), role, str(i),
                                                            "--deadline", f"{per_trial_s:g}"], float(count - i),
                                   group=f"trial-{i}"))

    with deadline(deadline_s, "The comparison"):
        parallel.run_all(units, jobs, folder / "logs", say=lambda m: print(m, file=sys.stderr))
    failed = [u for u in units if u.code != 0]
    if any(u.code == 130 for u in failed):
        raise KeyboardInterrupt("a trial was interrupted")
    for u in failed:
        print(f"gatewaylab: {u.name} exited {u.code}; its output: {folder / 'logs' / (u.name + '.log')}", file=sys.stderr)
