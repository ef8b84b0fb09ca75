/* PM Value: the value dashboard's charts. Each [data-dashboard-chart] element is drawn from
   the JSON of the json_script tag its data-source names, and drawn again when a filter
   swaps the dashboard's body in place. No inline scripts: CSP-friendly.

   Every chart also reads without colour (text on bars and lines, marker shapes, patterns,
   order) and on a narrow screen (responsive, legends below the plot). */
(function () {
  "use strict";

  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  var MUTED = "#5b6475";
  var INK = "#111827";
  var GRID = "#eef0f5";
  // Okabe–Ito: told apart by people with any common colour-vision deficiency.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  var DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash"];
  var SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star", "cross", "hexagon"];
  var STATUS = {
    proposed: { color: "#94a3b8", symbol: "circle-open" },
    discovery: { color: "#56B4E9", symbol: "diamond" },
    committed: { color: "#E69F00", symbol: "square" },
    in_delivery: { color: "#0072B2", symbol: "triangle-up" }
  };
  var PACE = {
    achieved: "#3fbf8f", on_track: "#8fd9b6", at_risk: "#f5c16c", off_track: "#f19a7a", no_data: "#e2e8f0"
  };
  var NOT_ALIGNED = "#b45309";
  var SYMBOL_OF = { EUR: "€", USD: "$", GBP: "£", JPY: "¥", INR: "₹" };

  function money(currency) {
    var symbol = SYMBOL_OF[currency];
    return symbol ? { tickprefix: symbol, ticksuffix: "" } : { tickprefix: "", ticksuffix: " " + currency };
  }

  function shorten(text, size) {
    return text.length > size ? text.slice(0, size - 1) + "…" : text;
  }

  function baseLayout(extra) {
    var layout = {
      autosize: true,
      font: { family: FONT, size: 12, color: MUTED },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      margin: { l: 16, r: 16, t: 12, b: 16 },
      legend: { orientation: "h", x: 0, xanchor: "left", y: -0.18, yanchor: "top" },
      hoverlabel: { align: "left" }
    };
    Object.keys(extra).forEach(function (key) { layout[key] = extra[key]; });
    return layout;
  }

  function axis(extra) {
    var base = { gridcolor: GRID, zerolinecolor: "#cbd2df", linecolor: "#e3e6ee", automargin: true };
    Object.keys(extra || {}).forEach(function (key) { base[key] = extra[key]; });
    return base;
  }

  function rowsHeight(count, narrow) {
    return Math.max(220, 90 + count * (narrow ? 52 : 34));
  }

  // Horizontal bar charts name their rows on the axis; on a narrow screen the names would
  // squeeze the bars to nothing, so each name goes above its bar across the full width.
  function rowNames(names, size, narrow, shift) {
    if (!narrow) {
      return {
        axis: { tickvals: names.map(function (_, n) { return n; }),
                ticktext: names.map(function (t) { return shorten(t, size); }) },
        annotations: []
      };
    }
    return {
      axis: { showticklabels: false },
      annotations: names.map(function (name, n) {
        return { xref: "paper", x: 0, xanchor: "left", yref: "y", y: n, yshift: shift || 17, showarrow: false,
                 text: shorten(name, 48).replace(/</g, "&lt;"), font: { size: 11, color: INK } };
      })
    };
  }

  function merge(target, extra) {
    Object.keys(extra).forEach(function (key) { target[key] = extra[key]; });
    return target;
  }

  // 1. Cumulative realized value by objective: steps on release days, the total written at
  // the end of each line, a dash style and a marker shape per line.
  function valueOverTime(data, narrow) {
    var format = money(data.currency);
    var traces = data.series.map(function (s, n) {
      var colour = PALETTE[n % PALETTE.length];
      return {
        type: "scatter",
        mode: "lines+markers",
        name: shorten(s.name, narrow ? 30 : 60) + " — " + s.total,
        x: s.x,
        y: s.y,
        line: { shape: "hv", color: colour, width: 2.5, dash: DASHES[n % DASHES.length] },
        marker: { symbol: SYMBOLS[n % SYMBOLS.length], size: 7, color: colour },
        customdata: s.hover,
        hovertemplate: "<b>" + s.name.replace(/</g, "&lt;") + "</b><br>%{x|%-d %b %Y}: %{y:,.0f}<br>%{customdata}<extra></extra>"
      };
    });
    var annotations = data.series.map(function (s) {
      return {
        x: s.x[s.x.length - 1], y: s.y[s.y.length - 1], xanchor: "right", yanchor: "bottom",
        text: shorten(s.name, 28) + ": " + s.total, showarrow: false,
        font: { size: 11, color: INK }, bgcolor: "rgba(255,255,255,.8)", yshift: 2
      };
    });
    var layout = baseLayout({
      height: 360,
      margin: { l: 16, r: 16, t: 16, b: 16 },
      hovermode: "closest",
      xaxis: axis({ type: "date", range: data.start ? [data.start, data.end] : undefined }),
      yaxis: axis({ tickformat: "~s", tickprefix: format.tickprefix, ticksuffix: format.ticksuffix, rangemode: "tozero" }),
      annotations: annotations.length <= 4 && !narrow ? annotations : []
    });
    return { data: traces, layout: layout };
  }

  // 2. Expected (hatched) and realized (solid) value per measured initiative, the first on
  // top; the realized bar says the realization in words.
  function expectedVsRealized(data, narrow) {
    var format = money(data.currency);
    var rows = data.titles.map(function (_, n) { return n; });
    var hover = data.titles.map(function (t) { return t.replace(/</g, "&lt;"); });
    var traces = [
      {
        type: "bar", orientation: "h", name: "Expected value", y: rows, x: data.expected,
        text: data.expected_text, textposition: "auto", cliponaxis: false,
        marker: { color: "#cbd5e1", line: { color: "#64748b", width: 1 }, pattern: { shape: "/", fgcolor: "#64748b", size: 6 } },
        customdata: hover, hovertemplate: "<b>%{customdata}</b><br>Expected: %{text}<extra></extra>"
      },
      {
        type: "bar", orientation: "h", name: "Realized value (realization)", y: rows, x: data.realized,
        text: data.realized_text, textposition: "auto", cliponaxis: false,
        marker: { color: "#0072B2" },
        customdata: hover, hovertemplate: "<b>%{customdata}</b><br>Realized: %{text}<extra></extra>"
      }
    ];
    var names = rowNames(data.titles, 30, narrow, 34);
    var high = Math.max.apply(null, [0].concat(data.expected, data.realized).filter(function (v) { return v !== null; }));
    var layout = baseLayout({
      height: rowsHeight(rows.length * (narrow ? 1.9 : 1.6), narrow),
      barmode: "group",
      bargap: narrow ? 0.45 : 0.25,
      xaxis: axis({ tickformat: "~s", tickprefix: format.tickprefix, ticksuffix: format.ticksuffix,
                    range: [0, high * (narrow ? 1.45 : 1.25) || 1] }),
      yaxis: axis(merge({ autorange: "reversed", gridcolor: "rgba(0,0,0,0)", zeroline: false }, names.axis)),
      annotations: names.annotations,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      margin: { l: 16, r: 16, t: 28, b: 16 }
    });
    return { data: traces, layout: layout };
  }

  // 3. Effort against risk-adjusted value: one trace per status, with its own colour and
  // marker shape; the marker's size is the confidence.
  function portfolio(data) {
    var format = money(data.currency);
    var traces = data.groups.map(function (g) {
      var style = STATUS[g.status] || { color: MUTED, symbol: "circle" };
      return {
        type: "scatter", mode: "markers", name: g.label, x: g.x, y: g.y,
        marker: {
          symbol: style.symbol, color: style.color, opacity: 0.85,
          size: g.confidence.map(function (c) { return 8 + (c / 100) * 18; }),
          line: { color: "#ffffff", width: style.symbol.indexOf("open") >= 0 ? 2 : 1 }
        },
        text: g.hover, hovertemplate: "%{text}<extra></extra>"
      };
    });
    var layout = baseLayout({
      height: 380,
      hovermode: "closest",
      xaxis: axis({ title: { text: "Effort (weeks)" }, rangemode: "tozero" }),
      yaxis: axis({ title: { text: "Risk-adjusted value" }, tickformat: "~s", tickprefix: format.tickprefix,
                    ticksuffix: format.ticksuffix, rangemode: "tozero" }),
      legend: { orientation: "h", x: 0, y: -0.22, yanchor: "top", title: { text: "Status: " } }
    });
    return { data: traces, layout: layout };
  }

  // 4. Objective → initiative as a treemap under all current work, sized by effort; the
  // "Not aligned" branch amber and cross-hatched, and named in its own words.
  function alignment(data) {
    var ids = ["all"].concat(data.ids);
    var labels = ["All committed and in-delivery work"].concat(data.labels);
    var parents = [""].concat(data.parents.map(function (p) { return p || "all"; }));
    var values = [0].concat(data.values);
    var kinds = ["all"].concat(data.kinds);
    var branch = {};
    var colour = { all: "#f8fafc" };
    var roots = 0;
    ids.forEach(function (id, n) {
      var parent = parents[n];
      branch[id] = parent === "all" ? id : (parent ? branch[parent] : "all");
      if (parent === "all" && kinds[n] === "objective") {
        colour[id] = PALETTE[roots % PALETTE.length];
        roots += 1;
      }
    });
    colour["not-aligned"] = NOT_ALIGNED;
    var colours = ids.map(function (id, n) {
      return kinds[n] === "more" ? "#e2e8f0" : colour[branch[id]];
    });
    var patterns = ids.map(function (id) { return branch[id] === "not-aligned" ? "x" : ""; });
    var trace = {
      type: "treemap",
      ids: ids, labels: labels, parents: parents, values: values,
      branchvalues: "remainder",
      marker: { colors: colours, line: { color: "#ffffff", width: 1.5 },
                pattern: { shape: patterns, bgcolor: colours, fgcolor: "#ffffff", fgopacity: 0.5,
                           size: 12, solidity: 0.15 } },
      // With "remainder" values, %{value} of a branch is its own (0): branches say their
      // share, initiatives their weeks.
      texttemplate: kinds.map(function (kind) {
        return kind === "initiative" || kind === "more"
          ? "%{label}<br>%{value:,.1f} wk"
          : "<b>%{label}</b><br>%{percentRoot:.0%} of the effort";
      }),
      textfont: { color: "#ffffff" },
      pathbar: { visible: true, textfont: { size: 12, color: INK } },
      tiling: { pad: 2 },
      hovertemplate: kinds.map(function (kind) {
        return kind === "initiative" || kind === "more"
          ? "<b>%{label}</b><br>%{value:,.1f} weeks of effort<br>in %{parent}<extra></extra>"
          : "<b>%{label}</b><br>%{percentRoot:.0%} of the effort of current work<extra></extra>";
      }),
      maxdepth: 3
    };
    var layout = baseLayout({ height: 440, margin: { l: 4, r: 4, t: 28, b: 4 } });
    return { data: [trace], layout: layout };
  }

  // 5. Key-result progress: a bar per key result, coloured and labelled by pace, with a
  // tick where it should be by now.
  function keyResults(data, narrow) {
    var rows = data.labels.map(function (_, n) { return n; });
    var hover = data.labels.map(function (t) { return t.replace(/</g, "&lt;"); });
    var high = Math.max.apply(null, [110].concat(data.progress, data.expected));
    var low = Math.min.apply(null, [0].concat(data.progress));
    var traces = [
      {
        type: "bar", orientation: "h", name: "Progress (text: pace)", y: rows, x: data.progress,
        text: data.text, textposition: "auto", insidetextanchor: "start", cliponaxis: false,
        textfont: { color: INK },
        marker: { color: data.paces.map(function (p) { return PACE[p] || PACE.no_data; }) },
        customdata: hover, hovertemplate: "<b>%{customdata}</b><br>%{text}<extra></extra>"
      },
      {
        type: "scatter", mode: "markers", name: "Expected by now", y: rows, x: data.expected,
        marker: { symbol: "line-ns-open", size: 22, line: { width: 3, color: INK }, color: INK },
        customdata: hover, hovertemplate: "<b>%{customdata}</b><br>Expected by now: %{x:.0f}%<extra></extra>"
      }
    ];
    var names = rowNames(data.labels, 34, narrow);
    var layout = baseLayout({
      height: rowsHeight(rows.length, narrow),
      bargap: narrow ? 0.5 : 0.35,
      xaxis: axis({ ticksuffix: "%", range: [low - 5, high + (narrow ? 75 : 40)] }),
      yaxis: axis(merge({ autorange: "reversed", gridcolor: "rgba(0,0,0,0)", zeroline: false }, names.axis)),
      annotations: names.annotations,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      margin: { l: 16, r: 16, t: 28, b: 16 }
    });
    return { data: traces, layout: layout };
  }

  // 6. Median realization per team or owner, with the number of measured initiatives, and
  // the 100% line where bets came true as expected.
  function calibration(data, narrow) {
    var rows = data.names.map(function (_, n) { return n; });
    var high = Math.max.apply(null, [120].concat(data.median));
    var trace = {
      type: "bar", orientation: "h", name: "Median realization", y: rows, x: data.median,
      text: data.text, textposition: "auto", insidetextanchor: "start", cliponaxis: false,
      textfont: { color: INK },
      marker: { color: data.median.map(function (m) { return m >= 100 ? "#8fd9b6" : "#9ccfee"; }),
                line: { color: "#475569", width: 1 } },
      customdata: data.names, hovertemplate: "<b>%{customdata}</b><br>%{text}<extra></extra>"
    };
    var names = rowNames(data.names, 26, narrow);
    var layout = baseLayout({
      height: rowsHeight(rows.length, narrow),
      showlegend: false,
      bargap: narrow ? 0.5 : 0.35,
      xaxis: axis({ ticksuffix: "%", range: [Math.min(0, Math.min.apply(null, data.median)) - 5, high + (narrow ? 80 : 45)] }),
      yaxis: axis(merge({ autorange: "reversed", gridcolor: "rgba(0,0,0,0)", zeroline: false }, names.axis)),
      shapes: [{ type: "line", xref: "x", x0: 100, x1: 100, yref: "paper", y0: 0, y1: 1,
                 line: { color: INK, width: 1.5, dash: "dash" } }],
      annotations: [{ xref: "x", x: 100, yref: "paper", y: 1, yanchor: "bottom", showarrow: false,
                      text: "100% = as expected", font: { size: 11, color: INK } }].concat(names.annotations),
      margin: { l: 16, r: 16, t: 24, b: 16 }
    });
    return { data: [trace], layout: layout };
  }

  var KINDS = {
    "value-over-time": valueOverTime,
    "expected-vs-realized": expectedVsRealized,
    "portfolio": portfolio,
    "alignment": alignment,
    "key-results": keyResults,
    "calibration": calibration
  };

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-source"));
    var build = KINDS[element.getAttribute("data-dashboard-chart")];
    if (!source || !build || typeof window.Plotly === "undefined") { return; }
    element.setAttribute("data-chart-drawn", "true");
    var narrow = element.clientWidth < 560;
    var figure = build(JSON.parse(source.textContent), narrow);
    window.Plotly.newPlot(element, figure.data, figure.layout, {
      displaylogo: false,
      responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]
    }).then(function () { element.setAttribute("data-chart-ready", "true"); });
  }

  function drawAll() {
    var waiting = document.querySelectorAll("[data-dashboard-chart]:not([data-chart-drawn])");
    Array.prototype.forEach.call(waiting, draw);
  }

  // The filters swap #dashboard-body in place. Not through htmx: with allowScriptTags off
  // (our CSP), htmx drops every <script> of swapped content, the json_script data too. The
  // form still works without JavaScript (a plain GET).
  var pending = null;

  function swapBody(url, push) {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    var body = document.getElementById("dashboard-body");
    if (body) { body.setAttribute("aria-busy", "true"); }
    return fetch(url, {
      headers: { "HX-Request": "true", "HX-Target": "dashboard-body" },
      credentials: "same-origin",
      signal: pending.signal
    }).then(function (response) {
      return response.text();
    }).then(function (text) {
      var parsed = new DOMParser().parseFromString(text, "text/html");
      var fresh = parsed.getElementById("dashboard-body");
      var current = document.getElementById("dashboard-body");
      if (!fresh || !current) { window.location.assign(url); return; }
      current.replaceWith(document.importNode(fresh, true));
      if (push) { window.history.pushState({ dashboard: true }, "", url); }
      drawAll();
    }).catch(function (error) {
      if (error.name !== "AbortError") { window.location.assign(url); }
    });
  }

  function formUrl(form) {
    var query = new URLSearchParams(new FormData(form)).toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function start() {
    drawAll();
    var form = document.querySelector("[data-dashboard-filters]");
    if (!form || typeof window.fetch === "undefined") { return; }
    form.addEventListener("change", function () { swapBody(formUrl(form), true); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      swapBody(formUrl(form), true);
    });
    window.addEventListener("popstate", function () { window.location.reload(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
