"""`gatewaylab clean`: remove what runs whose harness is gone left behind (processes, folders, containers).

Only what gatewaylab started: processes by PID and start time from the runs' registries,
containers by their gatewaylab.run label and the owner recorded on them. A live run is never touched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.host.tools import ROOT


def add_parser(sub) -> None:
    p = sub.add_parser("clean", help="stop what killed runs left: processes, scratch folders, containers (and images)")
    p.add_argument("--reports", type=Path, default=ROOT / "reports", help="whose runs to sweep (default: reports/)")
    p.add_argument("--images", action="store_true", help="also remove the images gatewaylab built (rebuilt when needed)")


def run(args: argparse.Namespace) -> int:
    from harness.stack import leftovers

    done = leftovers.sweep(args.reports)
    try:
        from harness.stack.containers import engine, images
        client = engine.connect()
    except Exception as e:  # no engine (or no docker SDK): nothing of the docker backend can be left
        client = None
        reason = str(e).split(".")[0]
    if client is not None:
        done += [f"removed container {c}: its harness is gone" for c in engine.sweep_orphans(client)]
        if args.images:
            for image in client.images.list(filters={"label": images.IMAGE}):
                client.images.remove(image.id, force=True)
                done.append(f"removed image {', '.join(image.tags) or image.short_id}")
    for line in done:
        print(line)
    if not done:
        print("nothing left behind" + ("" if client is not None else f" (no Docker engine answers: {reason})"))
    return 0
