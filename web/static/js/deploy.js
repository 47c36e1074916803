/* Deploy from the browser: the form is sent with fetch; when the bundle has problems,
   each uploaded BPMN file (read locally, never re-uploaded) is drawn with bpmn-js and
   the elements named by a problem are outlined in red, with the message as a badge.
   Without JavaScript the form posts normally and the server lists the problems.
   The form's submit buttons are named "action", which shadows form.action (it becomes the
   RadioNodeList of the buttons): the URL is read with getAttribute, the choice from the
   clicked button. Texts come from the form's data-msg-* attributes (en or zh). */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text) { n.textContent = text; }
    return n;
  }

  function readText(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsText(file);
    });
  }

  var texts = {};

  function text(key, values) {
    return (texts[key] || key).replace(/\{(\w+)\}/g, function (m, name) {
      return values && values[name] !== undefined ? String(values[name]) : m;
    });
  }

  function showResult(body, ok) {
    var box = document.getElementById("deploy-result");
    box.textContent = "";
    if (ok) {
      var values = { processes: (body.processes || []).join(", "), name: body.name, version: body.version };
      var msg = text(body.validated ? "msgValidated" : (body.created ? "msgDeployed" : "msgUnchanged"), values);
      var flash = el("div", "flash ok", msg);
      flash.setAttribute("role", "status");
      box.appendChild(flash);
      return [];
    }
    var failed;
    if (body.problems) {  /* as the server's own page says it: what failed, and how many to fix */
      failed = el("div", "flash error");
      failed.appendChild(el("strong", "", text("msgNothing")));
      var errors = body.problems.filter(function (p) { return p.severity === "error"; }).length;
      failed.appendChild(document.createTextNode(" " + text("msgCount", { count: errors })));
    } else {
      failed = el("div", "flash error", text("msgFailed", { message: body.message || "" }));
    }
    failed.setAttribute("role", "alert");
    box.appendChild(failed);
    var problems = body.problems || (body.errors || []).map(function (e) { return { file: "", element_id: null, line: null, rule: e.field, severity: "error", message: e.message }; });
    var table = el("table", "grid problems"), thead = el("thead"), head = el("tr"), tbody = el("tbody");
    table.id = "problems";
    ["colFile", "colElement", "colLine", "colRule", "colProblem"].forEach(function (key) {
      head.appendChild(el("th", "", text(key)));
    });
    thead.appendChild(head);
    problems.forEach(function (p) {
      var tr = el("tr", "problem severity-" + p.severity);
      /* rule_text and severity_text are the server's words for the reader (web/findings.py) */
      [p.file, p.element_id || "–", p.line || "–", p.rule_text || p.rule,
       (p.severity_text || p.severity) + ": " + (p.localized_message || p.message)].forEach(function (t, i) {
        tr.appendChild(el("td", i < 3 ? "where" : "", String(t)));
      });
      tbody.appendChild(tr);
    });
    table.appendChild(thead);
    table.appendChild(tbody);
    var scroll = el("div", "scroll");
    scroll.appendChild(table);
    box.appendChild(scroll);
    return problems;
  }

  function drawProblems(files, problems) {
    var area = document.getElementById("deploy-diagrams");
    area.textContent = "";
    var zipped = Array.prototype.some.call(files, function (file) { return /\.zip$/i.test(file.name); });
    if (zipped && problems.some(function (p) { return /\.bpmn$/i.test(p.file || ""); })) {
      area.appendChild(el("p", "muted", text("msgZipped")));
    }
    Array.prototype.forEach.call(files, function (file) {
      if (!/\.bpmn$/i.test(file.name)) { return; }
      var mine = problems.filter(function (p) { return p.file === file.name || p.file.split("/").pop() === file.name; });
      if (!mine.length) { return; }
      var panel = el("section", "panel"), canvas = el("div", "bpmn-canvas");
      panel.appendChild(el("h3", "", file.name));
      panel.appendChild(canvas);
      area.appendChild(panel);
      readText(file).then(function (xml) {
        var viewer = new window.BpmnJS({ container: canvas });
        return viewer.importXML(xml).then(function () {
          viewer.get("canvas").zoom("fit-viewport", "auto");
          var registry = viewer.get("elementRegistry");
          mine.forEach(function (p) {
            if (p.element_id && registry.get(p.element_id)) {
              viewer.get("canvas").addMarker(p.element_id, "deploy-problem");
              viewer.get("overlays").add(p.element_id, { position: { top: -14, left: 0 }, html: el("span", "problem-badge", p.message.slice(0, 80)) });
            }
          });
        });
      }).catch(function () {
        /* e.g. a BPMN without a diagram section: say so instead of an empty canvas */
        panel.removeChild(canvas);
        panel.appendChild(el("p", "muted", text("msgUndrawable")));
      });
    });
  }

  function readBody(r) {
    var type = r.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") !== -1) {
      return r.json().then(function (b) { return { ok: r.ok, body: b }; });
    }
    /* An HTML answer (a proxy, a too large upload, an expired session): say what happened. */
    return Promise.resolve({ ok: false, body: { message: text("msgHttp", { status: r.status, reason: r.statusText }) } });
  }

  function start() {
    var form = document.getElementById("deploy-form");
    if (!form || !window.fetch || !window.FormData) { return; }
    Object.keys(form.dataset).forEach(function (k) { texts[k] = form.dataset[k]; });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form);
      var submitter = e.submitter && e.submitter.name === "action" ? e.submitter : null;
      data.set("action", submitter ? submitter.value : "deploy");
      var files = document.getElementById("deploy-files").files;
      var buttons = form.querySelectorAll("button[type=submit]");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(readBody)
        .finally(function () { Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; }); })
        .then(function (res) {
          var problems = showResult(res.body, res.ok);
          if (window.BpmnJS) { drawProblems(files, problems); }
        })
        .catch(function (err) { showResult({ message: err.message }, false); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
