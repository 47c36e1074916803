/* Heatmap of a process version: each element coloured by executions, p90 waiting or
   p90 working time (five steps, relative to the busiest element), with a badge of the
   figures. Data: #heatmap's data-heatmap-url; diagram: data-diagram-url. */
(function () {
  "use strict";

  function fmt(s) {
    if (s === null || s === undefined) { return "–"; }
    if (s < 90) { return Math.round(s) + " s"; }
    if (s < 5400) { return Math.round(s / 60) + " min"; }
    return (s / 3600).toFixed(1) + " h";
  }

  function paint(viewer, data, measure) {
    var canvas = viewer.get("canvas"), overlays = viewer.get("overlays"), registry = viewer.get("elementRegistry");
    overlays.remove({ type: "heat" });
    var max = 0;
    data.elements.forEach(function (e) { max = Math.max(max, e[measure] || 0); });
    data.elements.forEach(function (e) {
      if (!registry.get(e.element_id)) { return; }
      for (var i = 0; i < 5; i++) { canvas.removeMarker(e.element_id, "heat-" + i); }
      var level = max ? Math.min(4, Math.floor(((e[measure] || 0) / max) * 4.999)) : 0;
      canvas.addMarker(e.element_id, "heat-" + level);
      var badge = document.createElement("span");
      badge.className = "heat-badge";
      badge.textContent = e.executions + "× · wait p90 " + fmt(e.waiting_p90) + " · work p90 " + fmt(e.working_p90);
      badge.title = "average waiting " + fmt(e.waiting_avg) + ", average working " + fmt(e.working_avg) +
        (e.active ? ", " + e.active + " running now" : "") + (e.failed ? ", " + e.failed + " failed now" : "");
      overlays.add(e.element_id, "heat", { position: { bottom: -4, left: 0 }, html: badge });
    });
  }

  function start() {
    var box = document.getElementById("heatmap");
    if (!box || !window.BpmnJS) { return; }
    var viewer = new window.BpmnJS({ container: box }), status = document.getElementById("heat-status");
    Promise.all([
      fetch(box.dataset.diagramUrl, { credentials: "same-origin" }).then(function (r) { return r.text(); }),
      fetch(box.dataset.heatmapUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); })
    ]).then(function (both) {
      return viewer.importXML(both[0]).then(function () {
        window.diagramLabels.translate(viewer);
        viewer.get("canvas").zoom("fit-viewport", "auto");
        var select = document.getElementById("heat-measure");
        paint(viewer, both[1], select.value);
        select.addEventListener("change", function () { paint(viewer, both[1], select.value); });
        box.setAttribute("data-ready", "true");
        status.textContent = both[1].instances + " instance(s); the busiest element has " + both[1].max_executions + " execution(s).";
      });
    }).catch(function (err) { status.textContent = "The heatmap could not be drawn: " + err.message; });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
