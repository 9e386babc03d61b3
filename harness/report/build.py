"""Run folder -> summary.json, report.html (self-contained) and a Markdown summary.

Reads only the run folder, so a report can always be rebuilt later.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from harness.analysis import records
from harness.analysis.summary import summarize
from harness.errors import RunError
from harness.report.plots import timeline
from harness.record.folder import SUMMARY


def write(run_dir: Path) -> tuple[dict, Path]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} does not exist. Pass a run folder, e.g. one under reports/runs/.")
    summary, data = summarize(run_dir)
    (run_dir / SUMMARY).write_text(json.dumps(summary, indent=2, default=str))
    scenario = records.scenario(run_dir)
    phases = [(p.name, p.start_s, p.duration_s) for p in scenario.phases]
    png = timeline(list(data.values()), phases, scenario.analysis.slow_ms) if data else b""
    out = run_dir / "report.html"
    out.write_text(render_html(summary, scenario.description, png))
    (run_dir / "summary.md").write_text(markdown(summary))
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
        ("requests (client)", [_fmt(v["client"]["requests"]) for v in vs]),
        ("status counts", [_fmt(v["client"]["status"]) for v in vs]),
        ("5xx rate", [f"{v['client']['rate_5xx']:.2%}" for v in vs]),
        ("no answer (status 0)", [_fmt(v["client"]["conn_errors"]) for v in vs]),
        ("p50 / p99 ms", [f"{_fmt(v['client']['p50_ms'])} / {_fmt(v['client']['p99_ms'])}" for v in vs]),
        ("slow requests", [_fmt(v["client"]["slow"]) for v in vs]),
        *[(f"{key}: requests, 5xx, p50 / p99 ms",
           [_endpoint_cell(v["client"].get("endpoint", {}).get(key)) for v in vs])
          for key in sorted({k for v in vs for k in v["client"].get("endpoint", {})})
          if len({k for v in vs for k in v["client"].get("endpoint", {})}) > 1],
        *_redirect_rows(vs),
        ("retried by nginx", [_fmt(v["gateway"]["retried_requests"]) for v in vs]),
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


def _stacks_html(v: dict) -> str:
    e = html.escape
    out = []
    for r, fig in v["replicas"].items():
        st = fig.get("stacks")
        if not st:
            continue
        if "error" in st:
            out.append(f"<p>{e(r)}: {e(st['error'])}</p>")
            continue
        out.append(f"<p><b>replica {e(r)}</b>: goroutines {st['total_before']} before the load, {_fmt(st.get('total_peak'))} at the peak, "
                   f"{st['total_after']} {'after it' if st['to'] == 'after' else 'at its end'}; "
                   f"{st['stacks_grown']} stack(s) in the project's own code grew by 5 or more.</p>")
        rows = st["top"] or [g for g in st.get("peak_top", []) if g["own_frame"]]
        if rows and not st["top"]:
            out.append("<p>Nothing was left after the load, but at the peak these had piled up (released when the fault ended):</p>")
        if rows:
            out.append("<table><tr><th>growth</th><th>blocking call</th><th>own code</th><th>top frames</th></tr>")
            for g in rows:
                out.append(f"<tr><td>+{g['growth']} ({g['before']} -> {g['after']})</td><td>{e(g['blocking_call'])}"
                           f"{'<br><small>' + e(g['wait']) + '</small>' if g['wait'] else ''}</td><td>{e(g['own_frame'])}"
                           f"{'<br><small>started it (its creators stacks)</small>' if g.get('created_by_own') else ''}</td>"
                           f"<td><pre>{e(chr(10).join(g['frames']))}</pre></td></tr>")
            out.append("</table>")
    for c in v.get("captures", []):
        out.append(f"<p>Captured: <code>{e(c['file'])}</code> - open with <code>{e(c['open'])}</code></p>")
    return "\n".join(out)


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
    parts = [f"{c['matched']} of {c['locust_requests']} client requests found in nginx's access log"]
    if c["missing_in_access_log"]:
        parts.append(f"MISMATCH: {c['missing_in_access_log']} answered requests missing from the access log (e.g. {c['missing_examples']})")
    if c["connection_errors_not_logged"]:
        parts.append(f"{c['connection_errors_not_logged']} connection errors never reached nginx")
    if c["unexpected_in_access_log"]:
        parts.append(f"{c['unexpected_in_access_log']} access-log entries the client did not record (statuses {c['unexpected_statuses']}; "
                     "499 = cut off when the load stopped)")
    return "; ".join(parts)


def markdown(summary: dict) -> str:
    lines = [f"## {summary['scenario']}: {summary['title']}", ""]
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


CSS = """
body{font-family:system-ui,sans-serif;margin:24px;max-width:1500px;color:#222}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;vertical-align:top}
th{background:#f3f3f3}.pass{color:#176b2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.incomplete{background:#fff3cd;border:1px solid #e0c060;padding:8px}pre{white-space:pre-wrap;background:#f7f7f7;padding:8px}
img{max-width:100%}
"""


def render_html(summary: dict, description: str, png: bytes) -> str:
    e = html.escape
    names = list(summary["variants"])
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>gatewaylab: {e(summary['scenario'])}</title>",
           f"<style>{CSS}</style></head><body>",
           f"<h1>{e(summary['scenario'])}: {e(summary['title'])}</h1>",
           f"<p>Run folder: <code>{e(summary['run_dir'])}</code>. Verdict: "
           f"<span class='{'pass' if summary['verdict'] == 'pass' else 'fail'}'>{e(summary['verdict'].upper())}</span></p>"]
    if not summary["complete"]:
        why = (summary.get("stopped") or {}).get("error", "the run did not finish")
        out.append(f"<p class='incomplete'><b>INCOMPLETE RUN.</b> {e(str(why))}. Planned variants: "
                   f"{e(', '.join(summary['variants_planned']))}; shown: {e(', '.join(names)) or 'none'}.</p>")
    out.append(f"<h2>The story</h2><pre>{e(description)}</pre>")
    if png:
        out.append("<h2>Timeline</h2><img alt='timeline' src='data:image/png;base64,"
                   + base64.b64encode(png).decode() + "'>")
    out.append("<h2>Figures per variant</h2><table><tr><th></th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>")
    for label, cells in table_rows(summary):
        out.append(f"<tr><th style='text-align:left'>{e(label)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    out.append("<h2>Where it leaks: goroutine stacks that grew from before the load to after it</h2>")
    for name, v in summary["variants"].items():
        out.append(f"<h3>{e(name)}</h3>" + (_stacks_html(v) or "<p>No goroutine dumps in this run.</p>"))
    out.append("<h2>Verdict against the scenario's expectations</h2>")
    for name, v in summary["variants"].items():
        out.append(f"<h3>{e(name)}: <span class='{v['verdict']}'>{e(v['verdict'].upper())}</span></h3>")
        out.append("<table><tr><th>expectation</th><th>measured</th><th></th><th>why</th></tr>")
        for x in v["expectations"]:
            out.append(f"<tr><td>{e(x['metric'])} {e(x['op'])} {e(_fmt(x['value']))}</td><td>{e(_measured(x))}</td>"
                       f"<td class='{'pass' if x['holds'] else 'fail'}'>{'holds' if x['holds'] else 'FAILS'}</td><td>{e(x['why'])}</td></tr>")
        out.append("</table>")
        out.append(f"<p>{e(leak_checks_note(v))}</p>")
        out.append(f"<p>Cross-check: {e(_crosscheck_note(v))}. Error log: {e(_fmt(v['gateway']['error_log']))}.</p>")
        for d in v.get("deaths", []):
            out.append(f"<p class='incomplete'>{e(d['process'])} died {d['t'] - v['t0']:.0f} s into the load "
                       f"(exit status {e(str(d.get('exit')))}); see the journal for its log tail.</p>")
        for note in flat_notes(v):
            out.append(f"<p class='incomplete'>{e(note)}</p>")
    out.append(HOW_TO_READ)
    out.append("</body></html>")
    return "\n".join(out)


HOW_TO_READ = """<h2>How to read this</h2><ul>
<li><b>Ejection episode</b>: a period nginx kept a replica out of rotation after max_fails counted failures
(from the error log's "upstream server temporarily disabled" lines; a failed trial request after fail_timeout starts a new one).</li>
<li><b>Bypass figure</b>: of the bad client requests (5xx, no answer, or slower than the scenario's slow_ms), the share whose
attempts nginx never counted toward max_fails: errors and slowness the passive health check cannot see.</li>
<li><b>Goroutine slope</b>: least-squares goroutines per second over the load. A flat curve is not health by itself:
a process that can no longer accept connections also stays flat.</li>
<li>Client figures come from Locust's request hook; per-replica attempt figures from nginx's access log
($upstream_addr/$upstream_status per attempt); goroutines, pool and fds from each replica's /metrics.</li></ul>"""
