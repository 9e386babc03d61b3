"""Which own line started a goroutine: debug=2 dumps taken with GODEBUG=tracebackancestors.

A leaked standard-library goroutine (a connection's readLoop kept by an
unclosed body) has no own frame in its stack: Transport.dialConn started it
from a dialing goroutine, which getConn started from the handler. With
`tracebackancestors=N`, Go prints after each goroutine the stacks its
creators had when they started it (`[originating from goroutine N]:`), so
the chain leads back to the handler's line. Matched to a debug=1 stack by its
non-runtime frames (function and line), which both formats print alike.

Go prints an ancestor's frames one byte after their calls (no pc-1, unlike
every other traceback), so a call often reads as the line after it; see
_call_sites for how the call's own line is found.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

from harness.record.goroutines import Frame, Stack, _parking, _passthrough, _own, _short

_HEADER = re.compile(r"goroutine \d+( gp=\S+)?( m=\S+)? \[.*\]:$")
_CALL = re.compile(r"^(?P<func>\S.*?)\((?:[^()]*)\)$")
_FILE = re.compile(r"^\s+(?P<file>\S+?):(?P<line>\d+)(?: \+0x[0-9a-f]+)?.*$")
_CREATED = re.compile(r"^created by (?P<func>\S+)(?: in goroutine \d+)?$")
_ORIGIN = re.compile(r"^\[originating from goroutine \d+\]:$")


def key(frames) -> tuple[tuple[str, int], ...]:
    """A stack's identity across debug=1 and debug=2: its non-runtime (function, line) pairs."""
    return tuple((f.func, f.line) for f in frames if not _parking(f.func))


def _frames(lines: list[str]) -> list[Frame]:
    """Alternating 'func(args)' / '\\tfile:line +0x..' lines -> frames; other lines are skipped."""
    out = []
    for call, loc in zip(lines, lines[1:]):
        c, f = _CALL.match(call), _FILE.match(loc)
        if c and f and not call.startswith(("\t", " ")):
            out.append(Frame(c.group("func"), f.group("file"), int(f.group("line"))))
    return out


def goroutines(text: str) -> list[tuple[Stack, Stack]]:
    """debug=2 text -> (its own frames, its creators' frames: creation site first, then each ancestor's)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip("\n").splitlines()
        if not lines or not _HEADER.match(lines[0].strip()):
            continue
        body = lines[1:]
        # Sections: the goroutine's own stack, then 'created by', then each '[originating from ...]'.
        cut = next((i for i, ln in enumerate(body) if _CREATED.match(ln) or _ORIGIN.match(ln)), len(body))
        own_part, rest = body[:cut], body[cut:]
        creators: list[Frame] = []
        i = 0
        while i < len(rest):
            m = _CREATED.match(rest[i])
            if m and i + 1 < len(rest) and (loc := _FILE.match(rest[i + 1])):
                creators.append(Frame(m.group("func"), loc.group("file"), int(loc.group("line"))))
                i += 2
                continue
            if _ORIGIN.match(rest[i]):
                j = next((k for k in range(i + 1, len(rest)) if _CREATED.match(rest[k]) or _ORIGIN.match(rest[k])), len(rest))
                creators.extend(_call_sites(_frames(rest[i + 1:j])))
                i = j
                continue
            i += 1
        out.append((tuple(_frames(own_part)), tuple(creators)))
    return out


@functools.lru_cache(maxsize=64)
def _source(path: str) -> tuple[str, ...]:
    try:
        return tuple(Path(path).read_text(errors="replace").splitlines())
    except OSError:
        return ()


def _call_sites(frames: list[Frame]) -> list[Frame]:
    """An ancestor's frames at their calls, as far as the text shows them.

    Go stored each frame as its call's pc + 1 and printed the innermost function
    there. A call inside an inlined function (Client.Do inlined into a handler)
    then shows as the caller at the line after the inlined body, followed by the
    caller again at the call's line: the first of the two goes. A call that
    ended its line shows as the next line: where the source is at hand, the
    nearest line at or up to two before it that calls the inner frame's
    function is taken. (leak-watch, inside the process, re-reads the pc exactly.)
    """
    frames = [f for k, f in enumerate(frames)
              if not (k + 1 < len(frames) and (frames[k + 1].func, frames[k + 1].file) == (f.func, f.file))]
    out = list(frames)
    for k in range(1, len(frames)):
        f, callee = frames[k], frames[k - 1].func.split("[", 1)[0].rsplit(".", 1)[-1]
        src = _source(f.file)
        for line in range(f.line, max(f.line - 3, 0), -1):
            if line <= len(src) and callee + "(" in src[line - 1]:
                out[k] = Frame(f.func, f.file, line)
                break
    return out


_ACCEPT_LOOP = "net/http.(*Server).Serve"


def creator_frame(creators: Stack, own: str) -> str:
    """The innermost own frame among a goroutine's creators, '' when none is own code.

    A connection a server accepted is its client's doing, not an own line: the
    walk stops at the accept loop. main.main is no name either: everything
    descends from it. (leak-watch, in goservices/leakwatch, follows the same rules.)
    """
    mine: list[Frame] = []
    for f in creators:
        if f.func == _ACCEPT_LOOP:
            break
        if _own(f.func, own) and f.func != "main.main":
            mine.append(f)
    f = next((f for f in mine if not _passthrough(f.func)), mine[0] if mine else None)
    return f"{_short(f.file, own)}:{f.line}" if f else ""


def creators_by_stack(text: str, own: str) -> dict[tuple, str]:
    """Stack key -> the own line that started most goroutines with that stack (none: left out)."""
    votes: dict[tuple, Counter] = {}
    for frames, creators in goroutines(text):
        where = creator_frame(creators, own)
        if where:
            votes.setdefault(key(frames), Counter())[where] += 1
    return {k: c.most_common(1)[0][0] for k, c in votes.items()}


def lookup(creators: dict[tuple, str], k: tuple) -> str:
    """The creator of stack key k; a dump row may keep only its innermost frames, so a prefix matches too."""
    if k in creators:
        return creators[k]
    return next((where for full, where in creators.items() if k and full[:len(k)] == k), "")
