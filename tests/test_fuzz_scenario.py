"""Fuzzing the scenario loader: whatever the file holds, the answer is a valid model or a ScenarioError.

Nothing is started while loading, and a valid model renders an nginx config
whose values cannot carry directives.
"""

import copy
import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.stack.gateways import nginx
from harness.errors import ScenarioError
from harness.scenario import SCENARIO_DIR, parse

BASE = yaml.safe_load((SCENARIO_DIR / "unclosed-body.yaml").read_text())

nasty = st.sampled_from(["", ";", "}", "$(reboot)", "a; return 200", "../../etc", "\n", "off", "all", "-1", "1e309",
                         "127.0.0.1", "0.0.0.0", "http_500", "latency", "GET", "/api/item", "buggy", "warm-up"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=30), nasty)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.one_of(nasty, st.text(max_size=8)), inner, max_size=4)),
                      max_leaves=8)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(BASE) if p]


def children() -> set[int]:
    me = str(os.getpid())
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "stat").read_text().rsplit(")", 1)[1].split()[2] == me:
                    out.add(int(d.name))
            except OSError:
                pass
    return out


def check(text: str) -> None:
    try:
        s = parse(text, "fuzz.yaml")
    except ScenarioError as e:
        assert str(e).startswith("fuzz.yaml")
        return
    conf = nginx.render(s.gateway, 8080, ["127.0.0.1:1", "127.0.0.1:2"], Path("/tmp/x"))
    # Every directive line ends where we end it: no value smuggled a ';' or a brace in.
    assert conf.count("proxy_next_upstream ") == 1
    assert conf.count("server 127.0.0.1:") == 2


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), values), min_size=1, max_size=4))
def test_mutated_scenarios(changes):
    data = copy.deepcopy(BASE)
    for path, value in changes:
        node = data
        try:
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    before = children()
    check(yaml.safe_dump(data))
    assert children() <= before


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                 values.map(lambda v: yaml.safe_dump(v))))
def test_arbitrary_text(text):
    check(text)
