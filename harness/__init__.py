"""gatewaylab: reproduce how Go services fail behind an nginx gateway."""

__version__ = "0.1.0"
