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


def with_variant(name, **fields):
    data = yaml.safe_load(GOOD)
    data["variants"][name] = fields
    return data


def test_variant_overrides_resolve():
    data = with_variant("post-500", build="buggy", gateway={"proxy_next_upstream": ["error", "timeout", "http_500"]},
                        load={"endpoints": [{"path": "/api/item", "method": "POST", "body_bytes": 10}]},
                        params={"budget": "100ms"}, toxics=[])
    s = sc.parse(yaml.safe_dump(data), "x.yaml")
    r = s.resolve("post-500")
    assert r.gateway.proxy_next_upstream == ["error", "timeout", "http_500"]
    assert r.load.endpoints[0].method == "POST" and r.load.rate == s.load.rate
    assert r.toxics == [] and r.service.params == {"budget": "100ms"}
    assert s.replica_variants("post-500") == {"a": "buggy", "b": "fixed"}
    assert s.resolve("buggy") is s


@pytest.mark.parametrize("fields, says", [
    ({"build": "nope"}, "variants.odd.build 'nope' does not exist"),
    ({"build": "buggy", "gateway": {"max_fails": "lots"}}, "variants.odd overrides do not give a valid scenario: gateway.max_fails"),
    ({"build": "buggy", "load": {"duration_s": 5}}, "variants.odd overrides"),
    ({"build": "buggy", "params": {"Bad-Key": 1}}, "variants.odd.params"),
    ({"build": "buggy", "params": {"budget": "1; rm"}}, "variants.odd.params.budget"),
    ({}, "variant 'odd' does not exist"),
])
def test_bad_variant_overrides_are_named(fields, says):
    with pytest.raises(ScenarioError) as e:
        sc.parse(yaml.safe_dump(with_variant("odd", **fields)), "x.yaml")
    assert says in str(e.value)
