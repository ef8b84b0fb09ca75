/* PM Value charts: draws every [data-chart] element from the JSON that the page put in a
   json_script tag (its id is the data-chart value). No inline scripts: CSP-friendly. */
(function () {
  "use strict";

  var BRAND = "#4338ca";
  var MUTED = "#5b6475";
  var TARGET = "#b45309";
  var RELEASE = "#047857";
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  function metricTrend(data) {
    var trace = {
      type: "scatter",
      mode: data.x.length > 60 ? "lines" : "lines+markers",
      name: data.name,
      x: data.x,
      y: data.y,
      line: { color: BRAND, width: 2 },
      marker: { color: BRAND, size: 5 },
      hovertemplate: "%{x|%-d %b %Y}<br><b>%{y:,}</b> " + data.unit + "<extra></extra>"
    };
    var shapes = [];
    var annotations = [];
    (data.targets || []).forEach(function (target) {
      shapes.push({
        type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: target.value, y1: target.value,
        line: { color: TARGET, width: 1.5, dash: "dash" }
      });
      annotations.push({
        xref: "paper", x: 1, xanchor: "right", yref: "y", y: target.value, yanchor: "bottom",
        text: target.label, showarrow: false, font: { size: 11, color: TARGET },
        bgcolor: "rgba(255,255,255,.85)"
      });
    });
    // Releases of initiatives that claim this metric: a dotted line and the title, at an
    // angle so that neighbours stay readable.
    (data.releases || []).forEach(function (release, index) {
      shapes.push({
        type: "line", xref: "x", x0: release.day, x1: release.day, yref: "paper", y0: 0, y1: 1,
        line: { color: RELEASE, width: 1.5, dash: "dot" }
      });
      annotations.push({
        xref: "x", x: release.day, yref: "paper", y: 1 - (index % 3) * 0.09, yanchor: "top",
        xanchor: "left", text: release.label, showarrow: false,
        font: { size: 10, color: RELEASE }, bgcolor: "rgba(255,255,255,.85)"
      });
    });
    var layout = {
      margin: { l: 56, r: 16, t: 12, b: 36 },
      height: 320,
      font: { family: FONT, size: 12, color: MUTED },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      showlegend: false,
      hovermode: "x unified",
      xaxis: { type: "date", gridcolor: "#eef0f5", linecolor: "#e3e6ee" },
      yaxis: { gridcolor: "#eef0f5", zerolinecolor: "#e3e6ee", ticksuffix: data.unit === "%" ? "%" : "",
               rangemode: "normal", automargin: true },
      shapes: shapes,
      annotations: annotations
    };
    // Keep the target lines in view even when the data stays far from them.
    if (data.targets && data.targets.length && data.y.length) {
      var values = data.y.concat(data.targets.map(function (t) { return t.value; }));
      var lo = Math.min.apply(null, values);
      var hi = Math.max.apply(null, values);
      var pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
      layout.yaxis.range = [lo - pad, hi + pad];
    }
    return { data: [trace], layout: layout };
  }

  var KINDS = { "metric-trend": metricTrend };

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || typeof window.Plotly === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var build = KINDS[element.getAttribute("data-chart-kind") || "metric-trend"];
    if (!build) { return; }
    var figure = build(data);
    window.Plotly.newPlot(element, figure.data, figure.layout, {
      displaylogo: false,
      responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]
    }).then(function () { element.setAttribute("data-chart-ready", "true"); });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
