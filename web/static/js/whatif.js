/* What-if page: start the run without leaving the page, show its progress, and draw a heatmap of
   each side (executions per element) once it is done. Without JavaScript the form posts and the
   page refreshes itself until the result is there. */
(function () {
  "use strict";

  function poll(url, box, done) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        var bar = document.getElementById("whatif-progress"), pct = document.getElementById("whatif-percent");
        if (bar) { bar.value = job.progress || 0; }
        if (pct) { pct.textContent = Math.round((job.progress || 0) * 100) + " %"; }
        if (job.state === "running") { setTimeout(function () { poll(url, box, done); }, 1500); } else { done(job); }
      });
  }

  function submit(form) {
    var error = document.getElementById("whatif-error"), body = {};
    new FormData(form).forEach(function (value, key) { if (key !== "csrf_token") { body[key] = value; } });
    error.hidden = true;
    fetch(form.action, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": form.dataset.csrf }
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (res) {
      if (!res.ok) {
        var problems = (res.data.problems || []).map(function (p) {
          return (p.file || "") + (p.element_id ? " · " + p.element_id : "") + ": " + (p.localized_message || p.message);
        });
        error.textContent = [res.data.localized_message || res.data.message].concat(problems).join("\n");
        error.hidden = false;
        return;
      }
      var params = new URLSearchParams(window.location.search);
      params.set("job", res.data.job_id);
      ["deployment_id", "against_deployment_id"].forEach(function (k) {
        if (body[k]) { params.set(k === "deployment_id" ? "deployment" : "against", body[k]); }
      });
      window.location.search = params.toString();
    });
  }

  /* Each side coloured by executions, with the owner's heatmap's badges (static/js/heatmap.js): placed clear
     of names and of each other, readable at every zoom. */
  function paint(viewer, data) {
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    var max = data.max_executions || 0;
    data.elements.forEach(function (e) {
      if (!registry.get(e.element_id)) { return; }
      var level = max ? Math.min(4, Math.floor((e.executions / max) * 4.999)) : 0;
      canvas.addMarker(e.element_id, "heat-" + level);
    });
    window.heatBadges.badges(viewer, data, function () { return "executions"; });
  }

  function draw(result, process) {
    var status = document.getElementById("heat-status"), pending = [];
    ["tried", "deployed"].forEach(function (side) {
      var box = document.getElementById("heat-" + side), file = result.files[side][process];
      box.innerHTML = "";
      box.removeAttribute("data-ready");
      if (!file || !window.BpmnJS) { return; }
      var viewer = new window.BpmnJS({ container: box });
      var url = result.file_url.replace("SIDE", side).replace("PATH", file);
      pending.push(fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); })
        .then(function (xml) { return viewer.importXML(xml); })
        .then(function () {
          window.diagramLabels.translate(viewer);
          window.heatBadges.readable(viewer.get("canvas"));
          paint(viewer, result.heatmaps[side][process]);
          box.setAttribute("data-ready", "true");
        }));
    });
    Promise.all(pending).catch(function (err) { status.textContent = err.message; });
  }

  function start() {
    var form = document.getElementById("whatif-form"), job = document.getElementById("whatif-job");
    if (form) {
      form.addEventListener("submit", function (event) { event.preventDefault(); submit(form); });
    }
    if (job && job.dataset.state === "running") {
      poll(form.dataset.statusUrl.replace("JOB", job.dataset.job), job, function () { window.location.reload(); });
    }
    var data = document.getElementById("whatif-result");
    if (data) {
      var result = JSON.parse(data.textContent), select = document.getElementById("whatif-process");
      draw(result, select.value);
      select.addEventListener("change", function () { draw(result, select.value); });
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
