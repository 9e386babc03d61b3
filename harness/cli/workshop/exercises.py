"""The workshop page's exercise panels: what `gatewaylab exercise start` writes, shown on the page,
and the participant's file written into a workspace that `gatewaylab exercise check` runs on.

Workspaces go under the workshop's reports folder (exercises/<time>-<scenario>/); the check's run
folder is a normal one under runs/, which the page draws live. The verdict is the check's own
verdict.json, said in the same words as on a terminal, with the workspace's folder left out of the
paths so the page names `handler.go` and its line.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli.exercise import verdict, workspace
from harness.errors import ScenarioError
from harness.record.folder import stamped

MAX_FILE_BYTES = 256 * 1024  # a handler file, not an upload of anything else


def panels() -> dict[str, dict]:
    """Per scenario that has an exercise: its task, hints, the buggy file's text and what it replaces."""
    out = {}
    for name in workspace.available():
        try:
            ex = workspace.exercise(name)
        except ScenarioError:
            continue
        task, hints = workspace.texts(ex)
        out[name] = {"task": task, "hints": hints, "file": workspace.FILE, "text": ex.source.read_text(),
                     "replaces": ex.replaces, "judged_as": ex.fixed}
    return out


def write(reports: Path, name: str, text: str) -> Path:
    """A workspace for scenario `name` with `text` as the participant's file; its folder."""
    folder = stamped(Path(reports).resolve() / "exercises", name)
    workspace.start(workspace.exercise(name), folder)
    (folder / workspace.FILE).write_text(text)
    return folder


def _short(text: str, ws: Path) -> str:
    return text.replace(f"{ws}/", "")


def result(ws: Path | None, run_dir: Path | None, exit_code: int | None, log: str) -> dict | None:
    """What the page says once a check has ended: its verdict, or why there is none (e.g. the compiler's
    message). None while it runs."""
    if ws is None or exit_code is None:
        return None
    path = run_dir / "exercise" / "verdict.json" if run_dir is not None else None
    if path is None or not path.is_file():
        compiled = "does not compile" not in log
        return {"verdict": None, "compile_error": not compiled, "exit_code": exit_code, "message": _short(log, ws)}
    vd = json.loads(path.read_text())
    st, said = vd.get("stack"), _short(verdict.text(vd), ws)
    return {"verdict": vd["verdict"], "exit_code": exit_code, "text": said,
            "headline": said.splitlines()[0].split(": ", 1)[-1],
            "figure": _short(verdict.figure(vd), ws) if vd["verdict"] == "hidden" else None,
            "stack": None if not st or vd["verdict"] == "fixed" else
            {"at": _short(st["at"], ws), "line": st["line"], "source": st["source"], "growth": st["growth"],
             "blocking_call": st["blocking_call"], "in_your_file": st["in_your_file"]},
            "wall_s": vd.get("wall_s")}
