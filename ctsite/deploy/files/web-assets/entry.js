/* The partial plotly.js of the ctsite pages: plotly.js core (which always holds the cartesian
   `scatter` trace) plus the two polar traces of the Circos figure.

   The library is initialised in slices, one task each, instead of one long task that would block
   the page: first the large third-party modules (no plotly imports, so any order is safe), then
   plotly's own modules in the order its core.js requires them (so circular imports resolve
   exactly as in a normal build). `window.PlotlyReady` is a promise of the ready `Plotly`. */
"use strict";

const slices = [
  () => require("@plotly/d3"),
  () => require("d3-time-format"),
  () => require("d3-format"),
  () => require("native-promise-only"),
  () => require("culori"),
  () => require("polybooljs"),
  () => require("plotly.js/src/lib"),
  () => require("plotly.js/src/registry"),
  () => require("plotly.js/src/plots/plots"),
  () => require("plotly.js/src/plot_api"),
  () => require("plotly.js/lib/core"),
  () => require("plotly.js/lib/scatterpolar"),
  () => require("plotly.js/lib/barpolar"),
];

function nextTask() {
  if (globalThis.scheduler && typeof globalThis.scheduler.yield === "function") {
    return globalThis.scheduler.yield();
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

window.PlotlyReady = (async () => {
  for (const slice of slices) {
    slice();
    await nextTask();
  }
  const Plotly = require("plotly.js/lib/core");
  Plotly.register([require("plotly.js/lib/scatterpolar"), require("plotly.js/lib/barpolar")]);
  window.Plotly = Plotly;
  return Plotly;
})();
