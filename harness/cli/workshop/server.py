"""The workshop's web server: the standard library's threading HTTP server, on 127.0.0.1 only.

GET  /                  the page (scenario index, run controls, live timeline)
GET  /api/live          the current run, read from its folder (the page polls it every second)
GET  /report            the current run's report.html, once written
POST /api/run           {"scenario": NAME, "variants": [..]}: start a run
POST /api/check         {"scenario": NAME, "file": TEXT}: an exercise check of the participant's file
POST /api/stop          stop it; answers once its stack is torn down

POSTs must be JSON from this very origin (Host and Origin checked), so no other site open in the
trainer's browser can start or stop a run.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from harness.cli.workshop import catalog, exercises
from harness.cli.workshop.live import Live
from harness.cli.workshop.session import Busy, Session
from harness.errors import GatewaylabError
from harness.record import folder as rf
from harness.report import interactive, pages

HOST = "127.0.0.1"
MAX_BODY = 2 * exercises.MAX_FILE_BYTES  # JSON quoting can double a file's size
DRAIN_LIMIT = 16 * 1024 * 1024  # a refused body is read and dropped up to this much


class Workshop:
    """What the handlers share: the page (rendered once), the session and the live reader."""

    def __init__(self, reports: Path):
        self.session = Session(reports)
        self.index = catalog.index()
        self.exercises = exercises.panels()
        self.live: Live | None = None
        self.lock = threading.Lock()

    def page(self) -> str:
        assets = interactive.assets()
        return pages.render("workshop.html.j2", scenarios=self.index, assets=assets,
                            missing_note=None if assets else interactive.MISSING,
                            exercises=self.exercises,
                            highlight_css=catalog.highlight_css(), workshop_js=interactive.WORKSHOP_JS.read_text(),
                            index_json=interactive.script_json(
                                {e["name"]: {"variants": e.get("variants", []), "duration_s": e.get("duration_s")}
                                 for e in self.index}))

    def snapshot(self) -> dict:
        s = self.session
        with self.lock:
            folder = s.folder()
            if folder is not None and (self.live is None or self.live.run.path != folder):
                self.live = Live(folder)
            try:
                run = self.live.snapshot() if self.live is not None and folder is not None else {"ready": False}
            except (OSError, GatewaylabError):
                if folder.exists():
                    raise
                run = {"ready": False}  # a check whose file did not compile removes the folder it had made
        code = s.exit_code()
        checked = exercises.result(s.workspace, folder, code, s.log_tail(80, 32768)) if s.kind == "check" else None
        return {"state": s.state(), "kind": s.kind, "scenario": s.scenario, "variants": s.variants, "exit_code": code,
                "log": s.log_tail(), "run": run, "exercise": checked}


def handler(ws: Workshop, port_of) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gatewaylab-workshop"

        def log_message(self, fmt, *args):  # the trainer's terminal shows the URL, not every poll
            pass

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, data, status: int = 200) -> None:
            self._send(status, json.dumps(data, default=str).encode(), "application/json")

        def _same_origin(self) -> bool:
            ours = {f"{HOST}:{port_of()}", f"localhost:{port_of()}"}
            origin = self.headers.get("Origin")
            return (self.headers.get("Host") in ours and (origin is None or origin.split("://", 1)[-1] in ours)
                    and self.headers.get("Content-Type", "").startswith("application/json"))

        def do_GET(self):
            try:
                self._get(self.path.split("?", 1)[0])
            except Exception as e:  # a page that fails says why, instead of an empty answer
                self._send(500, f"gatewaylab workshop: {type(e).__name__}: {e}".encode(), "text/plain")

        def _get(self, path: str) -> None:
            if path == "/":
                self._send(200, ws.page().encode(), "text/html; charset=utf-8")
            elif path == "/api/live":
                self._json(ws.snapshot())
            elif path == "/report":
                folder = ws.session.folder()
                page = folder / rf.REPORT if folder is not None else None
                if page is None or not page.exists():
                    self._send(404, b"No report yet: it is written when the run ends.", "text/plain")
                else:
                    self._send(200, page.read_bytes(), "text/html; charset=utf-8")
            elif path == "/favicon.ico":
                self._send(204, b"", "image/x-icon")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self):
            if not self._same_origin():
                return self._json({"error": "only this page, as JSON, may start or stop a run"}, HTTPStatus.FORBIDDEN)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                # read what was sent before answering: closing on unread bytes resets the connection,
                # and the client would see a broken pipe instead of the 413
                left = min(length, DRAIN_LIMIT)
                while left > 0 and (chunk := self.rfile.read(min(left, 65536))):
                    left -= len(chunk)
                self.close_connection = True
                return self._json({"error": f"too large: at most {MAX_BODY} bytes"}, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return self._json({"error": "not JSON"}, HTTPStatus.BAD_REQUEST)
            if self.path == "/api/run":
                names = {e["name"]: e for e in ws.index}
                name, variants = body.get("scenario"), body.get("variants") or []
                known = {v["name"] for v in names.get(name, {}).get("variants", [])}
                if name not in names or not isinstance(variants, list) or not set(variants) <= known:
                    return self._json({"error": f"unknown scenario or variant: {name} {variants}"}, HTTPStatus.BAD_REQUEST)
                try:
                    ws.session.start(name, variants)
                except Busy as e:
                    return self._json({"error": str(e)}, HTTPStatus.CONFLICT)
                return self._json({"started": name, "variants": variants})
            if self.path == "/api/check":
                return self._check(body)
            if self.path == "/api/stop":
                code = ws.session.stop()
                return self._json({"stopped": True, "exit_code": code})
            self._json({"error": "not found"}, HTTPStatus.NOT_FOUND)

        def _check(self, body: dict) -> None:
            name, text = body.get("scenario"), body.get("file")
            if name not in ws.exercises:
                return self._json({"error": f"no exercise for {name!r}"}, HTTPStatus.BAD_REQUEST)
            if not isinstance(text, str) or not text.strip() or len(text.encode()) > exercises.MAX_FILE_BYTES:
                return self._json({"error": f"the file must be Go source text of at most {exercises.MAX_FILE_BYTES} "
                                            "bytes"}, HTTPStatus.BAD_REQUEST)
            try:
                folder = ws.session.check(name, lambda: exercises.write(ws.session.reports, name, text))
            except Busy as e:
                return self._json({"error": str(e)}, HTTPStatus.CONFLICT)
            return self._json({"checking": name, "workspace": str(folder)})

    return Handler


def serve(reports: Path, port: int = 0, ready=None) -> None:
    """Serve until interrupted; a run still going is stopped (and torn down) on the way out.
    ready(url) is called once the socket listens."""
    ws = Workshop(reports)
    httpd = ThreadingHTTPServer((HOST, port), handler(ws, lambda: httpd.server_address[1]))
    httpd.daemon_threads = True
    url = f"http://{HOST}:{httpd.server_address[1]}/"
    if ready is not None:
        ready(url)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        ws.session.stop()
