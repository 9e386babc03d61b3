"""gatewaylab: reproduce how Go services fail behind an API gateway (nginx, HAProxy or Caddy)."""

__version__ = "0.1.0"
