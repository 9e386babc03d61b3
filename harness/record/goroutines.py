"""Goroutine dumps: parse `/debug/pprof/goroutine?debug=1`, diff two of them.

A stack's identity is its frames as (function, file:line), so the same stack
keeps its identity across addresses (another build, ASLR) and pprof labels.

`own_frame` is the innermost frame of your code (functions under the `own`
module prefix, or package main), skipping own RoundTrip/ServeHTTP wrappers
when a deeper own frame exists. `blocking_call` is the innermost frame that is not Go's parking machinery,
i.e. what the goroutine waits on. Skipped as machinery: package runtime and
internal/runtime/..., runtime hooks linked into other packages (their names
hold `.runtime_`, e.g. internal/poll.runtime_pollWait,
sync.runtime_SemacquireWaitGroup) and the netpoller's wait helpers
internal/poll.(*pollDesc).*, so a socket read shows as internal/poll.(*FD).Read
rather than a poller detail. The outermost skipped frame, when there is one,
is `wait` (e.g. runtime.chanrecv1). Note that debug=1 already hides a
stack's leading runtime frames, so `wait` is often empty there and the
blocking call of `<-ch` is the user function doing the receive.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field

import requests

from harness.errors import GatewaylabError
from harness.host.probes import SESSION

_HEADER = re.compile(r"goroutine profile: total (\d+)\s*$")
_BLOCK = re.compile(r"(\d+) @(?: 0x[0-9a-fA-F]+)*\s*$")
_FRAME = re.compile(r"#\s+0x[0-9a-fA-F]+\s+(\S+?)(?:\+0x[0-9a-fA-F]+)?\s+(.+):(\d+)\s*$")
_BARE_PC = re.compile(r"#\s+0x[0-9a-fA-F]+\s*$")  # a PC the binary could not symbolize
_MAX_BYTES = 256 << 20
_FRAMES_SHOWN = 8
_HINT = "fetch it with /debug/pprof/goroutine?debug=1"


class DumpError(GatewaylabError):
    """A goroutine dump could not be fetched or is not debug=1 text."""


@dataclass(frozen=True)
class Frame:
    func: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.func} {self.file}:{self.line}"


Stack = tuple[Frame, ...]


@dataclass
class Dump:
    total: int
    stacks: dict[Stack, int] = field(default_factory=dict)  # identity -> goroutines


@dataclass
class StackGrowth:
    before: int
    after: int
    growth: int
    blocking_call: str
    wait: str  # the parking call under blocking_call, "" when the dump hides it
    own_frame: str  # "goservices/pkg/file.go:LINE", "" when no frame is own code
    frames: list[str]
    created_by_own: bool = False  # own_frame is the line that started it, not a frame of its stack


def parse(text: str) -> Dump:
    """Parse debug=1 text. Blocks with the same identity are summed."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip()), len(lines))
    first = lines[start] if start < len(lines) else ""
    m = _HEADER.match(first.strip())
    if not m:
        raise DumpError(f"this is not a goroutine profile in debug=1 text ({_describe(first)}); {_HINT}.")
    dump = Dump(total=int(m.group(1)))
    count, frames = None, []

    def close_block() -> None:
        if count is not None:
            key = tuple(frames)
            dump.stacks[key] = dump.stacks.get(key, 0) + count

    for n, raw in enumerate(lines[start + 1:], start=start + 2):
        line = raw.strip()
        if not line or line.startswith("# labels:"):
            continue
        if b := _BLOCK.match(line):
            close_block()
            count, frames = int(b.group(1)), []
        elif count is not None and (f := _FRAME.match(line)):
            frames.append(Frame(f.group(1), f.group(2), int(f.group(3))))
        elif count is not None and _BARE_PC.match(line):
            frames.append(Frame("?", "?", 0))
        else:
            raise DumpError(f"line {n} of the goroutine dump is not debug=1 text: {line[:80]!r}; {_HINT}.")
    close_block()
    return dump


def _describe(first: str) -> str:
    s = first.strip()
    if not s:
        return "it is empty"
    if s.startswith("<"):
        return "it looks like HTML, perhaps the /debug/pprof/ index page"
    if re.match(r"goroutine \d+ \[", s):
        return "it looks like a debug=2 dump"
    return f"it starts with {s[:60]!r}"


def _package(func: str) -> str:
    slash = func.rfind("/") + 1
    dot = func.find(".", slash)
    return func[:dot] if dot >= 0 else func


def _parking(func: str) -> bool:
    pkg = _package(func)
    return (pkg == "runtime" or pkg.startswith("internal/runtime/") or ".runtime_" in func
            or func.startswith("internal/poll.(*pollDesc)."))


def _own(func: str, own: str) -> bool:
    return func.startswith("main.") or bool(own) and (func.startswith(own + "/") or func.startswith(own + "."))


def _passthrough(func: str) -> bool:
    return func.endswith((".RoundTrip", ".ServeHTTP"))


def _short(file: str, own: str) -> str:
    """Path from the module's last element on: /work/main/goservices/x.go -> goservices/x.go."""
    marker = "/" + own.rstrip("/").rsplit("/", 1)[-1] + "/" if own else None
    if marker and marker in file:
        return file[file.index(marker) + 1:]
    return "/".join(file.split("/")[-2:])


def describe(stack: Stack, own: str) -> tuple[str, str, str]:
    """(blocking_call, wait, own_frame) of one stack."""
    i = next((i for i, f in enumerate(stack) if not _parking(f.func)), None)
    if i is None:  # runtime-only goroutine: name what it is
        blocking, wait = (stack[0].func if stack else "?"), ""
    else:
        blocking, wait = stack[i].func, (stack[i - 1].func if i > 0 else "")
    mine = [f for f in stack if _own(f.func, own)]
    # Own middleware (a RoundTripper or Handler wrapper) only forwards the
    # call: point at the own code that made it, e.g. the handler.
    mine = next((f for f in mine if not _passthrough(f.func)), mine[0] if mine else None)
    return blocking, wait, f"{_short(mine.file, own)}:{mine.line}" if mine else ""


def diff(before: Dump, after: Dump, threshold: int = 5, own: str = "gatewaylab/goservices") -> list[StackGrowth]:
    """Stacks whose goroutine count grew by `threshold` or more, largest growth first."""
    out = []
    for stack in before.stacks.keys() | after.stacks.keys():
        b, a = before.stacks.get(stack, 0), after.stacks.get(stack, 0)
        if a - b < threshold:
            continue
        blocking, wait, own_frame = describe(stack, own)
        out.append(StackGrowth(b, a, a - b, blocking, wait, own_frame, [str(f) for f in stack[:_FRAMES_SHOWN]]))
    out.sort(key=lambda g: (-g.growth, not g.own_frame, g.blocking_call))  # on ties, stacks in own code first
    return out


def complete_url(url: str) -> str:
    """Point a bare admin address or /debug/pprof/ at the debug=1 goroutine profile."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path
    if path in ("", "/"):
        path = "/debug/pprof/goroutine"
    elif path.rstrip("/").endswith("/debug/pprof"):
        path = path.rstrip("/") + "/goroutine"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "debug" for k, _ in query):
        query.append(("debug", "1"))
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, urllib.parse.urlencode(query), ""))


def fetch(url: str, timeout_s: float = 5.0) -> str:
    """GET a goroutine dump as text. No proxy: admin ports are reached directly."""
    full = complete_url(url)
    if urllib.parse.urlsplit(full).scheme not in ("http", "https"):
        raise DumpError(f"{url} is not an http(s) URL; give the admin address, e.g. http://127.0.0.1:9081.")
    try:
        with SESSION.get(full, timeout=timeout_s, stream=True) as r:
            if r.status_code != 200:
                raise DumpError(f"{full} answered HTTP {r.status_code}; is this the admin port serving /debug/pprof/?")
            body = r.raw.read(_MAX_BYTES + 1, decode_content=True)
    except (requests.RequestException, OSError, ValueError) as e:
        raise DumpError(f"could not fetch {full} within {timeout_s:g} s: {e}.") from None
    if len(body) > _MAX_BYTES:
        raise DumpError(f"{full} sent more than {_MAX_BYTES >> 20} MB; that is not a goroutine dump.")
    return body.decode("utf-8", errors="replace")
