/* Migrate page: "select all" and a count of the chosen tickets (the page works without it). */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("migrate-pick"), all = document.getElementById("select-all");
    if (!form || !all) { return; }
    var boxes = form.querySelectorAll("input[name=instance_ids]"), count = document.getElementById("selected-count");
    function update() {
      var n = 0;
      boxes.forEach(function (b) { if (b.checked) { n += 1; } });
      count.textContent = n + " / " + boxes.length;
      all.checked = n === boxes.length;
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      update();
    });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
