"""What a run is asked to do, validated before anything starts: the model, its vocabulary, the files, the user-service contract."""

from harness.scenario.files import SCENARIO_DIR, available, find, load, on_backend, on_gateway, on_load, parse, pick_variants
from harness.scenario.judging import Compare, Expectation, LeakChecks, Regress
from harness.scenario.model import Scenario, Variant
from harness.scenario.parts import Analysis, Database, Endpoint, Gateway, Load, Phase, Replica, Sampling, Service, Toxic
from harness.scenario.service import UserService, load_service
from harness.scenario.vocabulary import (
    BYPASS_METRICS, CLIENT_METRICS, COMPARE_KINDS, CROSSCHECK_METRICS, DATABASE_PATTERNS, GATEWAY_METRICS, LOAD_METRICS,
    PATTERNS, REPLICA_METRICS, metric_known,
)
from harness.errors import ScenarioError

__all__ = [
    "SCENARIO_DIR", "available", "find", "load", "on_backend", "on_gateway", "on_load", "parse", "pick_variants",
    "Analysis", "Compare", "Database", "Endpoint", "Expectation", "Gateway", "LeakChecks", "Load", "Phase", "Regress",
    "Replica", "Sampling", "Scenario", "Service", "Toxic", "Variant", "UserService", "load_service",
    "BYPASS_METRICS", "CLIENT_METRICS", "COMPARE_KINDS", "CROSSCHECK_METRICS", "DATABASE_PATTERNS", "GATEWAY_METRICS", "LOAD_METRICS",
    "PATTERNS", "REPLICA_METRICS", "metric_known", "ScenarioError",
]
