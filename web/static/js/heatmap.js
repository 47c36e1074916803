/* Heatmap of a process version: each element coloured by executions, p90 waiting or
   p90 working time (five steps, relative to the busiest element), with a badge of that
   figure placed clear of names and other elements, and every figure of an element in the
   detail box on hover or click. Figures and diagram come with the page (#heatmap-data,
   #heatmap-diagram). */
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

  /* A badge says the figure the diagram is coloured by, briefly; the element's other figures are in
     the detail box (hover or click an element) and the table below. */
  function brief(e, measure) { return measure === "executions" ? e.executions + "×" : fmt(e[measure]); }

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
    });
  }

  function overlaps(a, b) {  /* or nearer than a pixel */
    return a.left < b.right + 1 && b.left < a.right + 1 && a.top < b.bottom + 1 && b.top < a.bottom + 1;
  }

  /* Put each element's badge, at the diagram's zoom, where it covers no name, no other element and no
     other badge: inside an activity's top right corner, else just outside one of the element's corners
     or sides; an element with no such place keeps its figures in the detail box and the table only.
     Badges keep their size in pixels at every zoom (readable), so they are placed again when it changes. */
  function place(viewer, data, measure) {
    var canvas = viewer.get("canvas"), overlays = viewer.get("overlays"), registry = viewer.get("elementRegistry");
    var zoom = canvas.zoom(), view = canvas.viewbox(), box = canvas.getContainer().getBoundingClientRect();
    overlays.remove({ type: "heat" });
    function onScreen(el) {
      var left = box.left + (el.x - view.x) * zoom, top = box.top + (el.y - view.y) * zoom;
      return { left: left, top: top, right: left + el.width * zoom, bottom: top + el.height * zoom };
    }
    var shapes = registry.filter(function (el) {
      return !el.waypoints && !el.labelTarget && el.parent && !/Lane|Participant|SubProcess|Group/.test(el.type);
    });
    var taken = [];
    canvas.getContainer().querySelectorAll(".djs-element text").forEach(function (node) {
      var r = node.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) { taken.push(r); }
    });
    var busiest = data.elements.filter(function (e) {  /* no badge of a time never measured ("–") */
      return registry.get(e.element_id) && e[measure] !== null && e[measure] !== undefined;
    })
      .sort(function (a, b) { return (b[measure] || 0) - (a[measure] || 0); });
    busiest.forEach(function (e) {
      var shape = registry.get(e.element_id), own = onScreen(shape);
      var badge = document.createElement("span");
      badge.className = "heat-badge";
      badge.setAttribute("data-element", e.element_id);
      badge.textContent = brief(e, measure);
      badge.title = t("{count}× · wait p90 {wait} · work p90 {work}",
                      { count: e.executions, wait: fmt(e.waiting_p90), work: fmt(e.working_p90) }) + "\n" +
        t("average waiting {wait}, average working {work}", { wait: fmt(e.waiting_avg), work: fmt(e.working_avg) }) +
        (e.active ? t(", {n} running now", { n: e.active }) : "") + (e.failed ? t(", {n} failed now", { n: e.failed }) : "");
      overlays.add(e.element_id, "heat", { position: { top: 0, left: 0 }, scale: false, html: badge });
      var w = badge.offsetWidth, h = badge.offsetHeight, W = own.right - own.left, H = own.bottom - own.top;
      var spots = (/Task|Activity/.test(shape.type) && W > w + 6 ? [[W - w - 3, 3]] : []).concat(
        [[W - w, -h - 2], [W + 2, 0], [W + 2, H - h], [W - w, H + 2], [0, -h - 2], [-w - 2, 0], [0, H + 2],
         [-w - 2, H - h]]);
      var others = shapes.filter(function (s) { return s !== shape; }).map(onScreen);
      var spot = spots.filter(function (xy) {
        var r = { left: own.left + xy[0], top: own.top + xy[1], right: own.left + xy[0] + w, bottom: own.top + xy[1] + h };
        return !taken.concat(others).some(function (o) { return overlaps(r, o); });
      })[0];
      overlays.remove({ element: e.element_id, type: "heat" });
      if (!spot) { return; }
      taken.push({ left: own.left + spot[0], top: own.top + spot[1], right: own.left + spot[0] + w,
                   bottom: own.top + spot[1] + h });
      overlays.add(e.element_id, "heat", { position: { left: spot[0] / zoom, top: spot[1] / zoom }, scale: false,
                                           html: badge });
    });
    var holder = canvas.getContainer().closest(".bpmn-canvas");  /* how often placed: the tests wait for it */
    holder.setAttribute("data-placed", String(Number(holder.getAttribute("data-placed") || 0) + 1));
  }

  /* The detail box: every figure of the element under the pointer, or of the one clicked (kept until
     another is clicked); its table row is marked too. */
  function detail(viewer, data) {
    var boxes = document.getElementById("heat-detail"), pinned = null, byId = {};
    data.elements.forEach(function (e) { byId[e.element_id] = e; });
    function show(element) {
      var e = element && byId[element.id];
      if (!e) { return; }
      boxes.hidden = false;
      boxes.setAttribute("data-element", e.element_id);
      boxes.querySelector("[data-k=name]").textContent = (element.businessObject && element.businessObject.name) || e.element_id;
      ["executions", "active", "failed"].forEach(function (k) { boxes.querySelector("[data-k=" + k + "]").textContent = e[k]; });
      ["waiting_avg", "waiting_p90", "working_avg", "working_p90"].forEach(function (k) {
        boxes.querySelector("[data-k=" + k + "]").textContent = fmt(e[k]);
      });
      document.querySelectorAll("#heat-table tr.current").forEach(function (row) { row.classList.remove("current"); });
      var row = document.querySelector("#heat-table tr[data-element='" + e.element_id + "']");
      if (row) { row.classList.add("current"); }
    }
    var bus = viewer.get("eventBus"), registry = viewer.get("elementRegistry");
    bus.on("element.hover", function (ev) { if (!pinned) { show(ev.element); } });
    bus.on("element.click", function (ev) { pinned = byId[ev.element.id] ? ev.element : null; show(ev.element); });
    document.getElementById("heatmap").addEventListener("mouseover", function (ev) {
      var badge = ev.target.closest && ev.target.closest(".heat-badge");
      if (badge && !pinned) { show(registry.get(badge.getAttribute("data-element"))); }
    });
  }

  /* The whole diagram when its names can be read so (three quarters of their size or more), else at
     that size from its top left corner: the owner drags it or zooms with Ctrl + wheel for the rest. */
  function readable(canvas) {
    var least = 0.75;
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() >= least) { return; }
    var box = canvas.viewbox();
    canvas.viewbox({ x: box.inner.x - 20, y: box.inner.y - 20, width: box.outer.width / least,
                     height: box.outer.height / least });
  }

  /* Badges placed clear of names and of each other, again whenever the diagram is zoomed or moved (the
     what-if page's heatmaps too). */
  function badges(viewer, data, measure) {
    var again = null;
    place(viewer, data, measure());
    viewer.get("eventBus").on("canvas.viewbox.changed", function () {
      clearTimeout(again);
      again = setTimeout(function () { place(viewer, data, measure()); }, 120);
    });
  }
  window.heatBadges = { badges: badges, readable: readable };

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
        readable(viewer.get("canvas"));
        var select = document.getElementById("heat-measure");
        paint(viewer, both[1], select.value);
        badges(viewer, both[1], function () { return select.value; });
        select.addEventListener("change", function () {
          paint(viewer, both[1], select.value);
          place(viewer, both[1], select.value);
        });
        detail(viewer, both[1]);
        box.setAttribute("data-ready", "true");
        status.textContent = t("{count} instance(s); the busiest element has {max} execution(s).",
                               { count: both[1].instances, max: both[1].max_executions });
      });
    }).catch(function (err) { status.textContent = t("The heatmap could not be drawn: {error}", { error: err.message }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
