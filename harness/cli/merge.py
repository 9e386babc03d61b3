"""`gatewaylab merge`: the slices of a sharded catalogue or regress (`--shard I/N` on N machines) as one
table, one JUnit file and one verdict. It reads only the slices' folders: results are data.

Refused, with the folder named, unless the slices are exactly 1..N of one suite, each unit once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.cli import catalogue, terminal
from harness.compare import junit
from harness.errors import RunError
from harness.host.tools import ROOT
from harness.record.folder import stamped


def add_parser(sub) -> None:
    p = sub.add_parser("merge", help="join the slices of `catalogue --shard I/N` (or `regress --shard I/N`) into one table, JUnit file and verdict")
    p.add_argument("folders", nargs="+", type=Path, metavar="DIR",
                   help="the slices' folders (reports/catalogue/<time>/ or reports/regress/<time>/ on each machine)")
    p.add_argument("--reports", type=Path, default=ROOT / "reports", help="where the merged folder goes (default: reports/)")
    p.add_argument("--junit", type=Path, help="JUnit XML path (default: junit.xml in the merged folder)")


def read(folder: Path) -> tuple[dict, list[dict]]:
    """A slice's record (shard.json) and its results: a catalogue's rows (catalogue.json) or regress's cases (regress.json)."""
    kind = "catalogue" if (folder / "catalogue.json").exists() else "regress" if (folder / "regress.json").exists() else None
    try:
        if kind is None:
            raise FileNotFoundError(2, "no catalogue.json or regress.json", str(folder / "catalogue.json"))
        record = {"suite": "catalogue", **json.loads((folder / "shard.json").read_text())}
        data = json.loads((folder / f"{kind}.json").read_text())
    except FileNotFoundError as e:
        raise RunError(f"{folder} is not a catalogue or regress folder ({Path(e.filename).name} is missing): "
                       "give the folders `gatewaylab catalogue --shard I/N` or `gatewaylab regress --shard I/N` wrote.") from None
    except (OSError, json.JSONDecodeError) as e:
        raise RunError(f"{folder}: cannot read its results ({e}).") from None
    if record["suite"] != kind:
        raise RunError(f"{folder}: its shard.json says {record['suite']}, its results are {kind}'s.")
    return record, data if kind == "catalogue" else data["cases"]


def check(slices: list[tuple[Path, dict]]) -> list[str]:
    """The suite's units in order, once every slice is of the same suite and 1..N are all there once."""
    first, rec = slices[0]
    n, universe = rec["shard"][1], rec["universe"]
    seen: dict[int, Path] = {}
    owner: dict[str, Path] = {}
    for folder, r in slices:
        if r["suite"] != rec["suite"]:
            raise RunError(f"{folder} is a slice of {r['suite']}, {first} of {rec['suite']}: merge slices of one suite.")
        if r["shard"][1] != n or r["universe"] != universe:
            raise RunError(f"{folder} is a slice of another suite than {first} "
                           f"(shard {r['shard'][0]}/{r['shard'][1]} of {len(r['universe'])} units, "
                           f"against {rec['shard'][0]}/{n} of {len(universe)}); merge slices of one catalogue.")
        i = r["shard"][0]
        if i in seen:
            raise RunError(f"{folder} and {seen[i]} are both slice {i}/{n}; give each slice once.")
        seen[i] = folder
        for u in r["units"]:
            if u in owner:
                raise RunError(f"{u} is in both {owner[u]} and {folder}; the slices overlap.")
            owner[u] = folder
    missing = [f"{i}/{n}" for i in range(1, n + 1) if i not in seen]
    if missing:
        raise RunError(f"slice {', '.join(missing)} missing: the merge needs all {n} slices.")
    lost = [u for u in universe if u not in owner]
    if lost:
        raise RunError(f"no slice ran {', '.join(lost)}; run those again with their --shard.")
    return universe


def cases(rows: list[dict]) -> list[junit.Case]:
    return [junit.Case(suite=r["unit"], name=f"{r['scenario']}/{r['variant']}",
                       outcome="pass" if r["verdict"] == "pass" else "fail",
                       message=f"{r['verdict']}: {r['says']} (report: {r['report']})") for r in rows]


def run(args: argparse.Namespace) -> int:
    slices = [(f, *read(f)) for f in args.folders]
    universe = check([(f, rec) for f, rec, _ in slices])
    if slices[0][1]["suite"] == "regress":
        return _regress(args, slices, universe)
    order = {u: k for k, u in enumerate(universe)}
    rows = sorted((r for _, _, rs in slices for r in rs), key=lambda r: order[r["unit"]])  # stable within a unit
    folder = catalogue.new_folder(args.reports)
    record = {**catalogue.slice_record(None, universe, universe), "merged_from": [str(f) for f, _, _ in slices]}
    out = catalogue.write(rows, folder, record)
    path = junit.write(cases(rows), args.junit or folder / "junit.xml", "gatewaylab catalogue")
    terminal.console().print(catalogue.text_table(rows))
    print(f"\nMerged {len(slices)} slices, {len(universe)} units, {len(rows)} variants: {out}\nJUnit: {path}")
    return 0 if rows and all(r["verdict"] == "pass" for r in rows) else 1


def _regress(args, slices, universe: list[str]) -> int:
    """regress slices: their checks in the suite's order, one JUnit file, one exit code."""
    from harness.compare import regress as suite

    order = {u: k for k, u in enumerate(universe)}
    found = sorted((junit.Case(**c) for _, _, cs in slices for c in cs), key=lambda c: order.get(c.suite, len(order)))
    made = [Path(p) for f, _, _ in slices for p in json.loads((f / "regress.json").read_text()).get("reports", [])]
    folder = stamped(args.reports / "regress")
    index = suite.write_index(found, folder, made)
    (folder / "shard.json").write_text(json.dumps({"suite": "regress", "shard": [1, 1], "units": universe,
                                                   "universe": universe, "merged_from": [str(f) for f, _, _ in slices]}, indent=1))
    path = junit.write(found, args.junit or folder / "junit.xml")
    print(suite.summary_line(found))
    print(f"Merged {len(slices)} regress slices, {len(universe)} scenarios, {len(found)} checks: {index}\nJUnit: {path}")
    return 0 if found and not any(c.outcome in ("fail", "error") for c in found) else 1
