"""Redirects and rejections (scenario gateway-headers): the endpoint model, the locustfile, the records and the figures."""

import json

import pandas as pd
import pytest
import yaml

from harness.cli import catalogue
from harness.drive import load as load_mod
from harness import scenario as sc
from harness.analysis import records
from harness.analysis.gateways import nginx as nginx_records
from harness.analysis.client import client, public_origin, redirect_target, rewritten_redirects
from harness.errors import ScenarioError
from harness.scenario import Endpoint, Gateway, Load

PUBLIC = "https://api.example.test"


def test_endpoint_headers_and_names_are_validated():
    e = Endpoint(path="/api/login", name="login-spoofed", headers={"X-Forwarded-Host": "evil.example.test"})
    assert e.label == "login-spoofed" and Endpoint(path="/api/item").label == "GET /api/item"
    for bad in ({"Host": "x"}, {"x-request-id": "1"}, {"X-A": "a\r\nInjected: 1"}, {"X A": "1"}, {"X-A": "é"}):
        with pytest.raises(ValueError):
            Endpoint(path="/x", headers=bad)
    with pytest.raises(ValueError, match="distinct labels"):
        Load(users=1, spawn_rate=1, rate=1, duration_s=5, endpoints=[Endpoint(path="/a"), Endpoint(path="/a")])
    Load(users=1, spawn_rate=1, rate=1, duration_s=5, endpoints=[Endpoint(path="/a"), Endpoint(path="/a", name="other")])


def test_scenario_file_names_a_bad_header():
    data = yaml.safe_load((sc.SCENARIO_DIR / "gateway-headers.yaml").read_text())
    data["load"]["endpoints"][2]["headers"] = {"Host": "evil.example.test"}
    with pytest.raises(ScenarioError, match="load.endpoints.2.headers"):
        sc.parse(yaml.safe_dump(data), "x.yaml")


def test_locustfile_sends_the_public_host_and_never_follows_redirects():
    load = Load(users=2, spawn_rate=2, rate=4, duration_s=5, endpoints=[
        Endpoint(path="/api/login"),
        Endpoint(path="/api/login", name="login-spoofed", headers={"X-Forwarded-Host": "evil.example.test", "X-Q": "a'b\"c"}),
    ])
    got = json.loads(json.dumps(load_mod.settings(load, Gateway(public_host="api.example.test"), 2)))  # as the locustfile reads it
    assert [e["headers"].get("Host") for e in got["endpoints"]] == ["api.example.test", "api.example.test"]
    assert got["endpoints"][1]["name"] == "login-spoofed"
    assert got["endpoints"][1]["headers"]["X-Forwarded-Host"] == "evil.example.test" and got["endpoints"][1]["headers"]["X-Q"] == "a'b\"c"
    src = load_mod.LOCUSTFILE.read_text()
    compile(src, "locustfile.py", "exec")
    assert src.count("allow_redirects=False") == 1 and '"location": ' in src  # recorded, never followed
    assert "import harness" not in src and "from harness" not in src  # Locust patches its process with gevent
    plain = load_mod.settings(Load(users=1, spawn_rate=1, rate=1, duration_s=5, endpoints=[Endpoint(path="/a")]), Gateway(), 1)
    assert "Host" not in plain["endpoints"][0]["headers"]


def test_header_bytes_send_headers_of_exactly_that_size_and_refuse_reserved_names():
    e = Endpoint(path="/api/item", header_bytes={"Authorization": 7000, "Cookie": 13})
    sent = load_mod.request_headers(e, Gateway())
    assert len(sent["Authorization"]) == 7000 and len(sent["Cookie"]) == 13
    assert all(33 <= ord(c) < 127 for c in sent["Authorization"])  # a token's characters: no space, no CR/LF
    for bad in ({"Host": 10}, {"X-Request-Id": 10}, {"X-A": 0}, {"X-A": 65537}):
        with pytest.raises(ValueError):
            Endpoint(path="/x", header_bytes=bad)


@pytest.mark.parametrize("location, target", [
    ("/api/item", "relative"),
    ("api/item", "relative"),
    ("https://api.example.test/api/item", PUBLIC),
    ("https://API.example.test:443/x", PUBLIC),
    ("http://api.example.test/api/item", "http://api.example.test"),
    ("http://api.example.test:8080/x", "http://api.example.test:8080"),
    ("//evil.example.test/x", "https://evil.example.test"),  # scheme-relative: the client's scheme
    ("http://app/api/item", "http://app"),
    ("", "none"),
    (None, "none"),
    ("http://[::1/x", "unparsable"),
])
def test_redirect_target(location, target):
    assert redirect_target(location, "https") == target


def requests_frame(rows):
    return pd.DataFrame(rows, columns=["start", "endpoint", "method", "status", "ms", "rid", "error", "location"]).assign(
        end=lambda d: d["start"] + d["ms"] / 1000)


def test_client_counts_wrong_redirects_and_rejections():
    req = requests_frame([
        [1.0, "GET /api/login", "GET", 302, 1.0, "r1", None, "/api/item"],
        [1.1, "GET /api/login", "GET", 302, 1.0, "r2", None, "https://api.example.test/api/item"],
        [1.2, "GET /api/login", "GET", 302, 1.0, "r3", None, "http://api.example.test/api/item"],
        [1.3, "login-spoofed", "GET", 302, 1.0, "r4", None, "https://evil.example.test/api/item"],
        [1.4, "GET /api/item", "GET", 421, 1.0, "r5", None, None],
        [1.5, "GET /api/item", "GET", 403, 1.0, "r6", None, None],
        [1.6, "GET /api/item", "GET", 200, 1.0, "r7", None, None],
        [1.7, "GET /api/item", "GET", 304, 1.0, "r8", None, None],  # no Location: not a wrong redirect
    ])
    c = client(req, 1000, PUBLIC)
    assert c["redirects"] == 5 and c["wrong_redirects"] == 2 and c["wrong_redirect_rate"] == 0.4
    assert c["redirect_targets"] == {"relative": 1, PUBLIC: 1, "http://api.example.test": 1,
                                     "https://evil.example.test": 1, "none": 1}
    assert c["rejected"] == 2 and c["rejected_rate"] == 0.25
    assert c["errors_5xx"] == 0
    assert client(req, 1000, None)["wrong_redirects"] is None  # no origin known: no verdict


def test_public_origin():
    assert public_origin(Gateway(public_scheme="https", public_host="api.example.test"), "127.0.0.1:9") == PUBLIC
    assert public_origin(Gateway(), "127.0.0.1:9") == "http://127.0.0.1:9"
    assert public_origin(Gateway(), None) is None


def test_records_read_location_and_tolerate_old_runs(tmp_path):
    rows = [{"start": 1.0, "endpoint": "GET /a", "method": "GET", "status": 302, "ms": 1.0, "rid": "r1", "error": None,
             "location": "http://app/a"},
            {"start": 1.1, "endpoint": "GET /a", "method": "GET", "status": 200, "ms": 1.0, "rid": "r2", "error": None}]
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    df = records.requests(tmp_path)
    assert df["location"].iloc[0] == "http://app/a" and pd.isna(df["location"].iloc[1])
    (tmp_path / "nginx").mkdir()
    log = [{"msec": "1.0", "rid": "r1", "method": "GET", "uri": "/a", "status": "302", "request_time": "0.001",
            "upstream_location": "http://app/a", "location": "/a"},
           {"msec": "1.1", "rid": "r2", "method": "GET", "uri": "/a", "status": "302", "request_time": "0.001",
            "upstream_location": "http://x/a", "location": "http://x/a"},
           {"msec": "1.2", "rid": "r3", "method": "GET", "uri": "/a", "status": "200", "request_time": "0.001",
            "upstream_location": "", "location": ""},
           {"msec": "1.3", "rid": "r4", "method": "GET", "uri": "/a", "status": "200", "request_time": "0.001"}]
    (tmp_path / "nginx" / "access.log").write_text("".join(json.dumps(r) + "\n" for r in log))
    assert rewritten_redirects(nginx_records.access(tmp_path)) == 1


def test_one_liner_names_rejections_and_wrong_redirects():
    v = {"replicas": {"a": {}}, "gateway": {"rewritten_redirects": 7}, "bypass": {"bypassed": 0, "bad_requests": 0},
         "client": {"requests": 100, "rejected": 40, "redirects": 60, "wrong_redirects": 60}}
    says = catalogue.one_liner(v)
    assert "rejected 40 of 100" in says and "60 of 60 redirects off the public origin" in says
    assert "proxy_redirect rewrote 7 Locations" in says
