"""Run folder -> summary.json, report.html (self-contained) and a Markdown summary.

Reads only the run folder, so a report can always be rebuilt later.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from harness.analysis import records
from harness.analysis.series import run_series
from harness.analysis.summary import summarize
from harness.errors import RunError
from harness.report import interactive, pages
from harness.report.plots import timeline
from harness.record import folder as rf


def write(run_dir: Path) -> tuple[dict, Path]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} does not exist. Pass a run folder, e.g. one under reports/runs/.")
    summary, data = summarize(run_dir)
    (run_dir / rf.SUMMARY).write_text(json.dumps(summary, indent=2, default=str))
    scenario = records.scenario(run_dir)
    phases = [(p.name, p.start_s, p.duration_s) for p in scenario.phases]
    png = timeline(list(data.values()), phases, scenario.analysis.slow_ms) if data else b""
    series = run_series(list(data.values()), scenario) if data else None
    out = run_dir / rf.REPORT
    out.write_text(render_html(summary, scenario.description, png, series))
    (run_dir / rf.SUMMARY_MD).write_text(markdown(summary))
    return summary, out


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {n}" for k, n in v.items()) or "-"
    return str(v)


def table_rows(summary: dict) -> list[tuple[str, list[str]]]:
    """The per-variant comparison table: (label, one cell per variant)."""
    vs = list(summary["variants"].values())
    rows = [
        *_load_rows(vs),
        ("requests (client)", [_fmt(v["client"]["requests"]) for v in vs]),
        ("status counts", [_fmt(v["client"]["status"]) for v in vs]),
        ("5xx rate", [f"{v['client']['rate_5xx']:.2%}" if v["client"]["rate_5xx"] is not None else "-" for v in vs]),
        ("no answer (status 0)", [_fmt(v["client"]["conn_errors"]) for v in vs]),
        ("p50 / p99 ms", [f"{_fmt(v['client']['p50_ms'])} / {_fmt(v['client']['p99_ms'])}" for v in vs]),
        ("slow requests", [_fmt(v["client"]["slow"]) for v in vs]),
        *[(f"{key}: requests, 5xx, p50 / p99 ms",
           [_endpoint_cell(v["client"].get("endpoint", {}).get(key)) for v in vs])
          for key in sorted({k for v in vs for k in v["client"].get("endpoint", {})})
          if len({k for v in vs for k in v["client"].get("endpoint", {})}) > 1],
        *_redirect_rows(vs),
        ("retried by the gateway", [_fmt(v["gateway"]["retried_requests"]) for v in vs]),
        ("no live upstreams", [_fmt(v["gateway"]["no_live_upstreams"]) for v in vs]),
        ("bypass figure", [f"{v['bypass']['figure']:.0%} ({v['bypass']['bypassed']} of {v['bypass']['bad_requests']} bad)" for v in vs]),
    ]
    replicas = sorted({r for v in vs for r in v["replicas"]})
    for r in replicas:
        def cell(v, key):
            return _fmt(v["replicas"].get(r, {}).get(key))
        rows += [
            (f"{r}: build", [_fmt(v["builds"].get(r)) for v in vs]),
            (f"{r}: goroutine slope /s (start -> peak)", [f"{cell(v, 'goroutine_slope')} ({cell(v, 'goroutines_start')} -> {cell(v, 'goroutines_peak')})" for v in vs]),
            (f"{r}: handlers in flight (peak)", [cell(v, "inflight_peak") for v in vs]),
            (f"{r}: pool in use / waiting (peak)", [f"{cell(v, 'pool_in_use_peak')} / {cell(v, 'pool_waiters_peak')}" for v in vs]),
            *_database_rows(vs, r),
            (f"{r}: open fds / RSS MB (peak)", [f"{cell(v, 'open_fds_peak')} / {cell(v, 'rss_peak_mb')}" for v in vs]),
            (f"{r}: attempts, failed (kind)", [f"{cell(v, 'attempts')}, {cell(v, 'failed_attempts')} ({cell(v, 'failed_by_kind')})" for v in vs]),
            (f"{r}: upstream p50 / p99 ms", [f"{cell(v, 'p50_ms')} / {cell(v, 'p99_ms')}" for v in vs]),
            (f"{r}: ejection episodes (down s)", [f"{cell(v, 'ejection_episodes')} ({cell(v, 'down_s')})" for v in vs]),
            (f"{r}: deaths / accept errors", [f"{cell(v, 'deaths')} / {cell(v, 'accept_errors')}" for v in vs]),
            (f"{r}: left after the load drained: goroutines / fds",
             [f"{cell(v, 'goroutines_left')} / {cell(v, 'fds_left')}" for v in vs]),
            (f"{r}: goroutine trend /s (Theil-Sen)", [cell(v, "goroutine_trend") for v in vs]),
            (f"{r}: top growing stack", [_top(v["replicas"].get(r, {})) for v in vs]),
            (f"{r}: Go's leak profile (goroutines it calls leaked)",
             [_runtime(v["replicas"].get(r, {})) for v in vs]),
            (f"{r}: leak-watch flagged / first gateway symptom (s)",
             [f"{cell(v, 'leak_flagged_s')} / {cell(v, 'first_symptom_s')}" for v in vs]),
        ]
    return rows


def _load_rows(vs: list[dict]) -> list[tuple[str, list[str]]]:
    """Which load model ran, and how much of its schedule it sent (a closed model sends less in a stall)."""
    loads = [v.get("load") or {} for v in vs]
    if not any(loads):
        return []
    rows = [("load model", [_fmt(x.get("model")) for x in loads]),
            ("sent of scheduled", [f"{_fmt(x.get('sent'))} of {_fmt(x.get('scheduled'))}" for x in loads])]
    if any(x.get("model") == "open" for x in loads):
        rows.append(("starts late (> 10 ms) / dropped; latest (ms)",
                     [f"{_fmt(x.get('late_starts'))} / {_fmt(x.get('dropped_starts'))}; {_fmt(x.get('max_late_ms'))}" for x in loads]))
    return rows


def load_lines(summary: dict) -> list[str]:
    """Each distinct load the variants ran, in words."""
    lines = [(v.get("load") or {}).get("line") for v in summary["variants"].values()]
    return list(dict.fromkeys(x for x in lines if x))


def _database_rows(vs: list[dict], r: str) -> list[tuple[str, list[str]]]:
    """database/sql's pool (DB.Stats()) of replica r: only when it has one."""
    if not any(v["replicas"].get(r, {}).get("db_max_open") is not None for v in vs):
        return []

    def cell(v, key):
        return _fmt(v["replicas"].get(r, {}).get(key))
    return [(f"{r}: database pool in use peak / after the load (of max)",
             [f"{cell(v, 'db_in_use_peak')} / {cell(v, 'db_in_use_after')} (of {cell(v, 'db_max_open')})" for v in vs]),
            (f"{r}: database pool waits / seconds waited (ended waits only)",
             [f"{cell(v, 'db_wait_count')} / {cell(v, 'db_wait_s')}" for v in vs])]


def _redirect_rows(vs: list[dict]) -> list[tuple[str, list[str]]]:
    """Redirects off the public origin and requests the service turned away: only when a variant has any."""
    if not any(v["client"].get("redirects") or v["client"].get("rejected") for v in vs):
        return []

    def redirect_cell(c: dict | None) -> str:
        if not c or not c.get("redirects"):
            return "-"
        return f"{_fmt(c.get('wrong_redirects'))} of {c['redirects']} ({_fmt(c.get('redirect_targets'))})"

    def rejected_cell(c: dict | None) -> str:
        return f"{c.get('rejected', 0)} ({c.get('rejected_rate', 0):.1%})" if c else "-"

    keys = sorted({k for v in vs for k in v["client"].get("endpoint", {})})
    rows = [
        (f"wrong redirects (off {vs[0]['client'].get('public_origin') or 'the public origin'}), where they point",
         [redirect_cell(v["client"]) for v in vs]),
        ("rejected by the service (403/421)", [rejected_cell(v["client"]) for v in vs]),
        ("Location rewritten by nginx (proxy_redirect)", [_fmt(v["gateway"].get("rewritten_redirects")) for v in vs]),
    ]
    if len(keys) > 1:
        rows += [(f"{key}: wrong redirects; rejected",
                  [f"{redirect_cell(e)}; {rejected_cell(e)}" if (e := v["client"].get("endpoint", {}).get(key)) else "-"
                   for v in vs]) for key in keys]
    return rows


def _endpoint_cell(c: dict | None) -> str:
    if not c:
        return "-"
    return f"{c['requests']}, {c['errors_5xx']}, {_fmt(c['p50_ms'])} / {_fmt(c['p99_ms'])}"


def _top(fig: dict) -> str:
    t = fig.get("top_stack")
    if fig.get("stacks_grown") is None:
        return "-"
    if not t:
        return "none grew"
    if not t["own_frame"]:
        return f"none in own code (+{t['growth']} in {t['blocking_call']})"
    at = " at the peak, released later" if t.get("when") == "peak" else ""
    how = "started by" if t.get("created_by_own") else "from"
    return f"+{t['growth']} in {t['blocking_call']} {how} {t['own_frame']}{at}"


def _runtime(fig: dict) -> str:
    n = fig.get("runtime_leaks")
    if n is None:
        return "not available"
    return f"{n}" + (f" at {fig['runtime_leak_frame']}" if fig.get("runtime_leak_frame") else "")


def _measured(x: dict) -> str:
    return f"no data: {x['no_data']}" if x.get("no_data") else _fmt(x["actual"])


def leak_checks_note(v: dict) -> str:
    lc = v.get("leak_checks")
    if not lc:
        return ""
    if not lc["enabled"]:
        return "Default leak checks: off (leak_checks.enabled: false)."
    return (f"Default leak checks (leak_checks): after the load drains at most {lc['goroutines_left']} goroutines and "
            f"{lc['fds_left']} fds more than before it, at most {lc['stacks_grown']} own-code stacks grown, a Theil-Sen "
            f"trend of at most {lc['goroutine_trend']:g}/s" + (", and leak-watch silent" if lc["leakwatch"] else "") + ".")


def _dumped(v: dict) -> list[tuple[str, dict]]:
    """(replica, its goroutine-dump figures) for each replica that has them."""
    return [(r, fig["stacks"]) for r, fig in v["replicas"].items() if fig.get("stacks")]


def flat_notes(v: dict) -> list[str]:
    """Why a goroutine curve went flat when the replica is not healthy."""
    out = []
    for r, fig in v["replicas"].items():
        if fig.get("accept_errors"):
            scrapes = (f" Its /metrics stopped answering too ({fig['scrape_errors']} failed scrapes), so its curves end there."
                       if fig.get("scrape_errors") else "")
            out.append(f"Replica {r} could not accept new connections from {fig['first_accept_error_s']} s on "
                       f"({fig['accept_errors']} accept errors: {fig['accept_error']}).{scrapes} Its goroutine count "
                       "stops growing because nothing new gets in: a flat or missing curve here means stuck, not healthy.")
    return out


def _crosscheck_note(v: dict) -> str:
    c = v["crosscheck"]
    kind = v["gateway"].get("kind", "nginx")
    parts = [f"{c['matched']} of {c['locust_requests']} client requests found in {kind}'s access log"]
    if c["missing_in_access_log"]:
        parts.append(f"MISMATCH: {c['missing_in_access_log']} answered requests missing from the access log (e.g. {c['missing_examples']})")
    if c["connection_errors_not_logged"]:
        parts.append(f"{c['connection_errors_not_logged']} connection errors never reached {kind}")
    if c["unexpected_in_access_log"]:
        parts.append(f"{c['unexpected_in_access_log']} access-log entries the client did not record (statuses {c['unexpected_statuses']}; "
                     "499 = cut off when the load stopped)")
    return "; ".join(parts)


def markdown(summary: dict) -> str:
    lines = [f"## {summary['scenario']}: {summary['title']}", ""]
    if summary.get("stack"):
        lines += [f"Stack: {summary['stack']}", ""]
    lines += [f"Load: {x}" for x in load_lines(summary)] + ([""] if load_lines(summary) else [])
    if not summary["complete"]:
        lines += ["**INCOMPLETE RUN**: " + _fmt((summary.get("stopped") or {}).get("error", "the run did not finish")), ""]
    names = list(summary["variants"])
    lines.append("| | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for label, cells in table_rows(summary):
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    for name, v in summary["variants"].items():
        lines.append(f"**{name}: {v['verdict'].upper()}** - {_crosscheck_note(v)}")
        for d in v.get("deaths", []):
            lines.append(f"- {d['process']} died {d['t'] - v['t0']:.0f} s into the load (exit status {d.get('exit')})")
        for note in flat_notes(v):
            lines.append(f"- {note}")
        for e in v["expectations"]:
            mark = "ok  " if e["holds"] else "FAIL"
            lines.append(f"- {mark} {e['metric']} {e['op']} {_fmt(e['value'])} (measured {_measured(e)}){' - ' + e['why'] if e['why'] else ''}")
        if note := leak_checks_note(v):
            lines.append(f"- {note}")
        lines.append("")
    lines.append(f"Verdict: {summary['verdict'].upper()}")
    return "\n".join(lines)


def render_html(summary: dict, description: str, png: bytes, series: dict | None = None) -> str:
    """The report page; series (analysis.series.run_series) adds the interactive timeline."""
    assets = interactive.assets() if series else None
    return pages.render("run.html.j2", summary=summary, description=description,
                        png=base64.b64encode(png).decode(), rows=table_rows(summary), dumped=_dumped,
                        series_json=interactive.script_json(series) if assets else None, assets=assets,
                        missing_note=interactive.MISSING if series and not assets else None,
                        fmt=_fmt, measured=_measured, leak_checks_note=leak_checks_note,
                        crosscheck_note=_crosscheck_note, flat_notes=flat_notes, load_lines=load_lines(summary))
