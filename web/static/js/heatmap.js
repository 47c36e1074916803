/* Heatmap of a process version: each element coloured by executions, p90 waiting or
   p90 working time (five steps, relative to the busiest element), with a badge of the
   figures. Figures and diagram come with the page (#heatmap-data, #heatmap-diagram). */
(function () {
  "use strict";

  /* The page's own texts in the reader's language, keyed by the English: the gettext catalogue
     web/translations/<lang>/LC_MESSAGES/js.po, embedded by the page as JSON in #ui-texts. */
  var TEXTS = (function () {
    var node = document.getElementById("ui-texts");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }());

  function t(text, values) {
    var out = TEXTS.hasOwnProperty(text) ? TEXTS[text] : text;
    Object.keys(values || {}).forEach(function (k) { out = out.split("{" + k + "}").join(String(values[k])); });
    return out;
  }

  function fmt(s) {
    if (s === null || s === undefined) { return "–"; }
    if (s < 90) { return t("{n} s", { n: Math.round(s) }); }
    if (s < 5400) { return t("{n} min", { n: Math.round(s / 60) }); }
    return t("{n} h", { n: (s / 3600).toFixed(1) });
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
      badge.textContent = t("{count}× · wait p90 {wait} · work p90 {work}",
                            { count: e.executions, wait: fmt(e.waiting_p90), work: fmt(e.working_p90) });
      badge.title = t("average waiting {wait}, average working {work}", { wait: fmt(e.waiting_avg), work: fmt(e.working_avg) }) +
        (e.active ? t(", {n} running now", { n: e.active }) : "") + (e.failed ? t(", {n} failed now", { n: e.failed }) : "");
      overlays.add(e.element_id, "heat", { position: { bottom: -4, left: 0 }, html: badge });
    });
  }

  function start() {
    var box = document.getElementById("heatmap");
    if (!box || !window.BpmnJS) { return; }
    var viewer = new window.BpmnJS({ container: box }), status = document.getElementById("heat-status");
    window.diagramLabels.attach(viewer);  /* names in the reader's words as the XML is read: one drawing */
    Promise.resolve().then(function () {
      return [JSON.parse(document.getElementById("heatmap-diagram").textContent),
              JSON.parse(document.getElementById("heatmap-data").textContent)];
    }).then(function (both) {
      return viewer.importXML(both[0]).then(function () {
        viewer.get("canvas").zoom("fit-viewport", "auto");
        var select = document.getElementById("heat-measure");
        paint(viewer, both[1], select.value);
        select.addEventListener("change", function () { paint(viewer, both[1], select.value); });
        box.setAttribute("data-ready", "true");
        status.textContent = t("{count} instance(s); the busiest element has {max} execution(s).",
                               { count: both[1].instances, max: both[1].max_executions });
      });
    }).catch(function (err) { status.textContent = t("The heatmap could not be drawn: {error}", { error: err.message }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
