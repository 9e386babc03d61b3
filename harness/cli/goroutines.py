"""`gatewaylab goroutines snapshot|diff`: save goroutine dumps, show which stacks grew.

Exit codes: 0 on success (growth or not), 2 when a dump cannot be fetched,
read or parsed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.record import goroutines
from harness.record.goroutines import DumpError, StackGrowth


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("goroutines", help="save goroutine dumps of a Go service and diff them")
    sub = p.add_subparsers(dest="goroutines_command", required=True)
    snap = sub.add_parser("snapshot", help="fetch a debug=1 goroutine dump")
    snap.add_argument("url", help="admin address, e.g. http://127.0.0.1:9081 (completed to /debug/pprof/goroutine?debug=1)")
    snap.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    snap.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the dump (default 5)")
    d = sub.add_parser("diff", help="stacks whose goroutine count grew from dump A to dump B")
    d.add_argument("a", help="the earlier dump: a file or an http(s) URL")
    d.add_argument("b", help="the later dump: a file or an http(s) URL")
    d.add_argument("--threshold", type=int, default=5, help="smallest growth shown (default 5)")
    d.add_argument("--own", default="gatewaylab/goservices", help="module prefix of your own code (default gatewaylab/goservices)")
    d.add_argument("--json", action="store_true", help="print JSON instead of a table")
    d.add_argument("--limit", type=int, default=10, help="rows in the table (default 10)")
    d.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for a dump given as URL (default 5)")
    return p


def _load(source: str, timeout_s: float) -> str:
    if source.startswith(("http://", "https://")):
        return goroutines.fetch(source, timeout_s)
    try:
        return Path(source).read_text(errors="replace")
    except OSError as e:
        raise DumpError(f"cannot read the dump file {source}: {e.strerror or e}.") from None


def run(args: argparse.Namespace) -> int:
    try:
        if args.goroutines_command == "snapshot":
            text = goroutines.fetch(args.url, args.timeout)
            dump = goroutines.parse(text)  # save only what diff can read
            if args.output:
                args.output.write_text(text)
                print(f"saved {dump.total} goroutines in {len(dump.stacks)} stacks to {args.output}", file=sys.stderr)
            else:
                sys.stdout.write(text)
            return 0
        before = goroutines.parse(_load(args.a, args.timeout))
        after = goroutines.parse(_load(args.b, args.timeout))
        growths = goroutines.diff(before, after, args.threshold, args.own)
        if args.json:
            print(json.dumps([dataclasses.asdict(g) for g in growths], indent=2))
        elif not growths:
            print(f"no stack grew by {args.threshold} or more (goroutines: {before.total} -> {after.total})")
        else:
            print(f"goroutines: {before.total} -> {after.total}; stacks that grew by {args.threshold} or more:")
            # piped: wide enough for whole frames, as the plain text it replaces
            Console(highlight=False, width=None if sys.stdout.isatty() else 200).print(format_table(growths, args.limit))
        return 0
    except DumpError as e:
        print(f"gatewaylab: {e}", file=sys.stderr)
        return e.exit_code


def format_table(growths: list[StackGrowth], limit: int = 10) -> Table:
    """The largest growths as a terminal table (rich)."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name, justify in (("GROWTH", "right"), ("BEFORE", "right"), ("AFTER", "right"), ("BLOCKING CALL", "left"),
                          ("OWN FRAME", "left")):
        table.add_column(name, justify=justify, no_wrap=True)
    for g in growths[:limit]:
        table.add_row(f"+{g.growth}", str(g.before), str(g.after), _cut(g.blocking_call, 70), g.own_frame or "-")
    if len(growths) > limit:
        table.caption = f"... and {len(growths) - limit} more stacks"
    return table


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else "..." + s[-(n - 3):]
