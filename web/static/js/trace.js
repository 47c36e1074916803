/* Instance trace: the instance's own BPMN drawn with bpmn-js (NavigatedViewer), marked
   with completed elements, flows taken, current tokens and failed elements; drill-down
   into call activities; element details, the audit timeline and data as of any step.
   Data comes from the JSON endpoints named in #trace's data-* attributes (no inline
   script: the page's CSP forbids it). */
(function () {
  "use strict";

  var root, trace, viewer, scopeKey = "root";

  /* The page's own texts in the reader's language, keyed by the English: the gettext catalogue
     web/translations/<lang>/LC_MESSAGES/js.po, embedded by the page as JSON in #ui-texts. */
  var TEXTS = (function () {
    var node = document.getElementById("ui-texts");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }());

  /* An audit event's kind in words on a Chinese page; the code itself on an English one. */
  function kindText(kind) { return TEXTS.hasOwnProperty("kind:" + kind) ? TEXTS["kind:" + kind] : kind; }

  function t(text, values) {
    var out = TEXTS.hasOwnProperty(text) ? TEXTS[text] : text;
    Object.keys(values || {}).forEach(function (k) { out = out.split("{" + k + "}").join(String(values[k])); });
    return out;
  }

  // The step's name, its element id beside it as code (data, not words to translate); an unnamed element
  // or a message reads as its code
  function elementCell(ev) {
    var name = ev.name || "", coded = /^[a-z][a-z0-9_]*$/.test(name);
    var id = ev.element_id && name !== ev.element_id ? ev.element_id : "";
    return el("td", { text: coded ? "" : name + (id ? " " : "") },
              [coded ? el("code", { text: name }) : null, coded && id ? document.createTextNode(" ") : null,
               id ? el("code", { "class": "muted", text: id }) : null]);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { return r.json().then(function (b) { throw new Error(b.message || r.statusText); }); }
        return r.json();
      });
  }

  function status(text) { document.getElementById("trace-status").textContent = text; }
  function scopeOf(key) { return trace.scopes.filter(function (s) { return s.key === key; })[0]; }
  function fmt(seconds) {
    if (seconds === null || seconds === undefined) { return "–"; }
    if (seconds < 90) { return t("{n} s", { n: Math.round(seconds) }); }
    if (seconds < 5400) { return t("{n} min", { n: Math.round(seconds / 60) }); }
    return t("{n} h", { n: (seconds / 3600).toFixed(1) });
  }
  function pretty(value) { return JSON.stringify(value, null, 2); }

  /* A moment as the server's pages say it (web/rendering.py, `when`): in the business time zone
     (body[data-time-zone]) with its label (body[data-zone-label]), whatever zone the browser is in;
     an ISO text without a zone is UTC, as the engine stores it. */
  function when(iso) {
    var moment = new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(iso) ? iso : iso + "Z"), zone = document.body.dataset, part = {};
    if (isNaN(moment.getTime())) { return iso; }
    new Intl.DateTimeFormat("en-US", { timeZone: zone.timeZone || "UTC", hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(moment).forEach(function (p) { part[p.type] = p.value; });
    return part.year + "-" + part.month + "-" + part.day + " " + part.hour + ":" + part.minute + ":" + part.second +
      " " + (zone.zoneLabel || "UTC");
  }

  function crumbs() {
    var nav = document.getElementById("trace-crumbs");
    nav.textContent = "";
    var chain = [], s = scopeOf(scopeKey);
    while (s) { chain.unshift(s); s = s.parent ? scopeOf(s.parent) : null; }
    chain.forEach(function (sc, i) {
      var label = (sc.called_from ? sc.called_from + " → " : "") + sc.process_id;
      if (i < chain.length - 1) {
        var a = el("a", { href: "#", "data-scope": sc.key, text: label, translate: "no" });
        a.addEventListener("click", function (e) { e.preventDefault(); show(sc.key); });
        nav.appendChild(a);
        nav.appendChild(document.createTextNode(" / "));
      } else {
        nav.appendChild(el("strong", { text: label, translate: "no" }));
      }
    });
  }

  function mark(scope) {
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry"), overlays = viewer.get("overlays");
    Object.keys(scope.elements).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var info = scope.elements[id];
      var cls = info.status === "ready" || info.status === "waiting" ? "trace-token" : "trace-" + info.status;
      canvas.addMarker(id, cls);
      if (info.status === "ready" || info.status === "waiting") { canvas.addMarker(id, "trace-" + info.status); }
      if (info.completed > 1) {
        overlays.add(id, "trace", { position: { top: -10, right: 8 },
          html: el("span", { "class": "trace-count", title: t("completed {count} times", { count: info.completed }),
                             text: "×" + info.completed }) });
      }
    });
    scope.flows.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "trace-flow"); } });
    Object.keys(scope.calls).forEach(function (id) {
      if (!registry.get(id)) { return; }
      canvas.addMarker(id, "trace-drill");
      overlays.add(id, "trace", { position: { top: -12, left: 4 },
        html: el("span", { "class": "trace-drill-badge", title: t("open the called process"), text: t("⤵ open") }) });
    });
    trace.incidents.forEach(function (inc) {
      if (inc.scope === scope.key && inc.status !== "resolved" && registry.get(inc.element_id)) {
        canvas.addMarker(inc.element_id, "trace-failed");
        overlays.add(inc.element_id, "trace", { position: { top: -12, left: -6 },
          html: el("span", { "class": "trace-incident-badge", title: inc.message, text: "! " + inc.attempts + "×" }) });
      }
    });
  }

  /* A deployed file never changes (a deployment's files are frozen, a new version is a new
     deployment and a new URL): this tab keeps each diagram it fetched, so the next trace of an
     instance of the same version, or a step back out of a called process, draws at once. */
  function diagram(url) {
    var kept = null;
    try { kept = window.sessionStorage.getItem("diagram:" + url); } catch (e) { kept = null; }
    if (kept) { return Promise.resolve(kept); }
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(r.statusText); }
      return r.text();
    }).then(function (xml) {
      try { window.sessionStorage.setItem("diagram:" + url, xml); } catch (e) { /* full: fetch it next time */ }
      return xml;
    });
  }

  /* Import a diagram (its names already in the reader's words: diagramLabels is attached) and fit it to
     the canvas. */
  function draw(xml) {
    return viewer.importXML(xml).then(function () {
      viewer.get("canvas").zoom("fit-viewport", "auto");
      performance.mark("trace:diagram-drawn");
    });
  }

  /* Draw a scope's diagram; ``imported`` is the import of it already under way (the root's,
     started before the trace arrived). */
  function show(key, imported) {
    scopeKey = key;
    var scope = scopeOf(key);
    crumbs();
    status(t("Loading {file} …", { file: scope.file }));
    return (imported || diagram(scope.diagram_url).then(draw))
      .then(function () {
        mark(scope);
        root.setAttribute("data-scope", key);
        root.setAttribute("data-ready", "true");
        performance.mark("trace:ready");
        status(trace.tokens.length ? t("{count} token(s) now: {tokens}", { count: trace.tokens.length, tokens:
          trace.tokens.map(function (tok) { return tok.name + " (" + t(tok.state) + ")"; }).join(", ") }) : t("No token left: the instance has ended."));
      })
      .catch(function (err) { status(t("The diagram could not be drawn: {error}", { error: err.message })); });
  }

  function runsTable(runs) {
    var rows = runs.map(function (r) {
      return el("tr", {}, [el("td", { text: r.reached_at ? when(r.reached_at) : "–", title: r.reached_at || "" }),
        el("td", { text: r.completed_at ? when(r.completed_at)
          : r.interrupted ? t("interrupted") : r.failed_at ? t("failed") : t("not yet") }),
        who(r.actor), el("td", { text: fmt(r.waiting_seconds) }), el("td", { text: fmt(r.working_seconds) })]);
    });
    return el("table", { "class": "grid" }, [el("thead", {}, [el("tr", {}, ["Reached", "Done", "By", "Waited", "Worked"].map(
      function (h) { return el("th", { text: t(h) }); }))]), el("tbody", {}, rows)]);
  }

  function elementClicked(element) {
    var scope = scopeOf(scopeKey);
    var id = element.id;
    if (scope.calls[id]) { show(scope.calls[id][0]); return; }
    if (!scope.elements[id] && !(element.type || "").match(/Task|Event|Gateway|Activity|SubProcess/)) { return; }
    var runs = trace.runs.filter(function (r) { return r.scope === scopeKey && r.element_id === id; });
    var url = root.dataset.elementUrl.replace("ELEMENT", encodeURIComponent(id));
    if (runs.length) { url += "?" + runs.map(function (r) { return "task=" + encodeURIComponent(r.task_id); }).join("&"); }
    var panel = document.getElementById("element-panel");
    panel.textContent = "";
    panel.appendChild(el("h3", { text: (element.businessObject && element.businessObject.name) || id }));
    panel.setAttribute("data-element", id);
    if (!runs.length) {
      var st = scope.elements[id] ? t(scope.elements[id].status) : t("not reached");
      panel.appendChild(el("p", { "class": "muted", text: t("Status: {status}. No completed run recorded.", { status: st }) }));
      return;
    }
    getJSON(url).then(function (detail) {
      panel.appendChild(runsTable(detail.runs));
      detail.runs.forEach(function (r, i) {
        var box = el("details", { open: i === detail.runs.length - 1 ? "open" : null }, [
          el("summary", { text: t("Run {n}: {actor}", { n: i + 1, actor: r.actor || t("system") }) + (r.seq ? t(" · event #{seq}", { seq: r.seq }) : "") }),
          el("h4", { text: t("Changed") }), el("pre", { "class": "json delta", text: pretty(r.delta || {}) }),
          r.form ? el("h4", { text: t("Form as submitted") }) : null, r.form ? el("pre", { "class": "json", text: pretty(r.form) }) : null,
          el("h4", { text: t("Data before") }), el("pre", { "class": "json before", text: pretty(r.before || {}) }),
          el("h4", { text: t("Data after") }), el("pre", { "class": "json after", text: pretty(r.after || {}) })]);
        if (i !== detail.runs.length - 1) { box.removeAttribute("open"); }
        panel.appendChild(box);
      });
      if (detail.masked) { panel.appendChild(el("p", { "class": "muted", text: t("Personal data is masked.") })); }
    }).catch(function (err) { panel.appendChild(el("p", { "class": "flash error", text: err.message })); });
  }

  // who acted: the system's own actors by name, a person's user name as data (translate="no")
  function who(actor) {
    var names = { system: t("system"), sla: t("SLA watch"), customer: t("customer"), worker: t("system") };
    if (!actor) { return el("td", { text: "–" }); }
    return names[actor] ? el("td", { text: names[actor] }) : el("td", { text: actor, translate: "no" });
  }

  function summary(ev) {
    var d = ev.data || {}, delta = d.delta || {};
    var keys = Object.keys(delta.set || {}).concat((delta.unset || []).map(function (k) { return "−" + k; }));
    if (keys.length) { return keys.join(", "); }
    if (d.reason) { return d.reason; }
    if (d.error) { return d.error; }
    if (d.to || d.from) { return (d.from || "–") + " → " + (d.to || "–"); }
    return "";
  }

  function timeline() {
    var body = document.querySelector("#timeline tbody"), rows = document.createDocumentFragment(), kinds = {};
    body.textContent = "";
    trace.timeline.forEach(function (ev) {
      kinds[ev.kind] = true;
      var btn = el("button", { type: "button", "class": "small", "data-seq": ev.seq, text: t("data as of #{seq}", { seq: ev.seq }) });
      btn.addEventListener("click", function () { dataAsOf(ev.seq); });
      var tr = el("tr", { "data-kind": ev.kind, "data-seq": ev.seq }, [el("td", { text: String(ev.seq) }),
        el("td", { text: ev.at_text, title: ev.at }), who(ev.actor),
        el("td", { text: kindText(ev.kind), title: ev.kind }), elementCell(ev),
        el("td", { text: summary(ev), translate: "no" }), el("td", {}, [btn])]);
      tr.setAttribute("data-text", (ev.kind + " " + kindText(ev.kind) + " " + ev.actor + " " + (ev.element_id || "") + " " + (ev.name || "") + " " + summary(ev)).toLowerCase());
      rows.appendChild(tr);
    });
    body.appendChild(rows);  /* one insertion: the table is laid out once */
    var select = document.getElementById("timeline-kind");
    Object.keys(kinds).sort().forEach(function (k) { select.appendChild(el("option", { value: k, text: kindText(k) })); });
    function filter() {
      var q = document.getElementById("timeline-filter").value.toLowerCase(), kind = select.value;
      Array.prototype.forEach.call(body.rows, function (tr) {
        var ok = (!kind || tr.dataset.kind === kind) && (!q || tr.dataset.text.indexOf(q) >= 0);
        tr.hidden = !ok;
      });
    }
    document.getElementById("timeline-filter").addEventListener("input", filter);
    select.addEventListener("change", filter);
  }

  function dataAsOf(seq) {
    getJSON(root.dataset.dataUrl + "?seq=" + seq).then(function (d) {
      document.getElementById("data-as-of").textContent = t("as of event #{seq} ({at})", { seq: d.seq, at: d.at_text });
      document.getElementById("data-view").textContent = pretty(d.data);
      document.getElementById("data-panel").setAttribute("data-seq", d.seq);
    });
  }

  /* Asked for as soon as this script runs (it comes before bpmn-js): the trace and the root
     diagram side by side, so the diagram is drawn while the trace is still on its way. */
  var early = (function () {
    var node = document.getElementById("trace");
    if (!node) { return null; }
    var asked = { trace: getJSON(node.dataset.traceUrl), xml: node.dataset.diagramUrl ? diagram(node.dataset.diagramUrl) : null };
    [asked.trace, asked.xml].forEach(function (p) { if (p) { p.catch(function () { /* start() says why */ }); } });
    return asked;
  }());

  function start() {
    root = document.getElementById("trace");
    if (!root || !window.BpmnJS || !early) { return; }
    viewer = new window.BpmnJS({ container: "#canvas" });
    window.diagramLabels.attach(viewer);
    viewer.on("element.click", function (e) { elementClicked(e.element); });
    var imported = early.xml ? early.xml.then(draw) : null;
    if (imported) { imported.catch(function () { /* show() says why */ }); }
    early.trace.then(function (t) {
      trace = t;
      /* the diagram first; the timeline and the data, below it, right after it is drawn */
      return show("root", imported).then(function () {
        document.getElementById("data-view").textContent = pretty(t.data);
        timeline();
      });
    }).catch(function (err) { status(t("The trace could not be loaded: {error}", { error: err.message })); });
  }

  /* this deferred script runs before bpmn-js's: draw once every deferred script has run */
  if (document.readyState === "loading" || !window.BpmnJS) {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
