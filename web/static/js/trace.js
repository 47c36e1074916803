/* Instance trace: the instance's own BPMN drawn with bpmn-js (NavigatedViewer), marked
   with completed elements, flows taken, current tokens and failed elements; drill-down
   into call activities; element details, the audit timeline and data as of any step.
   Data comes from the JSON endpoints named in #trace's data-* attributes (no inline
   script: the page's CSP forbids it). */
(function () {
  "use strict";

  var root, trace, viewer, scopeKey = "root";

  /* The page's own texts in Chinese, keyed by the English; the page's <html lang> chooses. */
  var ZH = {
    "completed {count} times": "已完成 {count} 次",
    "open the called process": "打开被调用的流程",
    "⤵ open": "⤵ 打开",
    "Loading {file} …": "正在加载 {file} …",
    "{count} token(s) now: {tokens}": "当前 {count} 个令牌：{tokens}",
    "No token left: the instance has ended.": "已无令牌：实例已结束。",
    "The diagram could not be drawn: {error}": "无法绘制流程图：{error}",
    "failed": "失败",
    "not yet": "尚未",
    "Reached": "到达",
    "Done": "完成",
    "By": "处理人",
    "Waited": "等待",
    "Worked": "处理",
    "not reached": "未到达",
    "Status: {status}. No completed run recorded.": "状态：{status}。没有已完成的执行记录。",
    "Run {n}: {actor}": "第 {n} 次执行：{actor}",
    " · event #{seq}": " · 事件 #{seq}",
    "system": "系统",
    "Changed": "变更",
    "Form as submitted": "提交的表单",
    "Data before": "之前的数据",
    "Data after": "之后的数据",
    "Personal data is masked.": "个人数据已脱敏。",
    "data as of #{seq}": "截至 #{seq} 的数据",
    "as of event #{seq} ({at})": "截至事件 #{seq}（{at}）",
    "The trace could not be loaded: {error}": "无法加载追踪：{error}",
    "ready": "就绪",
    "waiting": "等待中",
    "active": "处理中",
    "completed": "已完成",
    "cancelled": "已取消",
    "incident": "异常",
    "{n} s": "{n} 秒",
    "{n} min": "{n} 分钟",
    "{n} h": "{n} 小时",
    "kind:instance.created": "工单创建",
    "kind:instance.completed": "工单关闭",
    "kind:instance.cancelled": "工单取消",
    "kind:instance.migrated": "实例迁移",
    "kind:task.ready": "任务就绪",
    "kind:task.started": "任务开始",
    "kind:task.claimed": "任务认领",
    "kind:task.unclaimed": "任务退回",
    "kind:task.reassigned": "任务转派",
    "kind:task.completed": "任务完成",
    "kind:task.cancelled": "任务取消",
    "kind:task.failed": "任务失败",
    "kind:timer.fired": "定时器触发",
    "kind:message.received": "收到消息",
    "kind:message.sent": "发送消息",
    "kind:message.undelivered": "消息未送达",
    "kind:signal.sent": "发送信号",
    "kind:signal.broadcast": "广播信号",
    "kind:incident.opened": "出现异常",
    "kind:incident.retried": "异常重试",
    "kind:incident.resolved": "异常已解决",
    "kind:incident.failed_again": "重试再次失败",
    "kind:personal_data.unmasked": "查看个人数据",
    "kind:personal_data.erased": "删除个人数据"
  };
  var CHINESE = (document.documentElement.lang || "").slice(0, 2) === "zh";

  /* An audit event's kind in words on a Chinese page; the code itself on an English one. */
  function kindText(kind) { return CHINESE && ZH.hasOwnProperty("kind:" + kind) ? ZH["kind:" + kind] : kind; }

  function t(text, values) {
    var out = CHINESE && ZH.hasOwnProperty(text) ? ZH[text] : text;
    Object.keys(values || {}).forEach(function (k) { out = out.split("{" + k + "}").join(String(values[k])); });
    return out;
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

  function crumbs() {
    var nav = document.getElementById("trace-crumbs");
    nav.textContent = "";
    var chain = [], s = scopeOf(scopeKey);
    while (s) { chain.unshift(s); s = s.parent ? scopeOf(s.parent) : null; }
    chain.forEach(function (sc, i) {
      var label = (sc.called_from ? sc.called_from + " → " : "") + sc.process_id;
      if (i < chain.length - 1) {
        var a = el("a", { href: "#", "data-scope": sc.key, text: label });
        a.addEventListener("click", function (e) { e.preventDefault(); show(sc.key); });
        nav.appendChild(a);
        nav.appendChild(document.createTextNode(" / "));
      } else {
        nav.appendChild(el("strong", { text: label }));
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

  function show(key) {
    scopeKey = key;
    var scope = scopeOf(key);
    crumbs();
    status(t("Loading {file} …", { file: scope.file }));
    return fetch(scope.diagram_url, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        window.diagramLabels.translate(viewer);
        viewer.get("canvas").zoom("fit-viewport", "auto");
        mark(scope);
        root.setAttribute("data-scope", key);
        root.setAttribute("data-ready", "true");
        status(trace.tokens.length ? t("{count} token(s) now: {tokens}", { count: trace.tokens.length, tokens:
          trace.tokens.map(function (tok) { return tok.name + " (" + t(tok.state) + ")"; }).join(", ") }) : t("No token left: the instance has ended."));
      })
      .catch(function (err) { status(t("The diagram could not be drawn: {error}", { error: err.message })); });
  }

  function runsTable(runs) {
    var rows = runs.map(function (r) {
      return el("tr", {}, [el("td", { text: r.reached_at ? r.reached_at.slice(0, 19).replace("T", " ") : "–" }),
        el("td", { text: r.completed_at ? r.completed_at.slice(0, 19).replace("T", " ") : (r.failed_at ? t("failed") : t("not yet")) }),
        el("td", { text: r.actor || "–" }), el("td", { text: fmt(r.waiting_seconds) }), el("td", { text: fmt(r.working_seconds) })]);
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
    var body = document.querySelector("#timeline tbody"), kinds = {};
    body.textContent = "";
    trace.timeline.forEach(function (ev) {
      kinds[ev.kind] = true;
      var btn = el("button", { type: "button", "class": "small", "data-seq": ev.seq, text: t("data as of #{seq}", { seq: ev.seq }) });
      btn.addEventListener("click", function () { dataAsOf(ev.seq); });
      var tr = el("tr", { "data-kind": ev.kind, "data-seq": ev.seq }, [el("td", { text: String(ev.seq) }),
        el("td", { text: ev.at_text, title: ev.at }), el("td", { text: ev.actor }),
        el("td", { text: kindText(ev.kind), title: ev.kind }), el("td", { text: (ev.name || "") + (ev.element_id && ev.name !== ev.element_id ? " [" + ev.element_id + "]" : "") }),
        el("td", { text: summary(ev) }), el("td", {}, [btn])]);
      tr.setAttribute("data-text", (ev.kind + " " + kindText(ev.kind) + " " + ev.actor + " " + (ev.element_id || "") + " " + (ev.name || "") + " " + summary(ev)).toLowerCase());
      body.appendChild(tr);
    });
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

  function start() {
    root = document.getElementById("trace");
    if (!root || !window.BpmnJS) { return; }
    viewer = new window.BpmnJS({ container: "#canvas" });
    viewer.on("element.click", function (e) { elementClicked(e.element); });
    getJSON(root.dataset.traceUrl).then(function (t) {
      trace = t;
      document.getElementById("data-view").textContent = pretty(t.data);
      timeline();
      return show("root");
    }).catch(function (err) { status(t("The trace could not be loaded: {error}", { error: err.message })); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
