"""The scenario loader: every shipped scenario is valid; bad input is refused with file, field and fix."""

import textwrap

import pytest
import yaml

from harness import scenario as sc
from harness.errors import ScenarioError

GOOD = (sc.SCENARIO_DIR / "unclosed-body.yaml").read_text()


def mutate(**changes) -> str:
    data = yaml.safe_load(GOOD)
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        node[keys[-1]] = value
    return yaml.safe_dump(data)


@pytest.mark.parametrize("name", sc.available())
def test_every_shipped_scenario_is_valid(name):
    s = sc.load(name)
    assert s.name == name
    assert set(s.default_variants) <= set(s.variants)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ScenarioError) as e:
        sc.find("no-such-thing")
    assert "unclosed-body" in str(e.value)


def test_invalid_yaml_names_the_file():
    with pytest.raises(ScenarioError, match="x.yaml: this is not valid YAML"):
        sc.parse("name: [unclosed", "x.yaml")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"gateway__max_fails": -1}, "gateway.max_fails"),
        ({"gateway__proxy_next_upstream": ["error", "http_999"]}, "gateway.proxy_next_upstream.1"),
        ({"gateway__proxy_next_upstream": ["off", "error"]}, "gateway.proxy_next_upstream"),
        ({"load__endpoints": [{"path": "/api; return 200 x;"}]}, "load.endpoints.0.path"),
        ({"load__rate": 10_000_000}, "load.rate"),
        ({"load__duration_s": 0}, "load.duration_s"),
        ({"toxics__0__type": "rm -rf /"}, "toxics.0.type"),
        ({"toxics__0__attributes": {"latency": 50, "bogus": 1}}, "toxics.0"),
        ({"toxics__0__phase": "nope"}, "phases are"),
        ({"replicas": [{"name": "a"}, {"name": "a"}]}, "unique"),
        ({"replicas__0__name": "A;"}, "replicas.0.name"),
        ({"pattern": "nope"}, "known"),
        ({"default_variants": ["nope"]}, "default_variants"),
        ({"surprise": 1}, "surprise"),
        ({"phases__2__start_s": 35}, "phase 'recover' starts at 35s"),
        ({"variants__buggy__expect": [{"metric": "replicas.z.goroutine_slope", "op": ">", "value": 1}]}, "metric"),
    ],
)
def test_bad_fields_are_named(changes, field):
    with pytest.raises(ScenarioError) as e:
        sc.parse(mutate(**changes), "scenarios/x.yaml")
    assert "scenarios/x.yaml" in str(e.value)
    assert field in str(e.value)


def test_pick_variants():
    s = sc.load("unclosed-body")
    assert sc.pick_variants(s, None) == ["buggy", "fixed"]
    assert sc.pick_variants(s, ["all"]) == list(s.variants)
    with pytest.raises(ScenarioError, match="no variant 'nope'"):
        sc.pick_variants(s, ["nope"])


def test_pinned_replica_keeps_its_build():
    s = sc.load("unclosed-body")
    assert s.replica_variants("buggy") == {"a": "buggy", "b": "fixed"}


def test_expectation_paths():
    names = ["a", "b"]
    assert sc.metric_known("replicas.a.goroutine_slope", names)
    assert sc.metric_known("client.status.504", names)
    assert not sc.metric_known("client.status.abc", names)
    assert not sc.metric_known("replicas.c.goroutine_slope", names)
    assert not sc.metric_known("nonsense", names)


def test_non_mapping_is_refused():
    with pytest.raises(ScenarioError, match="mapping"):
        sc.parse(textwrap.dedent("- a\n- b\n"), "y.yaml")
