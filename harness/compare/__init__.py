"""`gatewaylab compare` and `gatewaylab regress`: two builds, the same scenario, a verdict per metric."""
