// The workshop page: pick a scenario, start a run (or an exercise check), watch it live (polled every second), stop it.
(function () {
  "use strict";
  var $ = function (sel, el) { return (el || document).querySelector(sel); };
  var $$ = function (sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); };
  var shownReport = null, shownExercise = null;

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
    $$("button.start, button.check").forEach(function (b) { b.disabled = live.state === "running" || live.state === "stopping"; });
    if (live.state === "idle") return;
    $("#run").hidden = false;
    var check = live.kind === "check";
    var line = check ? "exercise check of your file, " + live.scenario :
      live.scenario + " [" + (live.variants.length ? live.variants.join(", ") : "default variants") + "]";
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
    showExercise(live.exercise);
    var v = check ? null : run.verdict;  // a check is judged by its exercise verdict, not the variant's pass/fail
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

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function showExercise(ex) {
    var key = JSON.stringify(ex || null);
    if (key === shownExercise) return;
    shownExercise = key;
    var box = $("#exercise-verdict");
    box.innerHTML = "";
    if (!ex) return;
    if (!ex.verdict) {
      box.appendChild(el("p", ex.compile_error ? "ex-compile" : "ex-none", ex.compile_error ? "Your file does not compile:" :
        "The check ended without a verdict (exit " + ex.exit_code + "):"));
      box.appendChild(el("pre", null, ex.message));
      return;
    }
    box.appendChild(el("p", "ex-" + ex.verdict.replace(/ /g, "-"), ex.headline));
    if (ex.figure) box.appendChild(el("p", null, "The figure: " + ex.figure));
    if (ex.stack) {
      var p = el("p", "ex-stack", "Growing stack: +" + ex.stack.growth + " goroutines in " + ex.stack.blocking_call + " from " + ex.stack.at + " ");
      if (ex.stack.source) p.appendChild(el("code", null, ex.stack.line + " | " + ex.stack.source));
      box.appendChild(p);
    }
    box.appendChild(el("pre", null, ex.text + (ex.wall_s ? "\n(" + Math.round(ex.wall_s) + " s)" : "")));
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
    var ex = $(".exercise", sec);
    if (ex) exercise(sec, ex);
    $$(".tabs button", sec).forEach(function (b) {
      b.addEventListener("click", function () {
        $$(".tabs button", sec).forEach(function (x) { x.classList.toggle("on", x === b); });
        $$(".diffbox", sec).forEach(function (d) { d.hidden = d.dataset.diff !== b.dataset.diff; });
      });
    });
  });
  function exercise(sec, ex) {
    var editor = $("textarea", ex), hint = $("button.hint", ex), hints = $$("ol.hints li", ex);
    hint.addEventListener("click", function () {
      var next = hints.filter(function (h) { return h.hidden; });
      if (next.length) next[0].hidden = false;
      var left = hints.filter(function (h) { return h.hidden; }).length;
      hint.textContent = left ? "Show hint " + (hints.length - left + 1) + " of " + hints.length : "No more hints";
      hint.disabled = !left;
    });
    $("input[type=file]", ex).addEventListener("change", function (e) {
      var f = e.target.files[0];
      if (f) f.text().then(function (t) { editor.value = t; });
    });
    $("button.reset", ex).addEventListener("click", function () { editor.value = editor.defaultValue; });
    $("button.check", ex).addEventListener("click", function () {
      $("button.check", ex).disabled = true;
      $("#timeline").innerHTML = ""; $("#verdict").innerHTML = ""; $("#report").innerHTML = "";
      post("/api/check", {scenario: sec.dataset.name, file: editor.value}).catch(function (e) { alert(e.message); });
      window.scrollTo(0, 0);
    });
  }

  $("#stop").addEventListener("click", function () {
    $("#stop").disabled = true;
    $("#state").textContent = "stopping: tearing the stack down";
    post("/api/stop").catch(function (e) { alert(e.message); });
  });
  window.addEventListener("hashchange", route);
  route();
  poll();
})();
