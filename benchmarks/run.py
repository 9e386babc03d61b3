"""`make bench`: speed and cost figures, measured side by side in one run (figures, not assertions).

1. The load generator: the harness's own locustfile at full speed against wrk and bare Locust on the
   same target at the same sitting, and with two Locust workers (benchmarks/loadgen.py).
2. What instrumenting a replica costs: its top rate under wrk, watched vs bare (benchmarks/instrumentation.py).
3. Time to verdict: how many seconds of load each recorded variant needed before its verdict settled
   (harness/analysis/settle.py), over the recorded run folders and the latest catalogue.
4. The catalogue's wall time, from the latest catalogue folder (`make catalogue` writes one).
5. Rebuilding the report of a 20-minute run from its folder.

Prints each figure with its goal, and writes reports/bench/<time>.json and latest.md.
Usage: python benchmarks/run.py [--only loadgen,instrumentation,settle,catalogue,report] [--catalogue DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT  # noqa: E402
import figures  # noqa: E402

SECTIONS = ("loadgen", "instrumentation", "settle", "catalogue", "report")


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform(terse=True)}, load average {os.getloadavg()[0]:.1f}"


def main() -> int:
    p = argparse.ArgumentParser(prog="make bench")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    p.add_argument("--catalogue", type=Path, help="a catalogue folder (default: the latest under reports/catalogue/)")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    args = p.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        print(f"bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    started = time.time()
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
              "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]])}
    lines = [f"# make bench, {result['date']}", "", f"Machine: {result['machine']}", f"Command: `{result['command']}`", ""]
    for section in chosen:
        print(f"bench: {section} ...", file=sys.stderr, flush=True)
        fig, text = getattr(figures, section)(args)
        result[section] = fig
        lines += text + [""]
        print("\n".join(text), flush=True)
    result["took_s"] = round(time.time() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
    (args.out / f"{stamp}.json").write_text(json.dumps(result, indent=2))
    (args.out / "latest.md").write_text("\n".join(lines + [f"Took {result['took_s']:.0f} s."]) + "\n")
    print(f"\nbench: written {args.out / (stamp + '.json')} and {args.out / 'latest.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
