/* The drawn layer of a figure laid out in pixels (Circos): its layout shapes (ring cells, chords,
   leaders) and text annotations (sector names, gene labels), drawn by the page in one SVG of its
   own, between Plotly's plot and its legend, colour bars and hover labels.

   Why: Plotly.react redraws the whole figure whenever a trace's data changes (every Circos view
   changes the hover texts), and the Circos figure's ~150 rotated labels and ~400 KB of path text
   were most of that redraw: Plotly measures each label and rewrites each path into pixels. This
   layer keeps one element per shape and per label, and rewrites an attribute only when its value
   changed; the paths stay in paper coordinates under one transform.

   It draws what Plotly would from the same layout (paper-referenced paths: fill, fill rule, line
   colour, width and opacity; annotations centred on their point, turned by textangle about their
   middle, bold for <b>) — the figure document is unchanged, and the SVG and PNG downloads still
   come from Plotly with the whole figure (`whole`). Any other shape or annotation (data
   coordinates, arrows, several lines): the figure is left to Plotly entirely (`split` → null).

   The colour bars (traces with no points that only show a scale) are drawn by Plotly too, but in
   a graph of their own under this layer, redrawn only when they change: in the figure's graph
   they were redrawn, ticks measured and all, with every view.

   A filled polar outline with no line and no hover (the Circos histogram: ~13 000 points) is
   drawn by this layer as well, under its shapes, placed in the polar frame as Plotly places it
   (full circle, linear radial axis); Plotly keeps the trace without its points, so its legend
   group still shows and hides it. Plotly spent ~20 ms of every view computing that path. */
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };
  const unescape = (text) => text.replace(/&(?:amp|lt|gt|quot|#x27|#39);/g, (e) => ENTITIES[e]);
  const TAG = /<\/?b>/gi;
  const BOLD = /<b>/i;

  const paperRef = (item) => item.xref === "paper" && item.yref === "paper";
  const drawableShape = (s) => s.type === "path" && paperRef(s) && (s.layer || "above") === "above"
    && typeof s.path === "string" && !(s.line && s.line.dash && s.line.dash !== "solid");
  const drawableNote = (a) => paperRef(a) && a.showarrow === false
    && (a.xanchor || "center") === "center" && (a.yanchor || "middle") === "middle"
    && !a.bgcolor && !a.bordercolor && !/<br/i.test(String(a.text || ""))
    && !/<(?!\/?b>)[^>]*>/i.test(String(a.text || ""));

  const TRANSPARENT = "rgba(0,0,0,0)";
  // a trace that draws nothing but its colour bar
  const scaleOnly = (t) => Boolean(t.marker && t.marker.showscale === true) && t.hoverinfo === "skip"
    && Array.isArray(t.r) && t.r.every((v) => v === null);

  // a filled outline that shows nothing else: no line, no markers, no hover
  const fillOnly = (t) => t.type === "scatterpolar" && t.mode === "none" && t.fill === "toself"
    && t.hoverinfo === "skip" && (t.subplot || "polar") === "polar" && typeof t.fillcolor === "string"
    && !(t.line && Number(t.line.width) > 0) && Array.isArray(t.r) && Array.isArray(t.theta)
    && t.r.length === t.theta.length && !t.thetaunit && !t.r0 && !t.theta0;

  /** The polar frame in px ({cx, cy, radius, r0, r1, rotation, sign}) when this layer can place
   * points in it as Plotly does (a full circle, no hole, a linear radial axis with its range
   * given, degrees); else null. (Plotly's polar.js: the circle fills the smaller side of the
   * domain box, centred in it.) */
  function polarFrame(layout, width, height) {
    const polar = layout.polar;
    if (!polar || !polar.domain) return null;
    const radial = polar.radialaxis || {};
    const angular = polar.angularaxis || {};
    const range = radial.range;
    if (Number(polar.hole || 0) !== 0 || polar.sector !== undefined) return null;
    if ((radial.type || "linear") !== "linear" || radial.autorange) return null;
    if (!Array.isArray(range) || range.length !== 2 || !(Number(range[1]) > Number(range[0]))) return null;
    if ((angular.thetaunit || "degrees") !== "degrees" || (angular.type || "linear") !== "linear") return null;
    const dx = polar.domain.x || [0, 1];
    const dy = polar.domain.y || [0, 1];
    const w = width * (dx[1] - dx[0]);
    const h = height * (dy[1] - dy[0]);
    const radius = Math.min(w, h) / 2;
    return {
      cx: width * dx[0] + w / 2,
      cy: height * (1 - dy[1]) + h / 2,
      radius,
      r0: Number(range[0]),
      r1: Number(range[1]),
      rotation: Number(angular.rotation === undefined ? 0 : angular.rotation),
      sign: angular.direction === "clockwise" ? -1 : 1,
    };
  }

  // the last outline placed: a view that keeps it (most changes of a view) reuses its path
  let lastOutline = { key: "", r: [], theta: [], path: "" };
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

  /** An outline's path in px ("M…L…Z"): each (r, theta) placed in `frame`. */
  function outlinePath(frame, r, theta) {
    const key = JSON.stringify(frame);
    const last = lastOutline;
    if (last.key === key && same(last.r, r) && same(last.theta, theta)) return last.path;
    const path = placeOutline(frame, r, theta);
    lastOutline = { key, r: r.slice(), theta: theta.slice(), path };
    return path;
  }

  function placeOutline(frame, r, theta) {
    const { cx, cy, radius, r0, r1, rotation, sign } = frame;
    const scale = radius / (r1 - r0);
    const parts = new Array(r.length);
    for (let i = 0; i < r.length; i += 1) {
      const a = ((rotation + sign * Number(theta[i])) * Math.PI) / 180;
      const rho = (Number(r[i]) - r0) * scale;
      parts[i] = `${(cx + rho * Math.cos(a)).toFixed(2)},${(cy - rho * Math.sin(a)).toFixed(2)}`;
    }
    return parts.length ? `M${parts.join("L")}Z` : "";
  }

  /** A figure laid out in px whose shapes and annotations this layer draws: {data and layout
   * for Plotly (without them and the colour bars, the outlines without their points), layer:
   * {width, height, shapes, annotations, fills: [{at (in Plotly's data), trace, path}],
   * scales: {indices, data, layout} of the colour bars' graph}}; else null. */
  function split(data, layout) {
    const fixed = layout.width && layout.height && layout.meta && layout.meta.size;
    const shapes = layout.shapes || [];
    const annotations = layout.annotations || [];
    if (!fixed || !shapes.every(drawableShape) || !annotations.every(drawableNote)) return null;
    const margin = layout.margin || {};
    if (["l", "r", "t", "b"].some((k) => Number(margin[k] || 0) !== 0)) return null;
    const rest = Object.assign({}, layout);
    delete rest.shapes;
    delete rest.annotations;
    const indices = [];
    data.forEach((t, i) => { if (scaleOnly(t)) indices.push(i); });
    const scales = {
      indices,
      data: indices.map((i) => data[i]),
      // the figure's own frame (the bars are placed in it), with nothing else to draw
      layout: Object.assign({}, rest, {
        paper_bgcolor: TRANSPARENT, plot_bgcolor: TRANSPARENT, showlegend: false,
        polar: Object.assign({}, rest.polar || {}, { bgcolor: TRANSPARENT }),
        dragmode: false, hovermode: false, meta: null,
      }),
    };
    const width = Number(layout.width);
    const height = Number(layout.height);
    const frame = polarFrame(layout, width, height);
    const plotted = [];
    const fills = [];
    data.forEach((t, i) => {
      if (indices.includes(i)) return;
      if (frame && fillOnly(t)) {
        fills.push({ at: plotted.length, trace: t, path: outlinePath(frame, t.r, t.theta) });
        // (one empty point: a trace with none would be left out of its legend group's clicks)
        plotted.push(Object.assign({}, t, { r: [null], theta: [null] }));
      } else plotted.push(t);
    });
    return {
      data: plotted,
      layout: rest,
      layer: { width, height, shapes, annotations, fills, scales },
    };
  }

  // An attribute written only when it changed (the element remembers what it was given).
  function set(element, name, value) {
    const key = `_${name}`;
    if (element[key] === value) return;
    element[key] = value;
    if (value === null) element.removeAttribute(name);
    else element.setAttribute(name, value);
  }

  // n children of `group` made with `make`, extras removed
  function children(group, n, make) {
    while (group.childElementCount > n) group.lastElementChild.remove();
    while (group.childElementCount < n) group.appendChild(make());
    return group.children;
  }

  function drawShapes(group, shapes) {
    const paths = children(group, shapes.length, () => {
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("vector-effect", "non-scaling-stroke");
      return path;
    });
    shapes.forEach((shape, i) => {
      const path = paths[i];
      const line = shape.line || {};
      const width = line.width === undefined || line.width === null ? 2 : Number(line.width);
      set(path, "d", shape.path);
      set(path, "fill", shape.fillcolor || "none");
      set(path, "fill-rule", shape.fillrule || "evenodd");
      set(path, "stroke", width > 0 ? line.color || "#444" : "none");
      set(path, "stroke-width", width > 0 ? String(width) : null);
      const opacity = shape.opacity === undefined || shape.opacity === null ? 1 : Number(shape.opacity);
      set(path, "opacity", opacity < 1 ? String(opacity) : null);
      set(path, "data-name", shape.name || null);
    });
  }

  // The outlines, each shown while its trace is (a legend click hides it with its group).
  function drawFills(group, fills, gd) {
    const paths = children(group, fills.length, () => document.createElementNS(SVG, "path"));
    fills.forEach((fill, i) => {
      const path = paths[i];
      const trace = fill.trace;
      const shown = gd.data[fill.at];
      const visible = shown ? shown.visible : trace.visible;
      set(path, "d", fill.path);
      set(path, "fill", trace.fillcolor);
      set(path, "stroke", "none");
      set(path, "opacity", trace.opacity !== undefined && Number(trace.opacity) < 1 ? String(trace.opacity) : null);
      set(path, "display", visible === false || visible === "legendonly" ? "none" : null);
      set(path, "data-name", trace.name || null);
    });
  }

  // Plotly centres an annotation's text box on its point; the box of one line of text is its
  // font's ascent plus descent, so the baseline sits ~0.35 em below the middle.
  function drawNotes(group, notes, width, height) {
    const texts = children(group, notes.length, () => {
      const text = document.createElementNS(SVG, "text");
      text.setAttribute("text-anchor", "middle");
      return text;
    });
    notes.forEach((note, i) => {
      const text = texts[i];
      const raw = String(note.text || "");
      const font = note.font || {};
      const size = Number(font.size || 12);
      const x = (Number(note.x) * width).toFixed(2);
      const y = ((1 - Number(note.y)) * height).toFixed(2);
      const angle = Number(note.textangle || 0);
      set(text, "x", x);
      set(text, "y", (Number(y) + 0.35 * size).toFixed(2));
      set(text, "transform", angle ? `rotate(${angle} ${x} ${y})` : null);
      set(text, "font-size", `${size}px`);
      set(text, "font-family", font.family || null);
      set(text, "font-weight", BOLD.test(raw) ? "bold" : null);
      set(text, "fill", font.color || "#444");
      set(text, "data-name", note.name || null);
      const content = unescape(raw.replace(TAG, ""));
      if (text._content !== content) {
        text._content = content;
        text.textContent = content;
      }
    });
  }

  // The colour bars' graph (a Plotly graph that takes no pointer events), redrawn only when
  // its traces or frame changed.
  async function drawScales(Plotly, container, svg, scales) {
    let graph = container.querySelector(":scope > .figure-layer-scales");
    if (!graph) {
      graph = document.createElement("div");
      graph.className = "figure-layer-scales";
      graph.style.cssText = "position:absolute;top:0;left:0;pointer-events:none";
    }
    if (svg.nextSibling !== graph) container.insertBefore(graph, svg.nextSibling);
    const key = JSON.stringify([scales.data, scales.layout]);
    // (when the figure's graph starts over, Plotly removes every SVG of its frame, this graph's
    // too: then it is drawn anew)
    const intact = graph.querySelector(".main-svg") !== null;
    if (graph._drawn === key && intact) return;
    graph._drawn = key;
    await (intact ? Plotly.react : Plotly.newPlot)(graph, scales.data, scales.layout, {
      staticPlot: true, displayModeBar: false, responsive: false,
    });
  }

  /** Draws `layer` (from `split`) over the plot of the Plotly graph `gd` (with `Plotly`, for the
   * colour bars); null removes it. */
  async function draw(Plotly, gd, layer) {
    let svg = gd.querySelector("svg.figure-layer");
    if (!layer) {
      if (svg) svg.remove();
      const graph = gd.querySelector(".figure-layer-scales");
      if (graph) {
        Plotly.purge(graph);
        graph.remove();
      }
      gd.layerLayout = null;
      gd.layerScales = null;
      gd.layerFills = null;
      return;
    }
    const container = gd.querySelector(".svg-container");
    const plot = container && container.querySelector(".main-svg");
    if (!plot) return;
    if (!svg) {
      svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("class", "figure-layer");
      svg.setAttribute("aria-hidden", "true");
      svg.style.cssText = "position:absolute;top:0;left:0;pointer-events:none;overflow:visible";
      svg.innerHTML = '<g class="fills"></g><g class="shapes"></g><g class="annotations"></g>';
    }
    // (Plotly remakes its own SVGs, never this one: kept right above its plot)
    if (plot.nextSibling !== svg) container.insertBefore(svg, plot.nextSibling);
    const { width, height } = layer;
    set(svg, "width", String(width));
    set(svg, "height", String(height));
    set(svg, "viewBox", `0 0 ${width} ${height}`);
    const [fills, shapes, notes] = svg.children;
    drawFills(fills, layer.fills, gd);
    // (a legend click restyles the outline's stub trace: the outline follows)
    // (once: Plotly.newPlot drops a graph's listeners, so it is taken off and put on again)
    gd._layerRestyled = gd._layerRestyled || (() => {
      const now = gd.querySelector("svg.figure-layer");
      if (now && gd.layerFills) drawFills(now.children[0], gd.layerFills, gd);
    });
    gd.removeListener("plotly_restyle", gd._layerRestyled);
    gd.on("plotly_restyle", gd._layerRestyled);
    // paper coordinates (y up, 0 to 1) → px
    set(shapes, "transform", `matrix(${width} 0 0 ${-height} 0 ${height})`);
    drawShapes(shapes, layer.shapes);
    drawNotes(notes, layer.annotations, width, height);
    gd.layerLayout = { shapes: layer.shapes, annotations: layer.annotations };
    gd.layerFills = layer.fills;
    gd.layerScales = layer.scales;
    await drawScales(Plotly, container, svg, layer.scales);
  }

  /** The whole figure as drawn (Plotly's data and layout, with this layer's shapes and
   * annotations back in): what the downloads draw. */
  function whole(gd) {
    if (!gd.layerLayout) return gd;
    const layout = Object.assign({}, gd.layout, gd.layerLayout);
    // the outlines' points back (as shown: a hidden one stays hidden), then the colour bars'
    // traces back in their places
    const data = gd.data.slice();
    for (const fill of gd.layerFills || []) {
      const shown = data[fill.at];
      data[fill.at] = Object.assign({}, fill.trace, shown && shown.visible !== undefined ? { visible: shown.visible } : {});
    }
    const { indices, data: scales } = gd.layerScales;
    indices.forEach((at, k) => data.splice(at, 0, scales[k]));
    return { data, layout };
  }

  window.ctsiteFigureLayer = { split, draw, whole };
})();
