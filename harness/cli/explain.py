"""`gatewaylab explain NAME`: the story, what to watch, and the code difference, read from the Go sources.

The diff is made from goservices/patterns/<pattern>/<variant>.go at the time
you ask, so it never drifts from what runs.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from harness.scenario import Scenario
from harness.host.tools import ROOT

PATTERNS_DIR = ROOT / "goservices" / "patterns"


def source(pattern: str, build: str) -> Path:
    return PATTERNS_DIR / pattern.replace("-", "") / f"{build.replace('-', '')}.go"


def code_diff(pattern: str, base: str, other: str) -> str:
    a, b = source(pattern, base), source(pattern, other)
    if not (a.exists() and b.exists()):
        return f"(no source file for {base if not a.exists() else other}: {a if not a.exists() else b})\n"
    lines = difflib.unified_diff(a.read_text().splitlines(keepends=True), b.read_text().splitlines(keepends=True),
                                 fromfile=str(a.relative_to(ROOT)), tofile=str(b.relative_to(ROOT)), n=2)
    return "".join(lines)


def explain(s: Scenario) -> str:
    out = [f"{s.name}: {s.title}", "", s.description.rstrip(), "", "Variants:"]
    for name, v in s.variants.items():
        build = v.build or name
        out.append(f"  {name}{'' if build == name else f' (build {build})'}: {v.description or '-'}")
        for e in v.expect:
            out.append(f"      expects {e.describe()}{' - ' + e.why if e.why else ''}")
    builds = list(dict.fromkeys(v.build or n for n, v in s.variants.items()))
    base = "buggy" if "buggy" in builds else builds[0]
    for other in builds:
        if other != base:
            out += ["", f"Code: {base} -> {other}", code_diff(s.pattern, base, other).rstrip()]
    return "\n".join(out) + "\n"
