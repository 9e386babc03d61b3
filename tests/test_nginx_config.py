"""The rendered config is accepted by the real nginx (`nginx -t`) and binds loopback only."""

import subprocess

import pytest

from harness import nginx, tools
from harness.scenario import Gateway


@pytest.fixture(scope="module")
def nginx_bin():
    return str(tools.find().nginx)


@pytest.mark.parametrize("gw", [
    Gateway(),
    Gateway(max_fails=0, proxy_next_upstream=["off"], read_timeout_s=0.25),
    Gateway(proxy_next_upstream=["error", "timeout", "http_500", "http_502", "non_idempotent"], fail_timeout_s=30),
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
