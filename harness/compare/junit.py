"""JUnit XML: one test case per scenario x check, the numbers in the message, for CI systems to show."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Case:
    suite: str       # the scenario
    name: str        # the check, e.g. "fixed vs buggy: replicas.a.goroutine_slope"
    outcome: str     # "pass" | "fail" | "error" | "skip"
    message: str = ""
    seconds: float = 0.0


def write(cases: list[Case], path: Path, title: str = "gatewaylab regress") -> Path:
    root = ET.Element("testsuites", name=title)
    for suite in dict.fromkeys(c.suite for c in cases):
        mine = [c for c in cases if c.suite == suite]
        s = ET.SubElement(root, "testsuite", name=suite, tests=str(len(mine)),
                          failures=str(sum(c.outcome == "fail" for c in mine)),
                          errors=str(sum(c.outcome == "error" for c in mine)),
                          skipped=str(sum(c.outcome == "skip" for c in mine)),
                          time=f"{sum(c.seconds for c in mine):.1f}")
        for c in mine:
            tc = ET.SubElement(s, "testcase", classname=f"gatewaylab.{suite}", name=c.name, time=f"{c.seconds:.1f}")
            if c.outcome in ("fail", "error", "skip"):
                tag = {"fail": "failure", "error": "error", "skip": "skipped"}[c.outcome]
                el = ET.SubElement(tc, tag, message=c.message[:500])
                el.text = c.message
            elif c.message:
                ET.SubElement(tc, "system-out").text = c.message
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def from_verdict(suite: str, prefix: str, verdict: dict, seconds: float = 0.0) -> list[Case]:
    """One case per compared metric: fails when the candidate is worse."""
    cases = []
    for r in verdict["metrics"]:
        ci = "" if r["ci_low"] is None else f", 95% interval {r['ci_low']:.4g}..{r['ci_high']:.4g}"
        msg = (f"{r['metric']}: {r['verdict']}; baseline {r['baseline']}, candidate {r['candidate']}, "
               f"difference {r['diff'] if r['diff'] is None else round(r['diff'], 6)}{ci}, threshold {r['threshold']:.4g}. {r['why']}")
        cases.append(Case(suite, f"{prefix}: {r['metric']}", "fail" if r["verdict"] == "worse" else "pass", msg, seconds))
    return cases
