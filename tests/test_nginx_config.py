"""The rendered config is accepted by the real nginx (`nginx -t`) and binds loopback only."""

import http.client
import http.server
import json
import subprocess
import threading

import pytest

from harness.stack.gateways import nginx
from harness.host import tools
from harness.host.procs import Proc, free_port, wait_until
from harness.scenario import Gateway


@pytest.fixture(scope="module")
def nginx_bin():
    return str(tools.find().nginx)


@pytest.mark.parametrize("gw", [
    Gateway(),
    Gateway(max_fails=0, proxy_next_upstream=["off"], read_timeout_s=0.25),
    Gateway(proxy_next_upstream=["error", "timeout", "http_500", "http_502", "non_idempotent"], fail_timeout_s=30),
    Gateway(public_scheme="https", public_host="api.example.test", host_header="host", forwarded_proto=True,
            forwarded_host=True, proxy_redirect="off"),
    Gateway(upstream_keepalive=16, upstream_keepalive_timeout_s=0.02),
    Gateway(large_header_buffer_kb=16, proxy_buffer_size_kb=16),
    Gateway(next_upstream_tries=2, next_upstream_timeout_s=1.5),
])
def test_nginx_accepts_rendered_config(tmp_path, nginx_bin, gw):
    conf = nginx.write(gw, 18080, ["127.0.0.1:18081", "127.0.0.1:18082"], tmp_path)
    text = conf.read_text()
    out = subprocess.run([nginx_bin, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "listen 127.0.0.1:18080;" in text
    assert f"max_fails={gw.max_fails} fail_timeout={gw.fail_timeout_s}s" in text
    assert "error_log" in text and " warn;" in text
    for field in ("$upstream_addr", "$upstream_status", "$upstream_response_time", "$upstream_connect_time", "$msec",
                  "$status", "$request_time"):
        assert field in text


# -- the headers the gateway sends upstream (scenario gateway-headers) --------

HEADERS_GW = Gateway(public_scheme="https", public_host="api.example.test", host_header="host",
                     forwarded_proto=True, forwarded_host=True, proxy_redirect="off")


def test_upstream_keepalive_renders_http11_and_an_empty_connection_header_only_when_asked(tmp_path):
    text = nginx.render(Gateway(upstream_keepalive=8, upstream_keepalive_timeout_s=75), 1, ["127.0.0.1:2"], tmp_path)
    assert "keepalive 8;" in text and "keepalive_timeout 75000ms;" in text
    assert "proxy_http_version 1.1;" in text and 'proxy_set_header Connection "";' in text
    default = nginx.render(Gateway(), 1, ["127.0.0.1:2"], tmp_path)
    assert "keepalive " not in default and "proxy_http_version" not in default  # nginx's default: a connection per request


def test_defaults_render_no_header_directives(tmp_path):
    text = nginx.render(Gateway(), 18080, ["127.0.0.1:18081"], tmp_path)
    for directive in ("proxy_set_header", "proxy_redirect", "server_name", "absolute_redirect"):
        assert directive not in text


def test_header_settings_render_typed_lines(tmp_path, nginx_bin):
    conf = nginx.write(HEADERS_GW, 18080, ["127.0.0.1:18081"], tmp_path)
    text = conf.read_text()
    for line in ("server_name api.example.test;", "absolute_redirect off;", "proxy_set_header Host $host;",
                 "proxy_set_header X-Forwarded-Proto https;", "proxy_set_header X-Forwarded-Host $host;",
                 "proxy_redirect off;", '"location":"$sent_http_location"', '"upstream_location":"$upstream_http_location"'):
        assert line in text
    out = subprocess.run([nginx_bin, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("field, value", [
    ("public_host", "api.example.test; return 200 x"), ("public_host", "API.example.test"), ("public_host", "a b"),
    ("public_scheme", "ftp"), ("host_header", "$http_x_evil"), ("proxy_redirect", "http://app/ http://evil/"),
    ("forwarded_proto", "https; x"),
])
def test_header_settings_refuse_anything_but_their_values(field, value):
    with pytest.raises(ValueError):
        Gateway(**{field: value})


class _Echo(http.server.BaseHTTPRequestHandler):
    """The upstream: answers with the headers it got; X-Want-Location makes it a 302 there."""

    def do_GET(self):
        body = json.dumps(dict(self.headers.items())).encode()
        loc = self.headers.get("X-Want-Location")
        self.send_response(302 if loc else 200)
        if loc:
            self.send_header("Location", loc)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


@pytest.fixture
def gateway(tmp_path, nginx_bin):
    """Start real nginx with a rendered config in front of an echo upstream; yields get(gw, headers) -> (status, headers, body)."""
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    procs = []

    def start(gw: Gateway) -> int:
        prefix = tmp_path / f"nginx{len(procs)}"
        prefix.mkdir()
        port = free_port()
        conf = nginx.write(gw, port, [f"127.0.0.1:{upstream.server_port}"], prefix)
        p = Proc("nginx", [nginx_bin, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")], prefix / "out.log")
        procs.append(p)
        assert wait_until(lambda: _get(port, nginx.HEALTH_PATH, {})[0] == 200, 10, p), p.tail()
        return port

    yield start
    for p in procs:
        p.stop()
    upstream.shutdown()
    upstream.server_close()


def _get(port: int, path: str, headers: dict) -> tuple[int, dict, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(body) if body.startswith(b"{") else {}
    except OSError:
        return 0, {}, {}
    finally:
        conn.close()


CLIENT = {"Host": "api.example.test", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example.test"}


def test_real_nginx_defaults_send_the_upstream_name_and_pass_client_headers(gateway):
    """nginx's defaults, measured: Host $proxy_host (the group's name), Connection close, a client's X-Forwarded-* untouched."""
    port = gateway(Gateway(public_scheme="https", public_host="api.example.test"))
    status, _, got = _get(port, "/x", CLIENT)
    assert status == 200
    assert got["Host"] == nginx.UPSTREAM and got["Connection"] == "close"
    assert got["X-Forwarded-Proto"] == "http" and got["X-Forwarded-Host"] == "evil.example.test"


def test_real_nginx_overwrites_what_it_sets(gateway):
    port = gateway(HEADERS_GW)
    _, _, got = _get(port, "/x", CLIENT)
    assert got["Host"] == "api.example.test"
    assert got["X-Forwarded-Proto"] == "https" and got["X-Forwarded-Host"] == "api.example.test"  # replaced, not appended


@pytest.mark.parametrize("gw, sent, received", [
    # proxy_redirect default: a Location starting with the proxy_pass URL http://app/ becomes relative
    # (absolute_redirect off keeps it so: nginx speaks plain HTTP here, standing for https).
    (Gateway(public_scheme="https"), "http://app/api/item", "/api/item"),
    (Gateway(public_scheme="https"), "http://app:80/api/item", "http://app:80/api/item"),   # a textual prefix match
    (Gateway(public_scheme="https"), "https://app/api/item", "https://app/api/item"),
    (Gateway(public_scheme="https"), "http://api.example.test/api/item", "http://api.example.test/api/item"),
    (Gateway(public_scheme="https", proxy_redirect="off"), "http://app/api/item", "http://app/api/item"),
])
def test_real_nginx_proxy_redirect(gateway, gw, sent, received):
    port = gateway(gw)
    status, headers, _ = _get(port, "/x", {"Host": "api.example.test", "X-Want-Location": sent})
    assert status == 302 and headers["location"] == received


def test_real_nginx_completes_a_rewritten_redirect_with_its_own_scheme_and_port(gateway):
    """Without absolute_redirect off, the relative Location comes back as http://<host>:<nginx's port>/ - wrong for a
    simulated TLS gateway; that is why public_scheme https renders absolute_redirect off."""
    port = gateway(Gateway())
    _, headers, _ = _get(port, "/x", {"Host": "api.example.test", "X-Want-Location": "http://app/api/item"})
    assert headers["location"] == f"http://api.example.test:{port}/api/item"
