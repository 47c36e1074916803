/* Deploy from the browser: the form is sent with fetch; when the bundle has problems,
   each uploaded BPMN file (read locally, never re-uploaded) is drawn with bpmn-js and
   the elements named by a problem are outlined in red, with the message as a badge.
   Without JavaScript the form posts normally and the server lists the problems. */
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

  function showResult(body, ok) {
    var box = document.getElementById("deploy-result");
    box.textContent = "";
    if (ok) {
      var msg = body.validated ? "Every check passed. Processes: " + body.processes.join(", ") + ". Nothing was deployed yet."
        : (body.created ? "Deployed " + body.name + " v" + body.version + "." : "Unchanged: this content is " + body.name + " v" + body.version + " already.");
      box.appendChild(el("div", "flash ok", msg));
      return [];
    }
    box.appendChild(el("div", "flash error", "Nothing was deployed. " + body.message));
    var problems = body.problems || (body.errors || []).map(function (e) { return { file: "", element_id: null, line: null, rule: e.field, severity: "error", message: e.message }; });
    var table = el("table", "grid problems"), tbody = el("tbody");
    table.id = "problems";
    problems.forEach(function (p) {
      var tr = el("tr", "problem severity-" + p.severity);
      [p.file, p.element_id || "–", p.line || "–", p.rule, p.severity + ": " + p.message].forEach(function (t, i) {
        tr.appendChild(el("td", i < 3 ? "where" : "", String(t)));
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    box.appendChild(table);
    return problems;
  }

  function drawProblems(files, problems) {
    var area = document.getElementById("deploy-diagrams");
    area.textContent = "";
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
      }).catch(function () { panel.appendChild(el("p", "muted", "This file cannot be drawn (see the problems above).")); });
    });
  }

  function start() {
    var form = document.getElementById("deploy-form");
    if (!form || !window.fetch) { return; }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form);
      data.set("action", e.submitter && e.submitter.value ? e.submitter.value : "deploy");
      var files = document.getElementById("deploy-files").files;
      fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          var problems = showResult(res.body, res.ok);
          if (window.BpmnJS) { drawProblems(files, problems); }
        })
        .catch(function (err) { showResult({ message: err.message }, false); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
