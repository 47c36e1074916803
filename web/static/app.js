// aftersales: small progressive enhancements (pages work without them).
(function () {
  "use strict";

  // Phones: the header's menu closes on Escape or a tap elsewhere; the tasklist's filters fold
  // away unless one is set (without this script both simply stay as the server drew them).
  var menu = document.querySelector("header.top details.menu");
  if (menu) {
    document.addEventListener("click", function (ev) {
      if (menu.open && !menu.contains(ev.target)) menu.open = false;
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
  }
  if (window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    document.querySelectorAll("details[data-fold-narrow]:not([data-active])").forEach(function (d) { d.open = false; });
  }

  // SLA countdowns: the server's clock (body[data-now]) against the client's, refreshed each 30 s.
  var serverNow = Date.parse(document.body.getAttribute("data-now") || "");
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
  var soonMs = 4 * 3600 * 1000;
  var lang = document.documentElement.lang || "en";
  var zh = lang.indexOf("zh") === 0;

  function say(ms) {
    var s = Math.floor(Math.abs(ms) / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
        m = Math.floor(s % 3600 / 60);
    var u = zh ? ["天", "小时", "分"] : ["d", "h", "m"];
    var text = d ? d + u[0] + " " + h + u[1] : h ? h + u[1] + " " + m + u[2] : m + u[2];
    if (ms < 0) text = zh ? "已超时 " + text : text + " overdue";
    return text;
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".sla[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now, state = left < 0 ? "breached" : left < soonMs ? "soon" : "ok";
      el.textContent = say(left);
      el.classList.remove("sla-ok", "sla-soon", "sla-breached");
      el.classList.add("sla-" + state);
      var row = el.closest("tr");
      if (row) { row.classList.remove("sla-ok", "sla-soon", "sla-breached", "sla-none"); row.classList.add("sla-" + state); }
    });
  }
  tick();
  setInterval(tick, 30000);

  // A click anywhere on a tasklist row opens its task (links and buttons keep their own).
  document.querySelectorAll("table.tasklist tbody tr").forEach(function (row) {
    var link = row.querySelector("td.col-name a");
    if (!link) return;
    row.classList.add("clickable");
    row.addEventListener("click", function (ev) {
      if (ev.target.closest("a, button, input, select, form")) return;
      window.location.href = link.href;
    });
  });

  // Filters submit on change.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  // Array rows: add and remove, renumbering the inputs' names (parts.0.sku, parts.1.sku …).
  function renumber(fieldset) {
    var base = fieldset.getAttribute("data-rows");
    var rows = fieldset.querySelectorAll(":scope > table > tbody > tr[data-row]");
    rows.forEach(function (row, i) {
      row.querySelectorAll("[name]").forEach(function (input) {
        var name = input.getAttribute("name");
        if (name.indexOf(base + ".") !== 0) return;
        var rest = name.slice(base.length + 1).replace(/^(\d+|__index__)/, String(i));
        input.setAttribute("name", base + "." + rest);
        if (input.id) input.id = "f-" + (base + "." + rest).replace(/\./g, "-");
      });
    });
    var max = parseInt(fieldset.getAttribute("data-maxitems"), 10);
    var add = fieldset.querySelector(":scope > [data-add-row]");
    if (add) add.disabled = !isNaN(max) && rows.length >= max;
  }

  document.querySelectorAll("fieldset[data-rows]").forEach(function (fieldset) {
    var template = fieldset.querySelector(":scope > template");
    var body = fieldset.querySelector(":scope > table > tbody");
    var add = fieldset.querySelector(":scope > [data-add-row]");
    fieldset.querySelectorAll("[data-remove-row]").forEach(function (b) { b.hidden = false; });
    if (add && template) {
      add.hidden = false;
      add.addEventListener("click", function () {
        body.appendChild(template.content.cloneNode(true));
        renumber(fieldset);
        var first = body.lastElementChild.querySelector("input, select, textarea");
        if (first) first.focus();
      });
    }
    fieldset.addEventListener("click", function (ev) {
      var button = ev.target.closest("[data-remove-row]");
      if (!button) return;
      var min = parseInt(fieldset.getAttribute("data-minitems"), 10) || 0;
      if (body.querySelectorAll(":scope > tr[data-row]").length <= min) return;
      button.closest("tr").remove();
      renumber(fieldset);
    });
    renumber(fieldset);
  });

  // a slider shows the value it will post
  document.querySelectorAll("span.range input[type=range]").forEach(function (input) {
    var output = input.parentNode.querySelector("output");
    function show() { output.textContent = input.value; }
    input.addEventListener("input", show);
    show();
  });
})();
