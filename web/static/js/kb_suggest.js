/* The public request form asks the knowledge base while the customer types: articles for
   the chosen model and the words of the description appear above the Send button. Without
   JavaScript the button "Look for answers first" posts the form and the page shows them.
   The panel's words come translated with the page; the script only fills in the list. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("request-form");
    var panel = document.getElementById("kb-suggestions");
    if (!form || !panel || !window.fetch) { return; }
    var model = form.querySelector("[name='product.model']");
    var words = form.querySelector("[name='fault.description']");
    var list = panel.querySelector(".kb-list");
    var timer = null;
    var asked = "";

    function show(articles) {
      list.textContent = "";
      var none = panel.querySelector(".kb-none");
      if (none) { none.remove(); }
      articles.forEach(function (a) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = a.url;
        link.textContent = a.title;
        var excerpt = document.createElement("span");
        excerpt.className = "muted";
        excerpt.textContent = a.excerpt;
        item.appendChild(link);
        item.appendChild(document.createElement("br"));
        item.appendChild(excerpt);
        list.appendChild(item);
      });
      panel.hidden = articles.length === 0;
    }

    function ask() {
      var text = words ? words.value.trim() : "";
      var query = "text=" + encodeURIComponent(text) + "&model=" + encodeURIComponent(model ? model.value : "");
      if (text.length < 3 || query === asked) { return; }
      asked = query;
      fetch(form.getAttribute("data-suggestions-url") + "?" + query, { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { articles: [] }; })
        .then(function (data) { show(data.articles || []); })
        .catch(function () { /* suggestions are a help, the form works without them */ });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(ask, 400);
    }

    if (words) { words.addEventListener("input", later); }
    if (model) { model.addEventListener("change", later); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
