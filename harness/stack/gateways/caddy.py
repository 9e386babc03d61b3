"""Caddy (built from the Go module proxy, pinned) as the gateway, configured with its JSON config.

How the common settings map:
  connect_timeout_s -> transport dial_timeout; read_timeout_s -> response_header_timeout (nginx's read
  timeout also bounds each later read of the body; Caddy's read_timeout would race the header timeout,
  so the body is left unbounded, as Caddy does by default); send_timeout_s -> write_timeout;
  proxy_next_upstream -> load_balancing.retries = members - 1 (error and timeout together: Caddy retries
  every failed dial, and any other transport failure of a GET, or of any method with non_idempotent);
  http_<code> -> retried by a retry_match on the status and counted (unhealthy_status);
  max_fails, fail_timeout_s -> passive health check max_fails within fail_duration (a failure is
  forgotten fail_duration after it was counted; the member is out while max_fails are remembered).
Selection is round_robin (Caddy's default is random), as nginx and HAProxy do; upstream keep-alive is off,
as nginx's default is.

The log is Caddy's own JSON: the access log, and reverse_proxy's debug lines ("upstream roundtrip",
one per attempt). Caddy logs nothing when a member becomes unhealthy: state() reads the admin API's
/reverse_proxy/upstreams (fails per member) for the gateway's own view.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import ToolMissing
from harness.host.probes import http_get
from harness.scenario import Gateway
from harness.stack.gateways import Launch
from harness.host.procs import free_port

KIND = "caddy"
VERSION = "2.11.9"
HEALTH_PATH = "/__gatewaylab/health"
ROOT = Path(__file__).resolve().parents[3]
IDEMPOTENT = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]


def binary() -> Path:
    path = ROOT / "tools" / f"caddy-{VERSION}"
    if not path.exists():
        raise ToolMissing(f"Caddy v{VERSION} is not built ({path} is missing). Run `make setup` in {ROOT} "
                          f"(it builds it from the Go module proxy with Go).")
    return path


def version() -> str:
    return VERSION


def refusals(gw: Gateway) -> list[str]:
    out = []
    listed = set(gw.proxy_next_upstream) - {"off", "non_idempotent"}
    if ("error" in listed) != ("timeout" in listed):
        out.append("gateway.proxy_next_upstream: Caddy retries every transport failure alike; list error and "
                   "timeout together (or neither).")
    if "invalid_header" in listed:
        out.append("gateway.proxy_next_upstream invalid_header: Caddy treats it as any transport failure (error).")
    if gw.next_upstream_tries or gw.next_upstream_timeout_s:
        out.append("gateway.next_upstream_tries / next_upstream_timeout_s: mapped for nginx only so far (here a "
                   "retry goes to every other member once).")
    for field in ("large_header_buffer_kb", "proxy_buffer_size_kb"):
        if getattr(gw, field) is not None:
            out.append(f"gateway.{field}: nginx's header buffers; Caddy's own limits are not mapped yet.")
    if gw.upstream_keepalive or gw.upstream_keepalive_timeout_s != Gateway.model_fields["upstream_keepalive_timeout_s"].default:
        out.append("gateway.upstream_keepalive: keep-alive to the replicas is mapped for nginx only so far "
                   "(Caddy runs with keep_alive off, a new connection per request).")
    for field in ("public_host", "host_header", "forwarded_proto", "forwarded_host", "proxy_redirect", "public_scheme"):
        if getattr(gw, field) != Gateway.model_fields[field].default:
            out.append(f"gateway.{field}: the header settings are mapped for nginx only so far.")
    return out


def statuses(gw: Gateway) -> list[int]:
    return sorted({int(x[5:]) for x in gw.proxy_next_upstream if x.startswith("http_")} | set(gw.caddy.unhealthy_status))


def config(gw: Gateway, port: int, admin: int, members: dict[str, str], prefix: Path) -> dict:
    listed = [x for x in gw.proxy_next_upstream if x != "off"]
    codes = sorted(int(x[5:]) for x in listed if x.startswith("http_"))
    methods = None if "non_idempotent" in listed else IDEMPOTENT
    lb: dict = {"selection_policy": {"policy": "round_robin"}}
    if listed and len(members) > 1:
        lb["retries"] = len(members) - 1
        match: list[dict] = [{"method": methods} if methods else {"expression": "true"}]
        if codes:
            cond = f"{{http.reverse_proxy.status_code}} in {codes}"
            if methods:
                cond += f" && {{http.request.method}} in {json.dumps(methods)}"
            match.insert(0, {"expression": cond})
        lb["retry_match"] = match
    proxy: dict = {
        "handler": "reverse_proxy",
        "upstreams": [{"dial": addr} for addr in members.values()],
        "load_balancing": lb,
        # keep_alive off: one connection per request, as nginx does by default (see haproxy.py).
        "transport": {"protocol": "http", "dial_timeout": _d(gw.connect_timeout_s),
                      "response_header_timeout": _d(gw.read_timeout_s), "write_timeout": _d(gw.send_timeout_s),
                      "keep_alive": {"enabled": False}},
        # nginx's default Host upstream is the group's address, Caddy's the client's: send the member's.
        "headers": {"request": {"set": {"Host": ["{http.reverse_proxy.upstream.hostport}"]}}},
    }
    if gw.max_fails > 0:
        passive: dict = {"fail_duration": _d(gw.fail_timeout_s), "max_fails": gw.max_fails}
        if statuses(gw):
            passive["unhealthy_status"] = statuses(gw)
        if gw.caddy.unhealthy_latency_ms:
            passive["unhealthy_latency"] = f"{gw.caddy.unhealthy_latency_ms}ms"
        proxy["health_checks"] = {"passive": passive}
    return {
        "admin": {"listen": f"127.0.0.1:{admin}", "config": {"persist": False}},
        "logging": {"logs": {"default": {
            "writer": {"output": "file", "filename": str(prefix / "caddy.log"), "roll": False},
            "encoder": {"format": "json"}, "level": "DEBUG",
            "include": ["http.handlers.reverse_proxy", "http.log.access"]}}},
        "storage": {"module": "file_system", "root": str(prefix / "data")},
        "apps": {"http": {"servers": {"gw": {
            "listen": [f"127.0.0.1:{port}"],
            "automatic_https": {"disable": True},
            "logs": {},
            "routes": [
                {"match": [{"path": [HEALTH_PATH]}], "terminal": True,
                 "handle": [{"handler": "static_response", "status_code": 200, "body": "ok\n"}]},
                {"handle": [proxy]},
            ],
        }}}},
    }


def launch(gw: Gateway, port: int, members: dict[str, str], prefix: Path, program: Path) -> Launch:
    admin = free_port()
    conf = prefix / "caddy.json"
    conf.write_text(json.dumps(config(gw, port, admin, members, prefix), indent=2))
    # Caddy keeps autosaves and certificates under XDG folders: the run's own, never the user's.
    env = {"XDG_CONFIG_HOME": str(prefix / "config"), "XDG_DATA_HOME": str(prefix / "data"), "HOME": str(prefix)}
    return Launch(argv=[str(program), "run", "--config", str(conf)], health_url=f"http://127.0.0.1:{port}{HEALTH_PATH}",
                  env=env, admin=f"127.0.0.1:{admin}", conf=conf)


def state(admin: str) -> list[dict]:
    """Fails remembered and requests in flight per member, from the admin API: Caddy's own view."""
    got = http_get(f"http://{admin}/reverse_proxy/upstreams", 1.0)
    if got is None or got[0] != 200:
        return []
    return [{"member": u.get("address"), "fails": u.get("fails"), "in_flight": u.get("num_requests")}
            for u in json.loads(got[1])]


def _d(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def passive_check(gw: Gateway) -> str:
    """Its passive check in words, for the report's stack line."""
    extra = f", unhealthy_latency {gw.caddy.unhealthy_latency_ms} ms" if gw.caddy.unhealthy_latency_ms else ""
    return f"passive max_fails {gw.max_fails} within fail_duration {gw.fail_timeout_s} s{extra}" if gw.max_fails else "no passive check"
