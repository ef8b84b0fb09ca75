/* PM Value: the impact charts of an initiative page. Each [data-impact-chart] element is
   drawn from the JSON of the json_script tag its attribute names: a metric's series around
   the release, the before and after windows that are compared shaded, and the release as
   a vertical line. No inline scripts: CSP-friendly. */
(function () {
  "use strict";

  var BRAND = "#4338ca";
  var MUTED = "#5b6475";
  var BEFORE = "rgba(100, 116, 139, 0.14)";
  var AFTER = "rgba(5, 150, 105, 0.14)";
  var RELEASE = "#b45309";
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  function band(window, fill) {
    return {
      type: "rect", xref: "x", yref: "paper", x0: window[0], x1: window[1], y0: 0, y1: 1,
      fillcolor: fill, line: { width: 0 }, layer: "below"
    };
  }

  function label(x, text, anchor) {
    return {
      xref: "x", x: x, yref: "paper", y: 1, yanchor: "bottom", xanchor: anchor,
      text: text, showarrow: false, font: { size: 11, color: MUTED }
    };
  }

  function middle(window) {
    var a = new Date(window[0]).getTime();
    var b = new Date(window[1]).getTime();
    return new Date((a + b) / 2).toISOString().slice(0, 10);
  }

  function figure(data) {
    var trace = {
      type: "scatter",
      mode: data.x.length > 60 ? "lines" : "lines+markers",
      name: data.name,
      x: data.x,
      y: data.y,
      line: { color: BRAND, width: 2 },
      marker: { color: BRAND, size: 4 },
      hovertemplate: "%{x|%Y-%m-%d}<br><b>%{y:,}</b> " + data.unit + "<extra></extra>"
    };
    var shapes = [];
    var annotations = [];
    if (data.before) {
      shapes.push(band(data.before, BEFORE));
      annotations.push(label(middle(data.before), "before", "center"));
    }
    if (data.after) {
      shapes.push(band(data.after, AFTER));
      annotations.push(label(middle(data.after), "after", "center"));
    }
    if (data.release) {
      shapes.push({
        type: "line", xref: "x", yref: "paper", x0: data.release, x1: data.release, y0: 0, y1: 1,
        line: { color: RELEASE, width: 2, dash: "dot" }
      });
      annotations.push({
        xref: "x", x: data.release, yref: "paper", y: 0, yanchor: "top", xanchor: "center",
        text: "release " + data.release, showarrow: false, font: { size: 11, color: RELEASE },
        yshift: -22
      });
    }
    var layout = {
      margin: { l: 56, r: 16, t: 22, b: 52 },
      height: 260,
      font: { family: FONT, size: 12, color: MUTED },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      showlegend: false,
      hovermode: "x unified",
      xaxis: { type: "date", range: data.range, gridcolor: "#eef0f5", linecolor: "#e3e6ee" },
      yaxis: { gridcolor: "#eef0f5", zerolinecolor: "#e3e6ee", automargin: true,
               ticksuffix: data.unit === "%" ? "%" : "" },
      shapes: shapes,
      annotations: annotations
    };
    return { data: [trace], layout: layout };
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-impact-chart"));
    if (!source || typeof window.Plotly === "undefined") { return; }
    var built = figure(JSON.parse(source.textContent));
    window.Plotly.newPlot(element, built.data, built.layout, {
      displaylogo: false,
      responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]
    }).then(function () { element.setAttribute("data-chart-ready", "true"); });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-impact-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
