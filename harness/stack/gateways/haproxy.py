"""HAProxy (Debian's package) as the gateway.

How the common settings map:
  connect_timeout_s -> timeout connect; read_timeout_s -> timeout server (HAProxy has one server-side
  inactivity timeout, so a send_timeout_s other than its default is refused);
  proxy_next_upstream -> retry-on (error: conn-failure empty-response junk-response; timeout:
  response-timeout; http_<code>: <code>), retries = members - 1 with `option redispatch 1` (the next try
  goes to another server, like nginx's next upstream); without non_idempotent, POST/PATCH/LOCK get no
  layer-7 retry (`http-request disable-l7-retry`), as nginx does;
  max_fails -> `observe layer7` + `error-limit` (consecutive errors, not within a window) + on-error;
  fail_timeout_s -> inter, fastinter and downinter: a marked-down server comes back at its next passed active
  check (TCP connect by default), at most fail_timeout_s later: HAProxy has no fixed time out, so an episode
  lasts anywhere up to fail_timeout_s (nginx: about fail_timeout_s). max_fails 0 turns observing off.
Upstream keep-alive is off (`option http-server-close`), as nginx's default is.
What layer7 observing counts is HAProxy's own rule: connection errors, timeouts, bad responses and every
5xx except 501 and 505, whatever proxy_next_upstream lists.

The log goes to stdout (the process log) in ISO format: one JSON line per request, plus the
"Server app/<replica> is DOWN/UP" lines that are the ejection episodes.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from harness.errors import ToolMissing
from harness.host.procs import free_port
from harness.scenario import Gateway
from harness.stack.gateways import Launch

KIND = "haproxy"
BACKEND = "app"
HEALTH_PATH = "/__gatewaylab/health"
RETRY_ON = {"error": ["conn-failure", "empty-response", "junk-response"], "timeout": ["response-timeout"],
            "http_500": ["500"], "http_502": ["502"], "http_503": ["503"], "http_504": ["504"],
            "http_403": ["403"], "http_404": ["404"]}
# One line per request, JSON (every value is a number or a token without quotes, the request id a uuid).
LOG_FORMAT = ('{"end_ms":%[date(0,ms)],"rid":"%[capture.req.hdr(0)]","method":"%HM","uri":"%HU","status":%ST,'
              '"ta_ms":%Ta,"tr_ms":%Tr,"tc_ms":%Tc,"tw_ms":%Tw,"server":"%s","retries":"%rc","term":"%tsc"}')


def binary() -> Path:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not found:
        raise ToolMissing("HAProxy is not installed. Run `make setup` as root (it installs Debian's haproxy "
                          "package), or `sudo apt-get install haproxy`.")
    return Path(found)


def version() -> str:
    import subprocess
    out = subprocess.run([str(binary()), "-v"], capture_output=True, text=True, timeout=10).stdout
    return out.split()[2] if out.startswith("HAProxy version") else "?"


def refusals(gw: Gateway) -> list[str]:
    out = []
    if gw.send_timeout_s != Gateway.model_fields["send_timeout_s"].default:
        out.append("gateway.send_timeout_s: HAProxy has one server-side timeout (timeout server), set from "
                   "read_timeout_s; a send timeout of its own cannot be expressed (leave send_timeout_s at its default).")
    if gw.caddy.unhealthy_latency_ms is not None:
        out.append("gateway.caddy.unhealthy_latency_ms: HAProxy's passive check has no latency limit (a slow answer "
                   "under timeout server is never an error).")
    if "http_429" in gw.proxy_next_upstream:
        out.append("gateway.proxy_next_upstream http_429: HAProxy 2.6's retry-on has no 429.")
    if "invalid_header" in gw.proxy_next_upstream:
        out.append("gateway.proxy_next_upstream invalid_header: use error (junk-response) for HAProxy.")
    if gw.next_upstream_tries or gw.next_upstream_timeout_s:
        out.append("gateway.next_upstream_tries / next_upstream_timeout_s: mapped for nginx only so far (here a "
                   "retry goes to every other member once).")
    for field in ("large_header_buffer_kb", "proxy_buffer_size_kb"):
        if getattr(gw, field) is not None:
            out.append(f"gateway.{field}: nginx's header buffers; HAProxy's own limits are not mapped yet.")
    if gw.upstream_keepalive or gw.upstream_keepalive_timeout_s != Gateway.model_fields["upstream_keepalive_timeout_s"].default:
        out.append("gateway.upstream_keepalive: keep-alive to the replicas is mapped for nginx only so far "
                   "(HAProxy runs with option http-server-close, a new connection per request).")
    for field in ("public_host", "host_header", "forwarded_proto", "forwarded_host", "proxy_redirect", "public_scheme"):
        if getattr(gw, field) != Gateway.model_fields[field].default:
            out.append(f"gateway.{field}: the header settings are mapped for nginx only so far.")
    return out


def render(gw: Gateway, port: int, members: dict[str, str], admin: str) -> str:
    h = gw.haproxy
    listed = [] if "off" in gw.proxy_next_upstream else gw.proxy_next_upstream
    retry_on = [k for item in listed for k in RETRY_ON.get(item, [])] or ["none"]
    retries = len(members) - 1 if listed else 0
    l7 = [k for k in retry_on if k != "conn-failure" and k != "none"]
    # A marked-down server comes back at its next passed check; marking it down only ever brings a check forward
    # (to fastinter), never postpones one already due. So every interval is fail_timeout_s: the server stays out
    # until the next check, at most fail_timeout_s (with inter 2 s it was back within 1.5-1.8 s, measured).
    out = _ms(gw.fail_timeout_s)
    inter = _ms(h.inter_s) if h.inter_s is not None else out
    check = f"check inter {inter} fastinter {out} downinter {out} rise {h.rise} fall {h.fall}"
    if gw.max_fails > 0:
        check += f" observe layer7 error-limit {gw.max_fails} on-error {h.on_error}"
    servers = "\n".join(f"    server {name} {addr} {check}" for name, addr in members.items())
    lines = [
        "# Rendered by gatewaylab for one run; do not edit.",
        "global",
        "    log stdout format iso local0 info",
        "    maxconn 4096",
        # On loopback TCP: a unix socket's path in a run folder can pass the 97-byte limit.
        f"    stats socket ipv4@{admin} level admin",
        "defaults",
        "    mode http",
        "    log global",
        f"    timeout connect {_ms(gw.connect_timeout_s)}",
        f"    timeout server {_ms(gw.read_timeout_s)}",
        "    timeout client 120s",
        "    timeout http-request 10s",
        "frontend gw",
        f"    bind 127.0.0.1:{port}",
        "    capture request header X-Request-Id len 64",
        f"    log-format '{LOG_FORMAT}'",
        f'    http-request return status 200 content-type text/plain string ok if {{ path {HEALTH_PATH} }}',
        f"    default_backend {BACKEND}",
        f"backend {BACKEND}",
        "    balance roundrobin",
        # One connection per request to the replica, as nginx does by default: idle keep-alive connections the
        # gateway holds would read as fds and goroutines the service left behind (upstream keep-alive is #12's).
        "    option http-server-close",
        f"    retries {retries}",
        "    option redispatch 1",
        f"    retry-on {' '.join(retry_on)}",
    ]
    if h.check == "http":
        lines.append("    option httpchk GET /healthz")
    if l7 and "non_idempotent" not in gw.proxy_next_upstream:
        lines.append("    http-request disable-l7-retry if { method POST PATCH LOCK }")
    return "\n".join(lines) + "\n" + servers + "\n"


def launch(gw: Gateway, port: int, members: dict[str, str], prefix: Path, program: Path) -> Launch:
    conf = prefix / "haproxy.cfg"
    admin = f"127.0.0.1:{free_port()}"
    conf.write_text(render(gw, port, members, admin))
    # -db: foreground, no daemon; -W off: one process, our direct child.
    return Launch(argv=[str(program), "-db", "-f", str(conf)], health_url=f"http://127.0.0.1:{port}{HEALTH_PATH}",
                  admin=admin, conf=conf)


def state(admin: str) -> list[dict]:
    """Each server's status and counters from the stats socket (`show stat`): HAProxy's own view."""
    host, port = admin.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=1.0) as s:
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode(errors="replace").splitlines()
    if not lines or not lines[0].startswith("# "):
        return []
    head = lines[0][2:].split(",")
    out = []
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row.get("pxname") == BACKEND and row.get("svname") not in ("BACKEND", "FRONTEND"):
            out.append({"member": row["svname"], "status": row.get("status"), "fails": _int(row.get("eresp")),
                        "conn_errors": _int(row.get("econ")), "retries": _int(row.get("wretr")),
                        "redispatches": _int(row.get("wredis")), "http_5xx": _int(row.get("hrsp_5xx")),
                        "check": row.get("check_status")})
    return out


def _int(v: str | None) -> int | None:
    return int(v) if v not in (None, "") and v.isdigit() else None


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def passive_check(gw: Gateway) -> str:
    """Its passive check in words, for the report's stack line."""
    if not gw.max_fails:
        return "no observing"
    return (f"observe layer7, error-limit {gw.max_fails} consecutive, on-error {gw.haproxy.on_error}, "
            f"re-checked every {gw.fail_timeout_s} s by {gw.haproxy.check.upper()} while down")
