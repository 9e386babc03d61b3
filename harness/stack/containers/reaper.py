"""Removes a run's containers when the harness that started them is gone, SIGKILL included.

Local processes die with the harness by their parent-death signal; containers
belong to the engine, so this small process (its own session: a Ctrl-C or a
SIGKILL of the harness's group does not reach it) watches the harness's PID and
start time and removes every container labelled with the run. The harness
stops it after its own orderly tear-down.

    python -m harness.stack.containers.reaper OWNER_PID RUN_LABEL
"""

from __future__ import annotations

import signal
import sys
import time

from harness.stack.containers.engine import sweep_run
from harness.stack.leftovers import started

POLL_S = 0.5


def main(argv: list[str]) -> int:
    owner, label = int(argv[0]), argv[1]
    since = started(owner)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the harness tore down itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while since is not None and started(owner) == since:
        time.sleep(POLL_S)
    for name in sweep_run(label):
        print(f"removed {name}: its harness (pid {owner}) is gone", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
