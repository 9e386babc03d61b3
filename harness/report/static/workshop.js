// The workshop page: pick a scenario, start a run, watch it live (polled every second), stop it.
(function () {
  "use strict";
  var $ = function (sel, el) { return (el || document).querySelector(sel); };
  var $$ = function (sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); };
  var shownReport = null;

  function select(name) {
    $$("section.scenario").forEach(function (s) { s.hidden = s.dataset.name !== name; });
    $$("nav a").forEach(function (a) { a.classList.toggle("current", a.dataset.name === name); });
  }

  function route() {
    var name = decodeURIComponent(location.hash.slice(1));
    if (!$('section.scenario[data-name="' + name + '"]')) name = $("section.scenario[data-name='unclosed-body']") ? "unclosed-body" : ($("section.scenario") || {dataset: {}}).dataset.name;
    select(name);
  }

  function post(url, body) {
    return fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})})
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.status); return j; }); });
  }

  function fmt(s) { return s == null ? "-" : Math.round(s) + " s"; }

  function show(live) {
    var run = live.run || {}, st = run.status || {};
    $("#state").textContent = live.state + (live.scenario ? ": " + live.scenario : "");
    $("#stop").disabled = live.state !== "running";
    $$("button.start").forEach(function (b) { b.disabled = live.state === "running" || live.state === "stopping"; });
    if (live.state === "idle") return;
    $("#run").hidden = false;
    var line = live.scenario + " [" + (live.variants.length ? live.variants.join(", ") : "default variants") + "]";
    if (live.state === "running" || live.state === "stopping") {
      line += "  variant " + (st.variant || "-") + "  " + (st.phase ? "phase " + st.phase + "  " : "") +
        (st.elapsed_s != null ? fmt(st.elapsed_s) + " into the load, " + fmt(st.remaining_s) + " to go" : "step: " + (st.step || "starting"));
    } else {
      line += "  " + live.state + " (exit " + live.exit_code + ")";
    }
    $("#run-status").textContent = line;
    $("#log").textContent = live.log || "";
    if (run.series && window.GatewaylabTimeline) {
      GatewaylabTimeline.render($("#timeline"), run.series, {now: run.now_s});
    }
    var v = run.verdict;
    if (v) {
      var parts = Object.keys(v.variants).map(function (n) {
        var x = v.variants[n];
        return n + ": " + x.verdict.toUpperCase() + (x.failed.length ? " (fails: " + x.failed.join("; ") + ")" : "");
      });
      $("#verdict").innerHTML = "";
      var b = document.createElement("p");
      b.className = v.overall === "pass" ? "verdict-pass" : "verdict-fail";
      b.textContent = "Verdict: " + String(v.overall).toUpperCase() + (v.complete ? "" : " (incomplete run)") + " - " + parts.join(", ");
      $("#verdict").appendChild(b);
    }
    if (run.report && shownReport !== run.run_dir) {
      shownReport = run.run_dir;
      $("#report").innerHTML = '<h3>The report <a href="/report" target="_blank">(open on its own)</a></h3>' +
        '<iframe class="report" data-testid="report" src="/report?run=' + encodeURIComponent(run.run_dir) + '"></iframe>';
    }
  }

  function poll() {
    fetch("/api/live", {cache: "no-store"}).then(function (r) { return r.json(); }).then(show)
      .catch(function (e) { $("#state").textContent = "server unreachable: " + e.message; })
      .then(function () { setTimeout(poll, 1000); });
  }

  $$("section.scenario").forEach(function (sec) {
    var start = $("button.start", sec);
    if (start) start.addEventListener("click", function () {
      var variants = $$("input[name=variant]:checked", sec).map(function (i) { return i.value; });
      start.disabled = true;
      $("#timeline").innerHTML = ""; $("#verdict").innerHTML = ""; $("#report").innerHTML = "";
      post("/api/run", {scenario: sec.dataset.name, variants: variants}).catch(function (e) { alert(e.message); });
      window.scrollTo(0, 0);
    });
    $$(".tabs button", sec).forEach(function (b) {
      b.addEventListener("click", function () {
        $$(".tabs button", sec).forEach(function (x) { x.classList.toggle("on", x === b); });
        $$(".diffbox", sec).forEach(function (d) { d.hidden = d.dataset.diff !== b.dataset.diff; });
      });
    });
  });
  $("#stop").addEventListener("click", function () {
    $("#stop").disabled = true;
    $("#state").textContent = "stopping: tearing the stack down";
    post("/api/stop").catch(function (e) { alert(e.message); });
  });
  window.addEventListener("hashchange", route);
  route();
  poll();
})();
