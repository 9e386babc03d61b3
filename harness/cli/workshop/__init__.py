"""`gatewaylab workshop`: a local web page for one trainer on one machine (see server.py)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from harness.host.tools import ROOT


def add_parser(sub) -> None:
    p = sub.add_parser("workshop", help="a local web page: the scenarios, their code, a run started from the page, "
                                        "watched live, and its report")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one, printed)")
    p.add_argument("--reports", type=Path, default=ROOT / "reports", help="where run folders go (default: reports/)")


def _stop(signum, frame):
    raise KeyboardInterrupt  # the same way out as Ctrl-C: a run still going is stopped first


def run(args: argparse.Namespace) -> int:
    from harness.cli.workshop.server import serve

    def ready(url: str) -> None:
        print(f"gatewaylab workshop: {url}  (Ctrl-C stops it, and any run it started)", flush=True)

    old = signal.signal(signal.SIGTERM, _stop)
    try:
        serve(args.reports, args.port, ready)
    except KeyboardInterrupt:
        print("gatewaylab workshop: stopped", file=sys.stderr)
        return 0
    except OSError as e:
        print(f"gatewaylab workshop: cannot listen on 127.0.0.1:{args.port}: {e.strerror}. "
              "Choose another --port, or leave it out for a free one.", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, old)
    return 0
