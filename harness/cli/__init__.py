from harness.cli.main import main  # the console script: gatewaylab = harness.cli:main

__all__ = ["main"]
