"""The pipeline in the folders: each layer of harness/ imports only the layers before it.

scenario file -> typed model -> stack -> faults + load -> run folder -> analysis -> report -> compare,
with host/ (processes, probes, tools) underneath and cli/ on top. Read from the source, no import run.
"""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"
LAYERS = ["errors", "host", "scenario", "record", "stack", "drive", "run", "analysis", "report", "compare", "cli"]
TOP = {"__init__": None, "__main__": "cli"}  # harness/__init__.py imports nothing; __main__ is the CLI's


def layer_of(module: str) -> str | None:
    first = module.split(".")[1] if module.count(".") else None
    return TOP.get(first, first) if first is not None else None


def imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "harness":
            out += [node.module] if node.module != "harness" else [f"harness.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names if a.name.split(".")[0] == "harness"]
    return out


def test_every_module_sits_in_a_layer():
    for path in HARNESS.rglob("*.py"):
        rel = path.relative_to(HARNESS)
        name = "harness." + ".".join(rel.with_suffix("").parts)
        assert layer_of(name) in LAYERS + [None], f"{rel}: outside the layers {LAYERS}; move it into one"


def test_each_layer_imports_only_those_before_it():
    wrong = []
    for path in HARNESS.rglob("*.py"):
        rel = path.relative_to(HARNESS)
        me = layer_of("harness." + ".".join(rel.with_suffix("").parts))
        if me is None:
            continue
        for imported in imports(path):
            other = layer_of(imported)
            if other is not None and LAYERS.index(other) > LAYERS.index(me):
                wrong.append(f"{rel} ({me}) imports {imported} ({other})")
    assert not wrong, "imports against the pipeline:\n" + "\n".join(wrong)


def test_modules_stay_small():
    big = [f"{p.relative_to(HARNESS)}: {n} lines" for p in HARNESS.rglob("*.py") if (n := len(p.read_text().splitlines())) > 320]
    assert not big, "split these by concern:\n" + "\n".join(big)
