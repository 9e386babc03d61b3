"""A calibration result as a terminal table (rich) and a self-contained HTML page (Jinja2)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rich.console import Console
from rich.table import Table

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _num(x) -> str:
    return "-" if x is None else f"{x:g}" if isinstance(x, (int, float)) else str(x)


def print_table(res: dict, console: Console | None = None) -> None:
    console = console or Console(width=None if Console().is_terminal else 150)
    t = Table(title=f"calibration: {res['scenario']} ({', '.join(f'{v} x{len(r)}' for v, r in res['runs'].items())})")
    for col in ("variant", "expectation", "passes", "min", "median", "max", "margin"):
        t.add_column(col, justify="right" if col in ("passes", "min", "median", "max", "margin") else "left")
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
    for line in res["skipped"]:
        console.print(f"left out: {line}", style="dim")


def html(res: dict) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("calibration.html.j2").render(r=res)
