"""The container backend's records -> replica figures, summary and report.

The fragments below are written in the harness's own record formats (containers.jsonl,
cgroups.jsonl: harness/record/folder.py), as the container backend writes them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from harness.analysis import containers
from harness.analysis.expect import check
from harness.analysis.summary import load_variant
from harness.record import folder as rf
from harness.report import build, events
from harness.scenario import REPLICA_METRICS, Expectation, metric_known

T0 = 1_800_000_000.0
T_END = T0 + 30
MIB = 1024 * 1024
RUN = Path(__file__).parent / "fixtures" / "runs" / "e2e-short"


def write(path: Path, rows: list[dict], tail: str = "") -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)


def ev(dt: float, event: str, replica: str = "a", **fields) -> dict:
    return {"t": T0 + dt, "replica": replica, "container": f"gl-{replica}", "event": event, **fields}


def cg(dt: float, generation: int, mem_mb: float, cpu_s: float, periods: int, throttled: int, throttled_s: float,
       limit_mb: float | None = 256, replica: str = "a", container: str | None = None) -> dict:
    return {"t": T0 + dt, "replica": replica, "container": container or f"gl-{replica}-{generation}",
            "generation": generation, "mem_bytes": int(mem_mb * MIB),
            "mem_limit_bytes": int(limit_mb * MIB) if limit_mb is not None else None, "cpu_s": cpu_s,
            "periods": periods, "throttled_periods": throttled, "throttled_s": throttled_s}


# replica a: liveness kill and a restart, then an OOM kill and a restart; b only starts
STORY = [
    ev(-5, "start", generation=1, restart_count=0),
    ev(-5, "start", "b", generation=1, restart_count=0),
    *[ev(9 + i, "liveness-failed", consecutive=i + 1, detail="timeout") for i in range(3)],
    ev(10, "unready", detail="readiness timed out"),
    ev(11, "liveness-kill", consecutive=3),
    ev(11.5, "exit", exit_code=137, oom_killed=False, restart_count=0),
    ev(11.6, "backoff", delay_s=1.0, k8s_delay_s=10.0, restart_count=1),
    ev(12.6, "restart", restart_count=1),
    ev(15, "ready"),
    ev(20, "oom"),
    ev(20.1, "exit", exit_code=137, oom_killed=True, restart_count=1),
    ev(20.1, "unready", detail="connection refused"),
    ev(20.2, "backoff", delay_s=2.0, k8s_delay_s=20.0, restart_count=2),
    ev(22.2, "restart", restart_count=2),
]


def figures(tmp_path: Path, story: list[dict] | None = None, samples: list[dict] | None = None,
            replicas=("a", "b"), **kw) -> dict[str, dict]:
    if story is not None:
        write(tmp_path / rf.CONTAINERS, story, **kw)
    if samples is not None:
        write(tmp_path / rf.CGROUPS, samples, **kw)
    return containers.figures(tmp_path, list(replicas), T0, T_END)


def test_every_figure_is_a_declared_replica_metric():
    names = containers.EVENT_FIGURES + containers.CGROUP_FIGURES
    assert set(names) <= set(REPLICA_METRICS)
    assert all(metric_known(f"replicas.a.{m}", ["a"]) for m in names)


def test_events_give_counts_first_times_and_time_out_of_the_group(tmp_path):
    got = figures(tmp_path, STORY)
    assert got["a"] == {
        "oom_kills": 1,  # the exit flagged oom_killed; its "oom" event is the same kill, not a second one
        "first_oom_s": 20.1, "restarts": 2, "first_restart_s": 12.6,
        "liveness_failures": 3, "liveness_kills": 1,
        "unready_s": 5.0 + 9.9,  # 10 -> 15, then 20.1 -> t_end: never made ready again
        "crashloop_delay_max_s": 2.0,  # the scaled delay waited, not Kubernetes' 20 s
        **dict.fromkeys(containers.CGROUP_FIGURES),  # no cgroups.jsonl
    }
    b = got["b"]
    assert (b["oom_kills"], b["restarts"], b["liveness_failures"], b["liveness_kills"], b["unready_s"],
            b["crashloop_delay_max_s"]) == (0, 0, 0, 0, 0.0, 0.0)
    assert b["first_oom_s"] is None and b["first_restart_s"] is None  # no such event: no time, not 0


def test_oom_kills_fall_back_to_the_engines_oom_events_when_no_exit_carries_the_flag(tmp_path):
    story = [ev(3, "oom"), ev(3.1, "exit", exit_code=137, oom_killed=False, restart_count=0),
             ev(8, "oom"), ev(8.1, "exit", exit_code=137, restart_count=1)]
    a = figures(tmp_path, story)["a"]
    assert a["oom_kills"] == 2 and a["first_oom_s"] == 3.0


def test_unready_counts_only_within_the_load(tmp_path):
    story = [ev(-5, "unready", detail="starting"), ev(2, "ready"), ev(28, "unready", detail="x"), ev(40, "ready")]
    assert figures(tmp_path, story)["a"]["unready_s"] == 4.0  # 0 -> 2 and 28 -> 30 (t_end)


def test_cgroup_counters_sum_each_generations_last_value(tmp_path):
    samples = [
        cg(0, 1, 100, 1.0, 100, 10, 0.5), cg(1, 1, 200, 2.0, 200, 50, 2.0),
        cg(5, 2, 50, 0.5, 50, 0, 0.0), cg(6, 2, 60, 1.0, 100, 25, 1.0),  # a new generation starts at 0
        cg(0.5, 1, 10, 0.1, 0, 0, 0.0, limit_mb=None, replica="b"),
    ]
    got = figures(tmp_path, samples=samples)
    a = got["a"]
    assert (a["cg_mem_peak_mb"], a["cg_mem_limit_mb"]) == (200.0, 256.0)
    assert a["throttled_periods"] == 50 + 25 and a["throttled_share"] == 0.25  # 75 of 200 + 100 periods
    assert a["throttled_s"] == 3.0 and a["cpu_s"] == 3.0
    assert a["oom_kills"] is None  # no containers.jsonl: no event figure
    b = got["b"]
    assert b["cg_mem_limit_mb"] is None and b["cg_mem_peak_mb"] == 10.0  # unlimited
    assert b["throttled_periods"] == 0 and b["throttled_share"] is None  # no CPU quota: no period to share


def test_a_container_restarted_in_place_starts_its_counters_again(tmp_path):
    # same container and generation, counters drop: the restart's cgroup is a new one
    samples = [cg(0, 1, 100, 4.0, 400, 40, 1.0, container="c"), cg(1, 1, 120, 5.0, 500, 60, 1.5, container="c"),
               cg(4, 1, 30, 0.5, 50, 10, 0.2, container="c"), cg(5, 1, 40, 1.0, 100, 30, 0.4, container="c")]
    a = figures(tmp_path, samples=samples)["a"]
    assert a["throttled_periods"] == 60 + 30 and a["cpu_s"] == 6.0 and a["throttled_share"] == 0.15


def test_throttled_share_per_interval_never_spans_a_restart(tmp_path):
    write(tmp_path / rf.CGROUPS, [cg(0, 1, 100, 1.0, 100, 10, 0.5), cg(1, 1, 200, 2.0, 200, 50, 2.0),
                                  cg(5, 2, 50, 0.5, 50, 0, 0.0), cg(6, 2, 60, 1.0, 100, 25, 1.0)])
    share = containers.throttled_share(containers.read_cgroups(tmp_path), "a")
    assert list(share["t"] - T0) == [1.0, 6.0] and list(share["share"]) == [0.4, 0.5]


def test_no_files_give_no_figures_and_an_expectation_on_them_fails_as_no_data(tmp_path):
    got = figures(tmp_path)
    assert set(got["a"].values()) == {None}
    summary = {"replicas": {"a": {**got["a"], "samples": 20, "scrape_errors": 0}}}
    for metric in ("replicas.a.oom_kills", "replicas.a.restarts", "replicas.a.throttled_share"):
        (row,) = check([Expectation(metric=metric, op="==", value=0)], summary)
        assert not row["holds"] and row["actual"] is None and row["no_data"], row


def test_files_without_events_of_a_kind_count_zero(tmp_path):
    a = figures(tmp_path, [ev(-5, "start", generation=1, restart_count=0)], samples=[])["a"]
    assert (a["oom_kills"], a["restarts"], a["liveness_kills"], a["unready_s"]) == (0, 0, 0, 0.0)
    assert a["cg_mem_peak_mb"] is None  # a cgroups file without a sample of a: nothing measured
    (tmp_path / rf.CONTAINERS).write_text("")  # even an empty file was read
    assert figures(tmp_path)["a"]["restarts"] == 0


def test_a_last_line_cut_short_is_skipped(tmp_path):
    cut = '{"t": 1800000025.0, "replica": "a", "container": "gl-a", "event": "rest'
    a = figures(tmp_path, STORY, [cg(0, 1, 100, 1.0, 100, 10, 0.5)], tail=cut)["a"]
    assert a["restarts"] == 2 and a["cg_mem_peak_mb"] == 100.0


@pytest.fixture
def boxed_run(tmp_path) -> Path:
    """The recorded e2e-short run, its buggy variant as if run by the container backend."""
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    folder = run / rf.VARIANTS / "buggy"
    t0 = json.loads((folder / rf.META).read_text())["t0"]
    shift = t0 - T0  # the fragments are written against T0: move them onto this run's clock
    story = [*STORY[:-5],  # up to a's first restart and back in the group
             ev(13, "rollout", "b", step="begin", generation=1), ev(14, "rollout", "b", step="surge-ready", generation=2),
             ev(16, "rollout", "b", step="end", generation=2)]
    write(folder / rf.CONTAINERS, [{**e, "t": e["t"] + shift} for e in story])
    samples = [cg(dt, 1 + (dt > 12), 40 + 10 * dt, 0.1 * dt, 10 * int(dt), int(dt), 0.01 * dt, replica=r)
               for r in ("a", "b") for dt in range(1, 18)]
    write(folder / rf.CGROUPS, [{**s, "t": s["t"] + shift} for s in samples])
    return run


def test_the_report_shows_the_containers_only_where_they_were_recorded(boxed_run):
    summary, page = build.write(boxed_run)
    buggy, fixed = summary["variants"]["buggy"]["replicas"], summary["variants"]["fixed"]["replicas"]
    assert buggy["a"]["restarts"] == 1 and buggy["a"]["liveness_kills"] == 1 and buggy["b"]["restarts"] == 0
    assert buggy["a"]["cg_mem_limit_mb"] == 256.0 and fixed["a"]["restarts"] is None and fixed["a"]["cpu_s"] is None
    html = page.read_text()
    section = html[html.index('id="containers"'):html.index("Where it leaks")]
    assert "<h3>buggy</h3>" in section and "<h3>fixed</h3>" not in section and "210 / 256" in section
    assert "<td>a</td><td>0</td><td>1</td>" in section  # replica a: no OOM kill, one restart

    for name in ("containers.jsonl", "cgroups.jsonl"):
        (boxed_run / rf.VARIANTS / "buggy" / name).unlink()
    _, page = build.write(boxed_run)
    assert 'id="containers"' not in page.read_text()  # a local-backend run shows nothing of it


def test_the_timeline_draws_the_events_and_the_cgroups(boxed_run):
    scenario = rf.RunFolder(boxed_run).scenario()
    data = [load_variant(boxed_run, v, scenario) for v in ("buggy", "fixed")]
    rows = events.panels(data)
    assert rows == [events.EVENTS, events.MEMORY, events.THROTTLE]
    assert events.panels(data[1:]) == []  # the local backend adds no row
    fig, axes = plt.subplots(len(rows), 1)
    events.draw(axes, rows, data[0], ["a", "b"], {"a": "#1f77b4", "b": "#2ca02c"})
    labels = [set(ax.get_legend_handles_labels()[1]) for ax in axes]
    plt.close(fig)
    assert {"liveness kill", "restart", "unready: out of nginx's upstream group",
            "rolling restart (begin to end)", "rollout step"} <= labels[0]
    assert "OOM kill" not in labels[0]  # the story was cut before a's OOM kill
    assert {"a memory", "a limit", "b memory", "b limit"} <= labels[1]
    assert {"a throttled", "b throttled"} <= labels[2]
