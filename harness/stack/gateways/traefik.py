"""Traefik (v3.6.12, built from the Go module proxy by `make traefik`) as the gateway: a static config
(entry points, logs, metrics, API) and a file-provider dynamic config (routers, service, retry, transport).

How the common settings map:
  connect_timeout_s -> serversTransport forwardingTimeouts.dialTimeout; read_timeout_s -> responseHeaderTimeout
  (Traefik has no timeout on later reads of the body, nor on sending the request: send_timeout_s is refused);
  proxy_next_upstream -> the retry middleware when it lists error, attempts = next_upstream_tries or members.
  Traefik retries only an attempt that never reached a server (a refused or timed-out dial), POST as well as
  GET: timeout, invalid_header and http_<code> run as listed but are never retried (no such condition exists);
  max_fails, fail_timeout_s -> the load balancer's passiveHealthCheck maxFailedAttempts within failureWindow
  (consecutive failures: any good answer clears them; out for failureWindow on a timer). max_fails 0: none.
What it counts is its own rule (pkg/healthcheck): an attempt that ends with a status of 500 or more,
the server's own 5xx included, or that never reached the server. Upstream keep-alive is off
(maxIdleConnsPerHost -1), as nginx's default is; the Host sent upstream is the server's (passHostHeader false).

Logs: the access log (JSON, one line per client request, the last attempt only) and the DEBUG log
(JSON), whose "Setting status of <url> to DOWN/UP" lines are the ejection episodes. The API's serverStatus
stays UP while the passive check has a server out: state() reads the Prometheus gauge traefik_service_server_up.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from harness.errors import ToolMissing
from harness.host.probes import http_get
from harness.host.procs import free_port
from harness.scenario import Gateway
from harness.stack.gateways import Launch

KIND = "traefik"
VERSION = "3.6.12"
HEALTH_PATH = "/__gatewaylab/health"
SERVICE = "app"
ROOT = Path(__file__).resolve().parents[3]
ACCESS_LOG = "access.log"
DEBUG_LOG = "traefik.log"
GAUGE = "traefik_service_server_up"


def binary() -> Path:
    path = ROOT / "tools" / f"traefik-{VERSION}"
    if not path.exists():
        raise ToolMissing(f"Traefik v{VERSION} is not built ({path} is missing). Run `make traefik` in {ROOT} "
                          f"(it builds it from the Go module proxy with Go: about 12 minutes on 2 cores, once).")
    return path


def version() -> str:
    return VERSION


def refusals(gw: Gateway) -> list[str]:
    out = []
    if gw.send_timeout_s != Gateway.model_fields["send_timeout_s"].default:
        out.append("gateway.send_timeout_s: Traefik has no timeout on sending the request to a server "
                   "(leave send_timeout_s at its default).")
    if gw.caddy.unhealthy_latency_ms is not None:
        out.append("gateway.caddy.unhealthy_latency_ms: Traefik's passive check has no latency limit (a slow answer "
                   "under responseHeaderTimeout is a success).")
    if gw.next_upstream_timeout_s:
        out.append("gateway.next_upstream_timeout_s: Traefik's retry middleware has attempts and a back-off, no time limit.")
    if gw.next_upstream_tries and "error" not in gw.proxy_next_upstream:
        out.append("gateway.next_upstream_tries: Traefik retries only failed dials (proxy_next_upstream error); "
                   "without error there is nothing for tries to bound.")
    for field in ("large_header_buffer_kb", "proxy_buffer_size_kb"):
        if getattr(gw, field) is not None:
            out.append(f"gateway.{field}: nginx's header buffers; Traefik's own limits are not mapped yet.")
    if gw.upstream_keepalive or gw.upstream_keepalive_timeout_s != Gateway.model_fields["upstream_keepalive_timeout_s"].default:
        out.append("gateway.upstream_keepalive: keep-alive to the replicas is mapped for nginx only so far "
                   "(Traefik runs with maxIdleConnsPerHost -1, a new connection per request).")
    for field in ("public_host", "host_header", "forwarded_proto", "forwarded_host", "proxy_redirect", "public_scheme"):
        if getattr(gw, field) != Gateway.model_fields[field].default:
            out.append(f"gateway.{field}: the header settings are mapped for nginx only so far.")
    return out


def retry_attempts(gw: Gateway, members: int) -> int:
    """How many attempts the retry middleware makes in all (1: no retry middleware)."""
    if "error" not in gw.proxy_next_upstream or members < 2:
        return 1
    return gw.next_upstream_tries or members


def static(port: int, admin: int, prefix: Path) -> dict:
    return {
        # No traffic anywhere but loopback: no version check, no usage statistics.
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {"web": {"address": f"127.0.0.1:{port}"}, "traefik": {"address": f"127.0.0.1:{admin}"}},
        "providers": {"file": {"filename": str(prefix / "dynamic.yaml"), "watch": False}},
        "api": {"insecure": True, "dashboard": False},  # on the traefik entry point (127.0.0.1:admin)
        "ping": {"entryPoint": "traefik", "manualRouting": True},
        "metrics": {"prometheus": {"entryPoint": "traefik", "addServicesLabels": True,
                                   "addEntryPointsLabels": False, "addRoutersLabels": False}},
        "log": {"level": "DEBUG", "format": "json", "filePath": str(prefix / DEBUG_LOG)},
        "accessLog": {"filePath": str(prefix / ACCESS_LOG), "format": "json",
                      "fields": {"defaultMode": "keep", "headers": {"defaultMode": "drop",
                                                                    "names": {"X-Request-Id": "keep"}}}},
    }


def dynamic(gw: Gateway, members: dict[str, str]) -> dict:
    lb: dict = {"servers": [{"url": f"http://{addr}"} for addr in members.values()],
                "passHostHeader": False, "serversTransport": "members"}
    if gw.max_fails > 0:
        lb["passiveHealthCheck"] = {"maxFailedAttempts": gw.max_fails, "failureWindow": f"{gw.fail_timeout_s}s"}
    app: dict = {"entryPoints": ["web"], "rule": "PathPrefix(`/`)", "service": SERVICE, "priority": 1}
    http: dict = {
        "routers": {
            # The harness's readiness check: answered by Traefik itself once this dynamic config is live.
            "health": {"entryPoints": ["web"], "rule": f"Path(`{HEALTH_PATH}`)", "service": "ping@internal", "priority": 1000},
            SERVICE: app,
        },
        "services": {SERVICE: {"loadBalancer": lb}},
        "serversTransports": {"members": {
            "maxIdleConnsPerHost": -1,  # no keep-alive upstream, as nginx's default (see haproxy.py)
            "forwardingTimeouts": {"dialTimeout": _d(gw.connect_timeout_s), "responseHeaderTimeout": _d(gw.read_timeout_s)},
        }},
    }
    attempts = retry_attempts(gw, len(members))
    if attempts > 1:
        http["middlewares"] = {"retry": {"retry": {"attempts": attempts}}}
        app["middlewares"] = ["retry"]
    return {"http": http}


def launch(gw: Gateway, port: int, members: dict[str, str], prefix: Path, program: Path) -> Launch:
    admin = free_port()
    (prefix / "dynamic.yaml").write_text(yaml.safe_dump(dynamic(gw, members), sort_keys=False))
    conf = prefix / "traefik.yaml"
    conf.write_text(yaml.safe_dump(static(port, admin, prefix), sort_keys=False))
    return Launch(argv=[str(program), f"--configFile={conf}"], health_url=f"http://127.0.0.1:{port}{HEALTH_PATH}",
                  env={"HOME": str(prefix)}, admin=f"127.0.0.1:{admin}", conf=conf)


def state(admin: str) -> list[dict]:
    """Each server's traefik_service_server_up (1 in, 0 out) from the Prometheus metrics: Traefik's own view.
    The servers come from the API (whose serverStatus stays UP while the passive check has one out: kept as
    api_status); a server the passive check never took out has no gauge sample yet: in."""
    services = http_get(f"http://{admin}/api/http/services/{SERVICE}@file", 1.0)
    metrics = http_get(f"http://{admin}/metrics", 1.0)
    if services is None or services[0] != 200 or metrics is None or metrics[0] != 200:
        return []
    up = {r["member"]: r["up"] for r in parse_gauge(metrics[1].decode(errors="replace"))}
    listed = json.loads(services[1]).get("serverStatus", {})
    return [{"member": url.removeprefix("http://"), "up": up.get(url.removeprefix("http://"), 1), "api_status": status}
            for url, status in sorted(listed.items())]


def parse_gauge(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        if not line.startswith(GAUGE + "{"):
            continue
        labels, _, value = line[len(GAUGE) + 1:].rpartition("} ")
        fields = dict(part.split("=", 1) for part in labels.split(",") if "=" in part)
        url = fields.get("url", "").strip('"')
        out.append({"member": url.removeprefix("http://"), "up": int(float(value))})
    return out


def _d(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def passive_check(gw: Gateway) -> str:
    """Its passive check in words, for the report's stack line."""
    return (f"passiveHealthCheck {gw.max_fails} consecutive failures within {gw.fail_timeout_s} s, out {gw.fail_timeout_s} s"
            if gw.max_fails else "no passive check") + ", a retry only after a failed dial"
