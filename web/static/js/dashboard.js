/* KPI dashboard charts (Chart.js, served from static/vendor): trend lines against their
   targets, volume bars, duration and score distributions, cost per channel and handle
   times. Data and translated labels come from #kpi-charts' data-url (no inline script);
   clicking a bar or point opens the tickets behind it. */
(function () {
  "use strict";

  var COLORS = ["#1f6feb", "#c62828", "#1a7f37", "#b45309", "#6b21a8", "#0e7490"];

  function pct(v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }

  function linkTo(base, params) {
    var url = new URL(base, window.location.href);
    Object.keys(params).forEach(function (k) { url.searchParams.set(k, params[k]); });
    return url.toString();
  }

  function chart(id, config, onPick) {
    var canvas = document.getElementById(id);
    if (!canvas) { return null; }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }, config.options || {});
    if (onPick) {
      config.options.onClick = function (event, elements) {
        if (elements.length) { window.location.href = onPick(elements[0].index, elements[0].datasetIndex); }
      };
    }
    return new window.Chart(canvas, config);
  }

  function draw(data) {
    var L = data.labels, keys = data.trend.map(function (r) { return r.key; });
    var names = data.trend.map(function (r) { return r.partial ? r.key + " (" + L.partial + ")" : r.key; });
    var shares = ["response_sla_share", "over_target_share", "fcr_share", "csat_satisfied_share"];
    var drills = { response_sla_share: "response_missed", over_target_share: "over_target",
      fcr_share: "not_fcr", csat_satisfied_share: "dissatisfied" };
    chart("chart-trend", {
      type: "line",
      data: { labels: names, datasets: shares.map(function (k, i) {
        // a period not over yet is drawn dashed, with a hollow point: its figures are still moving; a period
        // with too few measurements (null from the server, n below its minimum) is a gap, not a 0 % or 100 %
        return { label: L[k] + " (%)", data: data.trend.map(function (r) { return pct(r[k]); }), key: k,
          borderColor: COLORS[i], backgroundColor: COLORS[i], spanGaps: false, tension: 0.2,
          pointStyle: data.trend.map(function (r) { return r.partial ? "crossRot" : "circle"; }),
          segment: { borderDash: function (c) { return data.trend[c.p1DataIndex].partial ? [6, 4] : undefined; } } };
      }) },
      options: { scales: { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } }, tooltip: { callbacks: {
          label: function (c) {
            return c.dataset.label + ": " + c.formattedValue + " (n = " + data.trend[c.dataIndex].n[c.dataset.key] + ")";
          } } } } }
    }, function (i, d) { return linkTo(data.links.trend, { group: keys[i], kpi: drills[shares[d]] }); });

    chart("chart-volume", {
      type: "bar",
      data: { labels: names, datasets: [
        { label: L.tickets, data: data.trend.map(function (r) { return r.tickets; }), backgroundColor: COLORS[0] },
        { label: L.open, data: data.trend.map(function (r) { return r.open; }), backgroundColor: COLORS[3] }
      ] }
    }, function (i, d) { return linkTo(data.links.trend, { group: keys[i], kpi: d ? "open" : "all" }); });

    [["chart-resolution", "resolution_hours", "resolved"], ["chart-response", "first_response_hours", "responded"]]
      .forEach(function (spec, n) {
        var buckets = data.distributions[spec[1]];
        chart(spec[0], {
          type: "bar",
          data: { labels: buckets.map(function (b) { return b.label; }),
            datasets: [{ label: L[spec[1]], data: buckets.map(function (b) { return b.count; }),
              backgroundColor: COLORS[n + 4] }] },
          options: { plugins: { legend: { display: false } } }
        });
      });

    [["chart-csat", "csat", COLORS[2]], ["chart-nps", "nps", COLORS[4]]].forEach(function (spec) {
      var answers = data.distributions[spec[1]];
      chart(spec[0], {
        type: "bar",
        data: { labels: answers.map(function (b) { return b.label; }),
          datasets: [{ label: L[spec[1] === "csat" ? "csat" : "nps_answers"],
            data: answers.map(function (b) { return b.count; }), backgroundColor: spec[2] }] },
        options: { plugins: { legend: { display: false } } }
      });
    });

    var channels = data.breakdowns.channel;
    chart("chart-cost", {
      type: "bar",
      data: { labels: channels.map(function (r) { return r.name; }), datasets: ["labour_cost", "parts_cost", "handling_cost"]
        .map(function (k, i) {
          return { label: L[k], data: channels.map(function (r) { return r.tickets ? Math.round(r[k] / r.tickets) : 0; }),
            backgroundColor: COLORS[i] };
        }) },
      options: { scales: { x: { stacked: true }, y: { stacked: true } } }
    }, function (i) { return linkTo(data.links.channel, { group: channels[i].key, kpi: "all" }); });

    var tasks = data.handle_times;
    chart("chart-handle", {
      type: "bar",
      data: { labels: tasks.map(function (t) { return t.name; }), datasets: [
        { label: L.waiting, data: tasks.map(function (t) { return t.waiting_avg_hours === null ? null :
          Math.round(t.waiting_avg_hours * 10) / 10; }), backgroundColor: COLORS[3] },
        { label: L.working, data: tasks.map(function (t) { return t.working_avg_minutes === null ? null :
          Math.round(t.working_avg_minutes * 10) / 10; }), backgroundColor: COLORS[0] }
      ] },
      options: { indexAxis: "y" }
    }, function (i) { return linkTo(data.links.handle_times, { element: tasks[i].element_id }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("kpi-charts"), status = document.getElementById("chart-status");
    if (!holder || !window.Chart) {
      if (status) { status.textContent = "Chart.js is not installed (scripts/install)"; }
      return;
    }
    fetch(holder.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status + " " + r.statusText); } return r.json(); })
      .then(function (data) { draw(data); status.remove(); holder.setAttribute("data-drawn", "yes"); })
      .catch(function (err) { status.textContent = String(err); });
  });
}());
