// The interactive timeline (uPlot): one column per variant, one row per panel, all on one clock
// (seconds since the load started). Cursors and zoom are linked across every chart; click a
// legend entry to hide a series; double-click a chart to zoom back out.
// Used by report.html (static data) and by the workshop page (redrawn every second).
(function () {
  "use strict";
  var STATUS = {"no answer": "#7f7f7f", "502": "#ff7f0e", "503": "#9467bd", "504": "#d62728", "500": "#8c564b"};
  var REPLICA = ["#1f77b4", "#2ca02c", "#e377c2", "#17becf", "#bcbd22", "#8c564b"];
  var ROWS = [
    ["outcomes", "Client outcomes per second"],
    ["latency", "Client latency ms (p50, p99)"],
    ["goroutines", "Goroutines per replica"],
    ["pool", "Outbound pool: in use (solid), waiting (dashed)"]
  ];

  function statusColor(label) {
    if (/slow$/.test(label)) return "#b5a000";
    if (label[0] === "2") return "#98df8a";
    if (label[0] === "3") return "#aec7e8";
    return STATUS[label] || "#c49c94";
  }

  function replicaColors(run) {
    var out = {};
    run.replicas.forEach(function (r, i) { out[r] = REPLICA[i % REPLICA.length]; });
    return out;
  }

  // [data, series] of one panel of one variant; raw holds what the hover shows (counts, not stacks).
  function panel(row, v, colors) {
    var c = v.client, s = v.samples, xs, series = [{label: "s", value: function (u, x) {
      if (x == null) return "-";
      // a per-second point stands for its whole second (by completion time)
      return row === "outcomes" || row === "latency" ? Math.floor(x) + "-" + (Math.floor(x) + 1) + " s" : x.toFixed(2) + " s";
    }}];
    if (row === "outcomes") {
      var acc = c.x.map(function () { return 0; }), stacks = [], raw = [];
      c.labels.forEach(function (l) {
        acc = acc.map(function (a, i) { return a + (c.counts[l][i] || 0); });
        stacks.push(acc.slice()); raw.push(c.counts[l]);
      });
      // drawn top stack first, so each lower one paints over it: the bars read as stacked
      var data = [c.x];
      for (var i = c.labels.length - 1; i >= 0; i--) {
        data.push(stacks[i]);
        (function (counts, label) {
          series.push({label: label, fill: statusColor(label), stroke: statusColor(label), width: 0,
                       paths: uPlot.paths.bars({size: [1, 100], align: 1}), points: {show: false},
                       value: function (u, val, si, idx) { return idx == null ? "-" : counts[idx]; }});
        })(raw[i], c.labels[i]);
      }
      return {data: data, series: series};
    }
    if (row === "latency") {
      var pos = function (a) { return a.map(function (x) { return x != null && x > 0 ? x : null; }); };
      series.push({label: "p50", stroke: "#333", width: 1});
      series.push({label: "p99", stroke: "#d62728", width: 1});
      return {data: [c.x.map(function (x) { return x + 0.5; }), pos(c.p50_ms), pos(c.p99_ms)], series: series};
    }
    xs = [s.x];
    Object.keys(s.replicas).sort().forEach(function (r) {
      var m = s.replicas[r];
      if (row === "goroutines" && m.goroutines) {
        xs.push(m.goroutines); series.push({label: r, stroke: colors[r], width: 1.5, spanGaps: true});
      }
      if (row === "pool") {
        if (m.pool_in_use) { xs.push(m.pool_in_use); series.push({label: r + " in use", stroke: colors[r], width: 1.5, spanGaps: true}); }
        if (m.pool_waiters) { xs.push(m.pool_waiters); series.push({label: r + " waiting", stroke: colors[r], dash: [6, 4], width: 1.5, spanGaps: true}); }
      }
    });
    return {data: xs, series: series};
  }

  // Bands and markers, drawn under the series: toxics, ejection episodes, phase starts, leak-watch flags, now.
  function decorations(run, v, row, colors, now) {
    return function (u) {
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
      var X = function (t) { return u.valToPos(t, "x", true); };
      ctx.save();
      ctx.beginPath(); ctx.rect(u.bbox.left, top, u.bbox.width, h); ctx.clip();
      v.toxics.forEach(function (w) { ctx.fillStyle = "rgba(185,179,255,0.25)"; ctx.fillRect(X(w[0]), top, X(w[1]) - X(w[0]), h); });
      v.episodes.forEach(function (e) {
        ctx.fillStyle = colors[e[2]] || "#999"; ctx.globalAlpha = 0.15;
        ctx.fillRect(X(e[0]), top, X(e[1]) - X(e[0]), h); ctx.globalAlpha = 1;
      });
      ctx.setLineDash([2, 3]); ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
      run.phases.forEach(function (p) {
        ctx.beginPath(); ctx.moveTo(X(p[1]), top); ctx.lineTo(X(p[1]), top + h); ctx.stroke();
        if (row === "outcomes") { ctx.fillStyle = "#555"; ctx.font = "11px sans-serif"; ctx.textAlign = "left"; ctx.fillText(p[0], X(p[1]) + 3, top + 11); }
      });
      if (row === "goroutines") {
        ctx.setLineDash([8, 3, 2, 3]); ctx.lineWidth = 1.5;
        Object.keys(v.leak_flagged).forEach(function (r) {
          var x = X(v.leak_flagged[r]);
          ctx.strokeStyle = colors[r]; ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
          ctx.fillStyle = colors[r]; ctx.font = "11px sans-serif"; ctx.textAlign = "left"; ctx.fillText("leak-watch: " + r, x + 3, top + h - 4);
        });
      }
      if (now != null && !v.finished) {
        ctx.setLineDash([]); ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(X(now), top); ctx.lineTo(X(now), top + h); ctx.stroke();
      }
      ctx.restore();
    };
  }

  function rowRange(run, row) {
    var lo = Infinity, hi = 0;
    run.variants.forEach(function (v) {
      var d = panel(row, v, {}).data;
      for (var i = 1; i < d.length; i++) d[i].forEach(function (y) { if (y != null) { hi = Math.max(hi, y); if (y > 0) lo = Math.min(lo, y); } });
    });
    if (row === "latency") return [lo === Infinity ? 1 : Math.pow(10, Math.floor(Math.log10(lo))), Math.pow(10, Math.ceil(Math.log10(Math.max(hi, 10))))];
    return [0, hi > 0 ? hi * 1.08 : 1];
  }

  // Draws (or redraws) the timeline of run into el; state keeps the charts between calls.
  function render(el, run, opts) {
    opts = opts || {};
    var state = el._timeline || (el._timeline = {charts: {}, sig: null, x: null});
    var colors = replicaColors(run);
    var sig = JSON.stringify(run.variants.map(function (v) {
      return [v.name, v.client.labels, Object.keys(v.samples.replicas).sort()];
    })) + el.clientWidth;
    var xmax = Math.max(run.duration_s + 5, opts.now || 0);
    run.variants.forEach(function (v) { if (v.t_end != null) xmax = Math.max(xmax, v.t_end + 5); });
    var ranges = {};
    ROWS.forEach(function (r) { ranges[r[0]] = rowRange(run, r[0]); });
    if (sig !== state.sig) {
      Object.keys(state.charts).forEach(function (k) { state.charts[k].destroy(); });
      state.charts = {}; el.innerHTML = ""; state.sig = sig;
      var grid = document.createElement("div");
      grid.className = "tl-grid";
      grid.style.gridTemplateColumns = "repeat(" + Math.max(1, run.variants.length) + ", 1fr)";
      el.appendChild(grid);
      var width = Math.max(320, Math.floor(el.clientWidth / Math.max(1, run.variants.length)) - 16);
      ROWS.forEach(function (r) {
        run.variants.forEach(function (v) {
          var cell = document.createElement("div");
          cell.className = "tl-cell"; cell.dataset.variant = v.name; cell.dataset.row = r[0];
          grid.appendChild(cell);
          var p = panel(r[0], v, colors);
          var u = new uPlot({
            title: (r[0] === "outcomes" ? v.name + " behind " + v.gateway + " - " : "") + r[1],
            width: width, height: opts.height || 190,
            series: p.series,
            scales: {x: {time: false, auto: false, min: 0, max: xmax},
                     y: r[0] === "latency" ? {distr: 3, range: function () { return state.ranges.latency; }}
                                           : {range: (function (k) { return function () { return state.ranges[k]; }; })(r[0])}},
            axes: [{}, {size: 60}],
            cursor: {sync: {key: "gatewaylab", setSeries: false}, drag: {x: true, y: false}},
            hooks: {
              drawClear: [function (u) { decorations(run, state.variants[v.name], r[0], colors, state.now)(u); }],
              setScale: [function (u, key) { if (key === "x" && !state.syncing) share(state, u); }]
            }
          }, p.data, cell);
          u.row = r[0]; u.variant = v.name;
          u.over.addEventListener("dblclick", function () { state.x = null; share(state, null); });
          state.charts[v.name + "/" + r[0]] = u;
        });
      });
      state.x = null;
    }
    state.ranges = ranges;
    state.xmax = xmax;
    state.now = opts.now;
    state.variants = {};
    run.variants.forEach(function (v) { state.variants[v.name] = v; });
    Object.keys(state.charts).forEach(function (k) {
      var u = state.charts[k], v = state.variants[u.variant];
      u.setData(panel(u.row, v, colors).data, false);
      state.syncing = true;
      u.setScale("x", state.x || {min: 0, max: xmax});
      state.syncing = false;
    });
    window.gatewaylabCharts = state.charts;
    return state;
  }

  // A zoom (drag) or reset (double-click) on one chart moves every chart to the same range.
  function share(state, from) {
    if (from) state.x = {min: from.scales.x.min, max: from.scales.x.max};
    state.syncing = true;
    Object.keys(state.charts).forEach(function (k) {
      var u = state.charts[k];
      if (u !== from) u.setScale("x", state.x || {min: 0, max: state.xmax});
    });
    state.syncing = false;
  }

  window.GatewaylabTimeline = {render: render};
})();
