"""The gateway: nginx config rendered per run, one upstream group, its own prefix.

The access log records every attempt ($upstream_* are comma-separated lists, one
entry per attempt); the error log is at `warn`, the level at which nginx says
"upstream server temporarily disabled".
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.scenario import Gateway
from harness.stack.gateways import Launch

KIND = "nginx"
UPSTREAM = "app"
HEALTH_PATH = "/__gatewaylab/health"

ACCESS_FIELDS = {
    "msec": "$msec",
    "rid": "$http_x_request_id",
    "method": "$request_method",
    "uri": "$request_uri",
    "status": "$status",
    "request_time": "$request_time",
    "upstream_addr": "$upstream_addr",
    "upstream_status": "$upstream_status",
    "upstream_response_time": "$upstream_response_time",
    "upstream_connect_time": "$upstream_connect_time",
    "upstream_header_time": "$upstream_header_time",
    # A redirect as the replica sent it, and as the client got it (after proxy_redirect).
    "upstream_location": "$upstream_http_location",
    "location": "$sent_http_location",
}


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def _headers(gw: Gateway) -> tuple[str, str]:
    """The server-level and location-level lines for the headers the gateway sends.

    Only typed values reach the config (literals and booleans of the model, a
    validated host name); nginx's defaults render as nothing at all.
    """
    server, location = [], []
    if gw.public_host:
        server.append(f"server_name {gw.public_host};")
    if gw.public_scheme == "https":
        # nginx stands for a TLS-terminating gateway but speaks plain HTTP here, so
        # the redirects it completes itself would say http://<host>:<test port>.
        # Relative, the client resolves them against the public https:// origin.
        server.append("absolute_redirect off;")
    if gw.host_header == "host":
        location.append("proxy_set_header Host $host;")
    if gw.forwarded_proto:
        location.append(f"proxy_set_header X-Forwarded-Proto {gw.public_scheme};")
    if gw.forwarded_host:
        location.append("proxy_set_header X-Forwarded-Host $host;")
    if gw.proxy_redirect == "off":
        location.append("proxy_redirect off;")
    if gw.large_header_buffer_kb:
        server.append(f"large_client_header_buffers 4 {gw.large_header_buffer_kb}k;")
    if gw.proxy_buffer_size_kb:
        # proxy_buffers grow with it: nginx wants the busy buffers (2 x this) below all of them minus one.
        location += [f"proxy_buffer_size {gw.proxy_buffer_size_kb}k;", f"proxy_buffers 8 {gw.proxy_buffer_size_kb}k;"]
    if gw.next_upstream_tries:
        location.append(f"proxy_next_upstream_tries {gw.next_upstream_tries};")
    if gw.next_upstream_timeout_s:
        location.append(f"proxy_next_upstream_timeout {_ms(gw.next_upstream_timeout_s)};")
    if gw.upstream_keepalive:
        # Keep-alive to the upstream needs HTTP/1.1 and no "Connection: close" from nginx.
        location += ["proxy_http_version 1.1;", 'proxy_set_header Connection "";']
    return "".join(f"\n        {x}" for x in server), "".join(f"\n            {x}" for x in location)


def render(gw: Gateway, listen_port: int, servers: list[str], prefix: Path, down: frozenset[str] = frozenset(),
           master: bool = False) -> str:
    """servers: host:port of each upstream member (the gateway-leg proxies); `down` ones are out of the group
    (a readiness probe failing: Kubernetes takes the pod out of the Endpoints)."""
    fields = ",".join(f'"{k}":"{v}"' for k, v in ACCESS_FIELDS.items())
    members = "\n".join(
        f"        server {s} max_fails={gw.max_fails} fail_timeout={gw.fail_timeout_s}s{' down' if s in down else ''};"
        for s in servers
    )
    if gw.upstream_keepalive:
        members += (f"\n        keepalive {gw.upstream_keepalive};"
                    f"\n        keepalive_timeout {_ms(gw.upstream_keepalive_timeout_s)};")
    server_lines, location_lines = _headers(gw)
    temp = "\n".join(f"    {kind}_temp_path {prefix}/tmp/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Local: one process, no master: our direct child, it dies with the harness (parent-death
    # signal) and keeps one set of max_fails counters, like one worker. In a container: a master
    # and one worker, because a reload (readiness, rollouts) needs a master: without one, nginx
    # keeps the old cycle's connections and soon runs out of worker_connections.
    processes = "master_process on;\nworker_processes 1;" if master else "master_process off;"
    return f"""# Rendered by gatewaylab for one run; do not edit.
{processes}
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
    worker_connections 4096;
}}

http {{
{temp}
    log_format gatewaylab escape=json '{{{fields}}}';
    access_log {prefix}/access.log gatewaylab;

    upstream {UPSTREAM} {{
{members}
    }}

    server {{
        listen 127.0.0.1:{listen_port};{server_lines}

        location = {HEALTH_PATH} {{
            access_log off;
            return 200 "ok\\n";
        }}

        location / {{
            proxy_pass http://{UPSTREAM};
            proxy_connect_timeout {_ms(gw.connect_timeout_s)};
            proxy_read_timeout {_ms(gw.read_timeout_s)};
            proxy_send_timeout {_ms(gw.send_timeout_s)};
            proxy_next_upstream {' '.join(gw.proxy_next_upstream)};{location_lines}
        }}
    }}
}}
"""


def write(gw: Gateway, listen_port: int, servers: list[str], prefix: Path, down: frozenset[str] = frozenset(),
          master: bool = False) -> Path:
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / kind).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    tmp = conf.with_suffix(".tmp")  # a reload must never read half a file
    tmp.write_text(render(gw, listen_port, servers, prefix, down, master))
    tmp.replace(conf)
    return conf


def binary() -> Path:
    from harness.host.tools import find_nginx
    return find_nginx()


def version() -> str:
    out = subprocess.run([str(binary()), "-v"], capture_output=True, text=True, timeout=10).stderr
    return out.strip().rsplit("/", 1)[-1].split()[0] if "/" in out else "?"


def refusals(gw: Gateway) -> list[str]:
    """The common settings are nginx's own vocabulary; what it lacks is another gateway's latency check."""
    if gw.caddy.unhealthy_latency_ms is not None:
        return ["gateway.caddy.unhealthy_latency_ms: nginx has no latency check (a slow answer under "
                "proxy_read_timeout is never counted)."]
    return []


def launch(gw: Gateway, port: int, members: dict[str, str], prefix: Path, program: Path, master: bool = False) -> Launch:
    conf = write(gw, port, list(members.values()), prefix, master=master)
    return Launch(argv=[str(program), "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                  health_url=f"http://127.0.0.1:{port}{HEALTH_PATH}", conf=conf)


def state(admin: str) -> list[dict]:
    return []  # open-source nginx has no API for its upstream state: its error log says it


def passive_check(gw: Gateway) -> str:
    """Its passive check in words, for the report's stack line."""
    return f"max_fails {gw.max_fails}, fail_timeout {gw.fail_timeout_s} s"
