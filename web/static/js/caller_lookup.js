/* Caller lookup on the intake page: the agent types the caller's phone or e-mail and the
   customer record fills the form in place (what was typed elsewhere stays), the caller panel
   shows the address on file, the products they had and their open tickets. Without JavaScript
   the lookup is a plain GET of the same page. Typing a phone into the form's own phone field
   looks the caller up too when the lookup box is empty. */
(function () {
  "use strict";

  function intakeForm() { return document.querySelector("form.intake"); }

  function setField(form, name, value) {
    var fields = form.querySelectorAll("[name='" + name + "']");
    Array.prototype.forEach.call(fields, function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = String(el.value) === String(value);
      } else if (el.type !== "hidden") {
        el.value = value;
      }
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function fill(values, prefix) {
    var form = intakeForm();
    if (!form) { return; }
    Object.keys(values).forEach(function (key) { setField(form, (prefix || "") + key, values[key]); });
  }

  function lookUp(query) {
    var url = new URL(document.getElementById("caller-form").action, window.location.href);
    url.hash = "";
    url.pathname = url.pathname.replace(/\/new$/, "/lookup");
    url.searchParams.set("lookup", query);
    return fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        var panel = document.getElementById("caller");
        var holder = document.createElement("div");
        holder.innerHTML = answer.panel;
        panel.replaceWith(holder.firstElementChild);
        if (answer.found) { fill(answer.values); }
        var focus = document.getElementById(answer.errors && answer.errors.lookup ? "caller-lookup" : "caller-result");
        if (focus && focus.id === "caller-lookup") { focus.focus(); }
      });
  }

  function start() {
    if (!document.getElementById("caller-form") || !window.fetch) { return; }
    document.addEventListener("submit", function (event) {
      if (event.target.id !== "caller-form") { return; }
      event.preventDefault();
      lookUp(document.getElementById("caller-lookup").value);
    });
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a.caller-product") : null;
      if (!link) { return; }
      event.preventDefault();
      fill(JSON.parse(link.getAttribute("data-product")), "product.");
      var item = link.closest("li");
      Array.prototype.forEach.call(document.querySelectorAll(".caller-products li"), function (li) {
        li.classList.toggle("chosen", li === item);
      });
    });
    var form = intakeForm();
    var phone = form ? form.querySelector("[name='customer.phone']") : null;
    if (phone) {
      phone.addEventListener("change", function () {
        var box = document.getElementById("caller-lookup");
        var name = form.querySelector("[name='customer.name']");
        if (box && !box.value && phone.value.trim() && !(name && name.value)) {
          box.value = phone.value.trim();
          lookUp(box.value);
        }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
