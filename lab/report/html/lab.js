/* concurrency-lab's HTML report: draws the page's charts with Chart.js and turns its tables
   into sortable (and, for long ones, paged) Grid.js tables. Everything it
   shows is in the page's data (#lab-data); nothing is fetched. */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("lab-data").textContent);
  // Okabe and Ito's colours, told apart by most readers; each series also has its own marker
  // and dashes, so the charts read without colour and in black and white.
  const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  const MARKERS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star", "rectRounded", "cross"];
  const DASHES = [[], [6, 3], [2, 3], [10, 3, 2, 3], [1, 2], [12, 5], [4, 2, 1, 2]];
  const IDEAL = "#555555";
  const ERROR = "#B00020";

  Chart.register(
    ChartErrorBars.LineWithErrorBarsController,
    ChartErrorBars.ScatterWithErrorBarsController,
    ChartErrorBars.PointWithErrorBar
  );
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.color = "#222222";

  function style(number) {
    return {
      color: COLORS[number % COLORS.length],
      marker: MARKERS[number % MARKERS.length],
      dash: DASHES[number % DASHES.length],
    };
  }

  function figure(value) {
    if (value === null || value === undefined) return "";
    const size = Math.abs(value);
    if (size !== 0 && (size < 1e-6 || size >= 1e9)) return value.toExponential(2);
    return value.toLocaleString("en", { maximumSignificantDigits: 4 });
  }

  function leading(value) {
    const mantissa = value / 10 ** Math.floor(Math.log10(value) + 1e-9);
    return Math.abs(mantissa - Math.round(mantissa)) < 1e-6 ? Math.round(mantissa) : 0;
  }

  function scale(axis) {
    return {
      type: axis.log ? "logarithmic" : "linear",
      beginAtZero: Boolean(axis.zero),
      title: { display: true, text: axis.title },
      // a log axis labels 1, 2 and 5 of each decade, as Chart.js does
      ticks: { callback: (value) => (!axis.log || [1, 2, 5].includes(leading(value)) ? figure(value) : "") },
    };
  }

  function linesChart(spec) {
    const datasets = spec.series.map((line) => {
      const look = style(line.style);
      return {
        label: line.name,
        data: line.points.map((p) => ({ x: p.x, y: p.y, yMin: p.low, yMax: p.high, past: p.past })),
        borderColor: look.color,
        backgroundColor: look.color,
        borderDash: look.dash,
        pointStyle: (context) => (context.raw && context.raw.past ? "triangle" : look.marker),
        pointRadius: (context) => (context.raw && context.raw.past ? 7 : 4),
        pointBorderColor: (context) => (context.raw && context.raw.past ? "#000000" : look.color),
        errorBarColor: look.color,
        errorBarWhiskerColor: look.color,
        borderWidth: 2,
      };
    });
    if (spec.ideal.length) {
      datasets.push({
        label: "ideal",
        data: spec.ideal.map((p) => ({ x: p.x, y: p.y })),
        borderColor: IDEAL,
        backgroundColor: IDEAL,
        borderDash: [3, 3],
        pointRadius: 0,
        borderWidth: 1.5,
      });
    }
    return {
      type: "lineWithErrorBars",
      data: { datasets },
      options: {
        scales: { x: scale(spec.x), y: scale(spec.y) },
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: {
            callbacks: {
              label(context) {
                const raw = context.raw;
                let text = `${context.dataset.label}: ${figure(raw.y)} at ${figure(raw.x)}`;
                if (raw.yMin !== undefined && raw.yMin !== null) {
                  text += ` (95% interval ${figure(raw.yMin)}-${figure(raw.yMax)})`;
                }
                if (raw.past) text += ", interval past what the machine can do";
                return text;
              },
            },
          },
        },
      },
    };
  }

  function timelineChart(spec) {
    const rows = spec.rows;
    const jobs = spec.jobs.map((job) => ({ x: [job.start, job.end], y: rows[job.row], job }));
    return {
      type: "bar",
      data: {
        labels: rows,
        datasets: [
          {
            label: "jobs",
            data: jobs,
            backgroundColor: jobs.map((bar) => (bar.job.error ? ERROR : COLORS[0])),
            borderColor: "#ffffff",
            borderWidth: 1,
            borderSkipped: false,
            barPercentage: 0.8,
            categoryPercentage: 1.0,
          },
        ],
      },
      options: {
        indexAxis: "y",
        scales: {
          x: { type: "linear", min: 0, max: spec.seconds, title: { display: true, text: "seconds from the first job's start" } },
          y: { type: "category", ticks: { autoSkip: false, font: { size: 11 } } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: (items) => `job ${items[0].raw.job.index}`,
              label(context) {
                const job = context.raw.job;
                const lines = [
                  `on ${rows[job.row]}`,
                  `start ${job.start.toFixed(4)} s, end ${job.end.toFixed(4)} s (${(job.end - job.start).toFixed(4)} s)`,
                  job.cpu === null ? "CPU time not read (an event loop's job)" : `CPU ${job.cpu.toFixed(4)} s`,
                ];
                if (job.error) lines.push(`error: ${job.error}`);
                return lines;
              },
            },
          },
        },
      },
    };
  }

  function ratiosChart(spec) {
    const rows = spec.rows;
    const points = spec.points.map((p) => ({ x: p.ratio, xMin: p.low, xMax: p.high, y: p.row, point: p }));
    const lowest = Math.min(1, ...spec.points.map((p) => (p.low === undefined ? p.ratio : p.low)));
    const highest = Math.max(1, ...spec.points.map((p) => (p.high === undefined ? p.ratio : p.high)));
    return {
      type: "scatterWithErrorBars",
      data: {
        datasets: [
          {
            label: "after / before",
            data: points,
            borderColor: COLORS[0],
            backgroundColor: COLORS[0],
            errorBarColor: COLORS[0],
            errorBarWhiskerColor: COLORS[0],
            pointStyle: "rectRot",
            pointRadius: 5,
          },
          {
            label: "no change",
            type: "line",
            data: [{ x: 1, y: -0.5 }, { x: 1, y: rows.length - 0.5 }],
            borderColor: IDEAL,
            borderDash: [3, 3],
            pointRadius: 0,
            borderWidth: 1.5,
          },
        ],
      },
      options: {
        scales: {
          x: {
            type: "linear",
            suggestedMin: lowest * 0.98,
            suggestedMax: highest * 1.02,
            title: { display: true, text: "after / before (below 1: faster)" },
          },
          y: {
            type: "linear",
            reverse: true,
            min: -0.5,
            max: rows.length - 0.5,
            afterBuildTicks: (axis) => {
              axis.ticks = rows.map((_, number) => ({ value: number }));
            },
            ticks: { autoSkip: false, callback: (value) => rows[value] || "" },
          },
        },
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: {
            filter: (item) => item.datasetIndex === 0,
            callbacks: {
              title: (items) => rows[items[0].raw.y],
              label(context) {
                const p = context.raw.point;
                const interval = p.low === undefined ? "no interval" : `95% interval ${figure(p.low)}-${figure(p.high)}`;
                return [`${p.before} before, ${p.after} after`, `after / before ${figure(p.ratio)}, ${interval}`, p.verdict];
              },
            },
          },
        },
      },
    };
  }

  const BUILDERS = { lines: linesChart, timeline: timelineChart, ratios: ratiosChart };

  function draw(canvas) {
    if (canvas.dataset.series !== undefined || canvas.dataset.failed !== undefined) return;
    const spec = data.charts[Number(canvas.dataset.chart)];
    try {
      const chart = new Chart(canvas, BUILDERS[spec.kind](spec));
      canvas.dataset.series = String(chart.data.datasets.length);
      canvas.dataset.points = String(chart.data.datasets.reduce((n, d) => n + d.data.length, 0));
    } catch (error) {
      canvas.dataset.failed = "true";
      canvas.closest("figure").classList.add("failed");
      console.error(`concurrency-lab: chart ${spec.title} was not drawn: ${error}`);
    }
  }

  // The charts in view (and a screen below) are drawn at once; the others as they come into
  // view, so a page of many cells opens quickly. Printing draws every one first.
  const AHEAD = 800;
  const canvases = [...document.querySelectorAll("canvas[data-chart]")];

  function drawAll() {
    canvases.forEach(draw);
  }

  function drawCharts() {
    const later = [];
    for (const canvas of canvases) {
      if (canvas.getBoundingClientRect().top < window.innerHeight + AHEAD) draw(canvas);
      else later.push(canvas);
    }
    if (!later.length) return;
    if (!("IntersectionObserver" in window)) return later.forEach(draw);
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          observer.unobserve(entry.target);
          draw(entry.target);
        }
      },
      { rootMargin: `${AHEAD}px 0px` }
    );
    later.forEach((canvas) => observer.observe(canvas));
  }

  function number(text) {
    const found = String(text).replace(/,/g, "").match(/-?\d+(\.\d+)?(e[-+]?\d+)?/i);
    return found ? Number(found[0]) : null;
  }

  function compareNumbers(a, b) {
    const x = number(a);
    const y = number(b);
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return x - y;
  }

  function enhanceTables() {
    for (const host of document.querySelectorAll(".table-host[data-table]")) {
      const table = data.tables[Number(host.dataset.table)];
      const place = document.createElement("div");
      place.className = "grid";
      host.appendChild(place);
      try {
        new gridjs.Grid({
          columns: table.headers.map((header, index) => ({
            name: header,
            sort: table.numeric[index] ? { compare: compareNumbers } : true,
          })),
          data: table.rows,
          sort: true,
          autoWidth: false,
          pagination: table.paged ? { limit: 50, summary: true } : false,
          className: { td: "cell", th: "cell" },
        }).render(place);
        host.classList.add("enhanced");
      } catch (error) {
        place.remove();
        console.error(`concurrency-lab: a table was left as written: ${error}`);
      }
    }
  }

  window.addEventListener("beforeprint", () => {
    drawAll();
    for (const chart of Object.values(Chart.instances)) chart.resize();
  });
  window.labDrawAll = drawAll;

  enhanceTables();
  drawCharts();
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.ready = "true";
})();
