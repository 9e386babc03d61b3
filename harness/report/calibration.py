"""A calibration result as a terminal table (rich) and a self-contained HTML page (Jinja2)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from harness.report import pages
from harness.scenario import Expectation



def _num(x) -> str:
    return "-" if x is None else f"{x:g}" if isinstance(x, (int, float)) else str(x)


def print_table(res: dict, console: Console | None = None) -> None:
    console = console or Console(width=None if Console().is_terminal else 200)
    t = Table(title=f"calibration: {res['scenario']} ({', '.join(f'{v} x{len(r)}' for v, r in res['runs'].items())})")
    for col in ("variant", "expectation", "passes", "min", "median", "max", "margin"):
        right = col in ("passes", "min", "median", "max", "margin")
        t.add_column(col, justify="right" if right else "left", overflow="fold",
                     max_width=22 if col in ("min", "median", "max") else None, no_wrap=col == "expectation")
    for e in res["expectations"]:
        ok = e["passes"] == e["runs"]
        passes = f"[{'green' if ok else 'red'}]{e['passes']}/{e['runs']}[/]" + (f" ({e['no_data']} no data)" if e["no_data"] else "")
        margin = "-" if e["distance"] is None else f"{e['distance']:g}" + (f" ({e['margin']:g} spreads)" if e["margin"] is not None else "")
        value = e["value"] if isinstance(e["value"], str) else f"{e['value']:g}"
        if e["texts"]:
            lo = med = hi = ", ".join(e["texts"])[:40]
        else:
            lo, med, hi = _num(e["min"]), _num(e["median"]), _num(e["max"])
        t.add_row(e["variant"], f"{e['metric']} {e['op']} {value}", passes, lo, med, hi, margin)
    console.print(t)
    if res["separation"]:
        s = Table(title="fixed against buggy: measured ranges")
        for col in ("metric", "fixed", "buggy", "overlap"):
            s.add_column(col)
        for row in res["separation"]:
            rng = lambda r: "no data" if r is None else f"{r[0]:g} .. {r[1]:g}"  # noqa: E731
            s.add_row(row["metric"], rng(row["fixed"]), rng(row["buggy"]),
                      "[red]overlap[/]" if row["overlap"] else "no data" if row["overlap"] is None else "[green]apart[/]")
        console.print(s)
        d = res.get("decisive")
        console.print(f"told apart by: {d['metric']}" if d else "[red]no judged metric tells fixed from buggy: choose a better one[/]")
    for line in res["skipped"]:
        console.print(f"left out: {line}", style="dim")


def html(res: dict) -> str:
    return pages.render("calibration.html.j2", r=res)


def _tightest(res: dict, variant: str) -> dict | None:
    """The variant's numeric expectation nearest to flipping: the one that decides its verdict."""
    rows = [e for e in res["expectations"] if e["variant"] == variant and e["distance"] is not None
            and not (e["min"] == e["max"] == e["value"])]  # a count held at exactly its limit (0 of 0) says little
    return min(rows, key=lambda e: (e["margin"] if e["margin"] is not None else float("inf"), e["distance"]), default=None)


def _name(res: dict) -> str:
    """A scenario's name, with the gateway it was calibrated behind when that is not nginx."""
    kind = res.get("gateway", "nginx")
    return res["scenario"] if kind == "nginx" else f"{res['scenario']} behind {kind}"


def stability_markdown(results: list[dict]) -> str:
    """The README's stability and detector tables from committed calibration files."""
    out = ["| scenario | variant | runs | passed | nearest to flipping: expectation | measured (min .. max) | margin |",
           "|---|---|---|---|---|---|---|"]
    for res in results:
        for v, runs in res["runs"].items():
            mine = [e for e in res["expectations"] if e["variant"] == v]
            passed = sum(all(e["values"][i] is not None and _held(e, i) for e in mine) for i in range(len(runs)))
            t = _tightest(res, v)
            if t:
                exp = f"`{t['metric'].split('.', 1)[-1] if t['metric'].startswith('replicas.') else t['metric']} {t['op']} {t['value']:g}`"
                measured = f"{t['min']:g} .. {t['max']:g}"
                margin = f"{t['distance']:g}" + (f" ({t['margin']:g} spreads)" if t["margin"] is not None else "")
            else:
                exp, measured, margin = "(only == or text checks)", "-", "-"
            out.append(f"| {_name(res)} | {v} | {len(runs)} | {passed} | {exp} | {measured} | {margin} |")
    out += ["", "| scenario / variant (leak) | left after the drain | stack diff | trend | leak-watch | Go leak profile |",
            "|---|---|---|---|---|---|"]
    for res in results:
        for v, det in res.get("detectors", {}).items():
            kind = res.get("leak", {}).get(v, "none")
            if kind in ("expected", "pile-up"):
                cells = [_count(det[name]) for name in ("left after the drain", "stack diff", "trend", "leak-watch", "Go leak profile")]
                out.append(f"| {_name(res)} / {v} ({kind}) | " + " | ".join(cells) + " |")
    def fired(kind: str) -> list[bool]:
        return [x for res in results for v, det in res.get("detectors", {}).items()
                if res.get("leak", {}).get(v, "none") == kind for x in det["leak-watch"] if x is not None]
    none, piled = fired("none"), fired("pile-up")
    out += ["", f"leak-watch on variants that do not leak: fired in {sum(none)} of {len(none)} runs of variants that "
                f"should stay flat (leak: none), and in {sum(piled)} of {len(piled)} runs of pile-up variants "
                "(goroutines that pile up while a fault lasts look like a leak while it lasts)."]
    return "\n".join(out)


def _held(e: dict, i: int) -> bool:
    x = Expectation(metric=e["metric"], op=e["op"], value=e["value"])
    return x.holds(e["values"][i])


def _count(xs: list) -> str:
    seen = [x for x in xs if x is not None]
    return f"{sum(seen)} of {len(seen)}" + (f" ({len(xs) - len(seen)} no data)" if len(seen) < len(xs) else "")
