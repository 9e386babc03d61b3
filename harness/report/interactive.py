"""The interactive timeline's assets, inlined into a page so it opens offline.

uPlot comes from the npm registry at set-up (scripts/ensure-uplot, pinned by version and
sha512) into vendor/; timeline.js (static/) draws the run's series with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
UPLOT_JS = VENDOR / "uPlot.iife.min.js"
UPLOT_CSS = VENDOR / "uPlot.min.css"
TIMELINE_JS = HERE / "static" / "timeline.js"
WORKSHOP_JS = HERE / "static" / "workshop.js"  # the workshop page (harness/cli/workshop)
MISSING = ("the interactive timeline needs uPlot in harness/report/vendor/, fetched by `make setup` "
           "(scripts/ensure-uplot, from the npm registry); the static figure below is the same data.")


def available() -> bool:
    return UPLOT_JS.exists() and UPLOT_CSS.exists()


def assets() -> dict[str, str] | None:
    """{'js', 'css'} to inline, or None (with a note on stderr) when uPlot was never fetched."""
    if not available():
        print(f"gatewaylab: {MISSING}", file=sys.stderr)
        return None
    return {"js": UPLOT_JS.read_text(encoding="utf-8") + "\n" + TIMELINE_JS.read_text(encoding="utf-8"),
            "css": UPLOT_CSS.read_text(encoding="utf-8")}


def script_json(data) -> str:
    """JSON safe inside <script type="application/json">: no '</' can close the element early."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
