/* Figure pages: controls ↔ URL ↔ /api/figure, without full page reloads.
   The form is server-rendered from the URL; this script keeps sliders and number boxes in step,
   validates typed values, fetches the figure as JSON, draws it with Plotly, and keeps the state in
   the query string (history.pushState; the back button restores earlier views).

   The page arrives with a static SVG picture of its figure (#figure-static), so opening it runs no
   plotly.js at all. Once the page has loaded, the browser fetches plotly.js and the figure JSON in
   idle time (network only); the first interaction — a mouse or pen over the figure, a tap (not a
   swipe that scrolls the page) or focus in the figure card or the controls, a submitted change, an
   export — runs plotly.js and draws the interactive figure in the picture's place. On a touch
   screen the interactive figure does not take drags for zooming (dragmode off), so a swipe over it
   still scrolls the page; a tap shows the hover labels.

   On the static site (`ctsite export-site`: the page names its data in <meta name="ctsite-data">)
   there is no /api: the figure, the gene search and the CSV come from the browser engine
   (`window.ctsiteEngine`, the bundle <meta name="ctsite-engine"> names), computed from the
   exported store data. Without the engine the page keeps its default view's picture and CSV
   file and says that the controls need it. */
"use strict";

(function () {
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const name = page.figure;
  const form = document.getElementById("controls");
  const gd = document.getElementById("figure");
  const card = document.querySelector(".figure-card");
  const status = document.getElementById("status");
  const errorBox = document.getElementById("figure-error");
  const csvLink = document.getElementById("download-csv");
  const staticView = document.getElementById("figure-static");
  let requestId = 0;
  let current = null; // the last figure document drawn
  let prefetched = null; // {query, response promise}: the picture's figure, fetched in idle time
  let activated = null; // the first interactive draw, once it was asked for
  let asked = null; // {query, push} of the latest view asked for (drawn or still loading)
  // The static site: the data index and the engine bundle (null: served by ctsite, /api)
  const metaContent = (key) => {
    const meta = document.querySelector(`meta[name="${key}"]`);
    return meta ? new URL(meta.getAttribute("content"), window.location.href).href : null;
  };
  const staticData = metaContent("ctsite-data");
  const engineUrl = staticData ? metaContent("ctsite-engine") : null;
  const noEngine = Boolean(staticData) && !engineUrl;
  // a touch screen: drags over the figure scroll the page instead of zooming it
  const coarsePointer = window.matchMedia("(pointer: coarse)").matches;
  // A figure laid out for width classes (Circos) is asked for in the class of this screen (the
  // media query its <picture> uses), drawn at its own size and scaled to the card like the
  // picture: what its layout keeps apart stays apart at any scale.
  const sizes = (page.sizes || []).map((s) => [s.name, s.media ? window.matchMedia(s.media) : null]);
  const size = () => (sizes.find(([, media]) => !media || media.matches) || [""])[0];
  const sized = (query) => `${query}${sizes.length ? `&size=${size()}` : ""}`;
  const figureUrl = (query) => `/api/figure/${name}?${sized(query)}`;
  // The card's width, kept by a ResizeObserver (its callback runs with the page laid out):
  // reading it while drawing would lay out the whole page, figure and all, an extra time.
  let wrapWidth = 0;
  function fitToCard() {
    const w = Number(gd.dataset.fixedWidth || 0);
    const h = Number(gd.dataset.fixedHeight || 0);
    if (!w || !h) return;
    const s = (wrapWidth || gd.parentElement.clientWidth) / w;
    // over the picture while it is still shown (nothing moves), in its place once it is gone
    const over = Boolean(staticView && staticView.isConnected);
    Object.assign(gd.style, {
      width: `${w}px`, height: `${h}px`, transformOrigin: "0 0", transform: `scale(${s})`,
      marginRight: `${w * s - w}px`, marginBottom: `${h * s - h}px`,
      position: over ? "absolute" : "", top: over ? "0" : "", left: over ? "0" : "",
    });
  }
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      wrapWidth = gd.parentElement.clientWidth;
      fitToCard();
    }).observe(gd.parentElement);
  } else {
    window.addEventListener("resize", () => { wrapWidth = 0; fitToCard(); });
  }
  // plotly.js's polar figure takes every touch on its circle for a drag, even with dragmode off,
  // so a swipe over the (circle-filled) Circos would not scroll the page: its touches are kept
  // from plotly.js (a tap still shows the hover label: the browser then sends mouse events)
  gd.addEventListener("touchstart", (event) => {
    if (gd.dataset.fixedWidth) event.stopPropagation();
  }, { capture: true, passive: true });
  for (const [, media] of sizes) {
    // (the view last asked for, which may still be loading: drawn again in the new class)
    if (media) media.addEventListener("change", () => { if (current) update(asked.query, { push: asked.push }); });
  }

  // plotly.js is loaded on demand. The partial bundle initialises itself in slices and announces
  // `PlotlyReady`; the full bundle (the fallback) defines `Plotly` at once.
  let plotlyPromise = null;
  function loadPlotly() {
    if (!plotlyPromise) {
      plotlyPromise = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = page.plotly;
        script.async = true;
        script.onload = () => resolve(window.PlotlyReady || window.Plotly);
        script.onerror = () => {
          plotlyPromise = null;
          reject(new Error("plotly.js could not be loaded"));
        };
        document.head.appendChild(script);
      });
    }
    return plotlyPromise;
  }

  // The static site's engine: its bundle loaded on demand, the exported store opened once.
  let enginePromise = null;
  function openEngine() {
    if (!enginePromise) {
      enginePromise = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = engineUrl;
        script.async = true;
        script.onload = () => resolve(window.ctsiteEngine);
        script.onerror = () => reject(new Error("the figure engine could not be loaded"));
        document.head.appendChild(script);
      }).then((engine) => engine.openSite(staticData, { fetch: window.fetch.bind(window) }));
      enginePromise.catch(() => { enginePromise = null; });
    }
    return enginePromise;
  }
  // The engine's answer in the shape of a fetch Response of /api/figure (status, json()).
  async function engineFigure(query) {
    const site = await openEngine();
    const result = await site.figure(name, sized(query));
    const ok = result.status === 200;
    const doc = ok
      ? { figure: result.figure, message: result.message || "", params: result.params,
        get table() { return result.table; }, // (the CSV's rows: made when a CSV is written)
        fingerprint: page.provenance.store_fingerprint }
      : { error: result.error || result.message || `The figure could not be computed.` };
    return { ok, status: result.status, json: async () => doc };
  }
  const askFigure = (query) => (staticData
    ? engineFigure(query)
    : fetch(figureUrl(query), { headers: { Accept: "application/json" } }));

  // The static site's CSV: the whole text from the engine (engine/downloads.js, the port of
  // ctsite/web/downloads.py: the server's provenance lines with this page's address, then the
  // rows), saved from an object URL under the server's file name. Written when the link is about
  // to be used (a pointer over it, focus, a click), not on every change of view: at the study's
  // scale it took tens of ms of each redraw, for a file few views are saved as.
  let csvObject = null;
  let csvPending = null; // [site, doc]: the view whose CSV the link does not hold yet
  function staticCsv(site, doc) {
    csvPending = [site, doc];
  }
  function writeCsv() {
    if (!csvPending) return;
    const [site, doc] = csvPending;
    csvPending = null;
    const pageUrl = `${location.origin}${location.pathname}`;
    const text = site.csv(name, doc.params, doc.table, pageUrl, page.provenance);
    if (csvObject) URL.revokeObjectURL(csvObject);
    csvObject = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    csvLink.href = csvObject;
    csvLink.download = `${site.fileStem(name, doc.params)}.csv`;
  }
  if (staticData) {
    for (const type of ["pointerenter", "focus", "click"]) {
      csvLink.addEventListener(type, writeCsv, { capture: true });
    }
  }

  const fields = () => Array.from(form.querySelectorAll("[name]"));
  const nextTask = () =>
    window.scheduler && typeof window.scheduler.yield === "function"
      ? window.scheduler.yield()
      : new Promise((resolve) => setTimeout(resolve, 0));

  function fieldError(input, message) {
    const box = document.getElementById("e-" + input.name);
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function checkNumber(input) {
    const text = input.value.trim();
    const lo = parseFloat(input.min), hi = parseFloat(input.max);
    if (text === "") { fieldError(input, ""); return true; }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      fieldError(input, "Please type a number."); return false;
    }
    if (value < lo || value > hi) {
      fieldError(input, `Out of range: use a value from ${lo} to ${hi}.`); return false;
    }
    if (input.dataset.kind === "int" && !Number.isInteger(value)) {
      fieldError(input, "Please type a whole number."); return false;
    }
    if (input.dataset.kind === "fdr") {
      const step = parseFloat(input.step) || 0.01;
      if (Math.abs(Math.round(value / step) * step - value) > 1e-9) {
        fieldError(input, `Use a multiple of ${step} (the precomputed thresholds).`); return false;
      }
    }
    fieldError(input, "");
    return true;
  }

  // Sliders and number boxes, kept in step both ways.
  form.querySelectorAll("input[type=range]").forEach((range) => {
    const box = document.getElementById(range.dataset.for);
    range.addEventListener("input", () => { box.value = range.value; fieldError(box, ""); });
    box.addEventListener("input", () => {
      if (checkNumber(box) && box.value.trim() !== "") range.value = box.value;
    });
    box.addEventListener("change", () => checkNumber(box));
  });

  function serialize() {
    const query = new URLSearchParams();
    for (const input of fields()) {
      if (input.type === "checkbox") {
        query.set(input.name, input.checked ? "1" : "0");
      } else {
        const value = input.value.trim();
        if (value !== "") query.set(input.name, value);
      }
    }
    return query.toString();
  }

  function setValues(values) {
    for (const input of fields()) {
      const value = values[input.name] === undefined ? "" : String(values[input.name]);
      if (input.type === "checkbox") {
        input.checked = ["1", "true", "yes", "on"].includes(value.toLowerCase());
      } else {
        input.value = value;
        const range = form.querySelector(`input[type=range][data-for="${input.id}"]`);
        if (range && value !== "") range.value = value;
        fieldError(input, "");
      }
    }
  }

  function valuesFromQuery(search) {
    const values = Object.assign({}, page.defaults);
    new URLSearchParams(search).forEach((value, key) => { values[key] = value; });
    return values;
  }

  function setLoading(on) {
    card.classList.toggle("loading", on);
    card.setAttribute("aria-busy", on ? "true" : "false");
    if (on) status.textContent = "Computing the figure…";
  }

  function showError(message) {
    errorBox.textContent = message || "";
    errorBox.hidden = !message;
  }

  // A submitted view gets its history entry once it is drawn (or refused): pushState blocks the
  // page for ~5 ms, better spent after the figure than before it; a view superseded before it
  // was drawn gets none.
  function pushView(query) {
    if ("?" + query !== window.location.search) {
      history.pushState({ query }, "", `${window.location.pathname}?${query}`);
    }
  }

  async function update(query, { push = false } = {}) {
    asked = { query, push };
    if (!activated) {
      activated = Promise.resolve(); // from now on every view is drawn by Plotly
      stopWatching();
    }
    const id = ++requestId;
    setLoading(true);
    showError("");
    if (!staticData) csvLink.href = `/api/data/${name}.csv?${query}`;
    const t0 = performance.now();
    try {
      const plotly = loadPlotly(); // downloads while the figure is fetched
      plotly.catch(() => {}); // (awaited below, after the figure's own errors)
      const reuse = prefetched && prefetched.query === query ? prefetched.response : null;
      prefetched = null;
      const response = await (reuse || askFigure(query));
      const doc = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
      if (id !== requestId) return; // a newer request superseded this one
      if (!response.ok) {
        showError(doc.error || `The figure could not be computed (HTTP ${response.status}).`);
        status.textContent = "";
        return;
      }
      current = doc;
      if (staticData) staticCsv(await openEngine(), doc);
      const fig = doc.figure || { data: [], layout: {} };
      const config = Object.assign(
        { responsive: true, displaylogo: false, scrollZoom: false },
        fig.config || {},
        // the SVG and PNG buttons save pictures with their provenance; the modebar camera would not
        { modeBarButtonsToRemove: ["toImage"] },
      );
      const Plotly = await plotly;
      await nextTask(); // parsing the figure and drawing it: two tasks, not one long one
      if (id !== requestId) return;
      const t1 = performance.now();
      const layout = fig.layout || {};
      if (coarsePointer && layout.dragmode === undefined) layout.dragmode = false;
      // A figure with its own height (e.g. a long timeline) gets it; others fill the card.
      // The page reserved this height for the first view, so drawing shifts nothing.
      gd.style.height = layout.height ? `${layout.height}px` : "";
      gd.parentElement.classList.remove("has-picture"); // (the picture's shape, no longer)
      const fixed = Boolean(layout.width && layout.meta && layout.meta.size);
      if (fixed) config.responsive = false; // its size is its layout's (scaled by fitToCard)
      gd.dataset.fixedWidth = fixed ? String(layout.width) : "";
      gd.dataset.fixedHeight = fixed ? String(layout.height) : "";
      if (!fixed) Object.assign(gd.style, { width: "", transform: "", marginRight: "", marginBottom: "" });
      fitToCard();
      // (a figure laid out in px: its shapes and labels drawn by the page's own layer)
      const Layer = window.ctsiteFigureLayer;
      const parts = Layer ? Layer.split(fig.data || [], layout) : null;
      await Plotly.react(gd, parts ? parts.data : fig.data || [], parts ? parts.layout : layout, config);
      if (Layer) await Layer.draw(Plotly, gd, parts ? parts.layer : null);
      if (staticView) staticView.remove(); // the interactive figure takes the picture's place
      fitToCard();
      gd.dataset.view = "interactive";
      gd.dataset.fetchMs = String(Math.round(t1 - t0)); // for benchmarks and curious people
      gd.dataset.renderMs = String(Math.round(performance.now() - t1));
      gd.dataset.fingerprint = doc.fingerprint || "";
      gd.dataset.query = query;
      status.textContent = doc.message || "";
      card.classList.toggle("empty", Boolean(doc.message));
    } catch (error) {
      if (id === requestId) {
        const fromDisk = staticData && window.location.protocol === "file:"
          ? " Opened from the disk (file://), the figures cannot read their data: serve the folder (python3 -m http.server in it) and open it over http://."
          : "";
        showError("The figure could not be loaded: " + error.message + fromDisk);
        status.textContent = "";
      }
    } finally {
      if (id === requestId) {
        if (push) pushView(query);
        setLoading(false);
        gd.dataset.ready = String(id);
      }
    }
  }

  // The name of a downloaded file: figure, condition, main thresholds (the same rule as
  // ctsite/web/downloads.py `download_stem`, which names the CSV).
  const slug = (text) => text.replace(/[^A-Za-z0-9.-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60) || "x";
  function fileName() {
    const parts = [name];
    const cond = form.querySelector("[name=condition]");
    if (cond && cond.selectedOptions && cond.selectedOptions[0]) parts.push(slug(cond.selectedOptions[0].text.trim()));
    form.querySelectorAll("input[data-kind=fdr], input[data-kind=int]").forEach((input) => {
      const value = input.value.trim() === "" ? page.defaults[input.name] : input.value.trim();
      if (value !== undefined && value !== null && value !== "") parts.push(`${input.name}-${Number(value)}`);
    });
    return parts.join("_");
  }

  // Provenance of a saved picture: the page's fields plus this view's parameters and address.
  function provenance() {
    const query = gd.dataset.query || serialize();
    return Object.assign({ figure: document.getElementById("figure-title").textContent.trim() },
      page.provenance, { parameters: query, url: `${location.origin}${location.pathname}?${query}` });
  }
  function validateAll() {
    let ok = true;
    form.querySelectorAll("input[type=number]").forEach((box) => { ok = checkNumber(box) && ok; });
    return ok;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!validateAll()) {
      showError("Some values are out of range; fix the fields marked in red.");
      return;
    }
    const query = serialize();
    rememberInitial();
    update(query, { push: true });
  });

  document.getElementById("reset").addEventListener("click", () => {
    setValues(page.defaults);
    form.requestSubmit();
  });

  window.addEventListener("popstate", () => {
    const search = window.location.search.replace(/^\?/, "");
    setValues(valuesFromQuery(search));
    update(serialize());
  });

  // Gene autocomplete: suggest completions of the last comma-separated word.
  form.querySelectorAll("input[data-kind=genes]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const parts = input.value.split(",");
        const last = parts.pop().trim();
        if (!last) { list.replaceChildren(); return; }
        const head = parts.map((p) => p.trim()).filter(Boolean);
        try {
          let genes;
          if (staticData) {
            genes = await (await openEngine()).genes(last);
          } else {
            const response = await fetch(`/api/genes?q=${encodeURIComponent(last)}`);
            if (!response.ok) return;
            genes = (await response.json()).genes;
          }
          list.replaceChildren(...genes.map((gene) => {
            const option = document.createElement("option");
            option.value = head.concat([gene]).join(", ");
            return option;
          }));
        } catch (error) { /* suggestions are optional */ }
      }, 150);
    });
  });

  // Export and help.
  // The latest view asked for, once drawn or refused (its data-ready mark): a view superseded
  // while it loaded settles its own promise before the view that replaced it is drawn.
  function whenDrawn() {
    const done = () => gd.dataset.ready === String(requestId);
    return new Promise((resolve) => {
      if (done()) { resolve(); return; }
      const seen = new MutationObserver(() => { if (done()) { seen.disconnect(); resolve(); } });
      seen.observe(gd, { attributes: true, attributeFilter: ["data-ready"] });
    });
  }

  async function exportImage(format) {
    if (!current) await activate();
    // (`current` is the view's document, set before Plotly has loaded and drawn it)
    if (requestId > 0) await whenDrawn();
    if (!current || !window.Plotly) {
      // (never a click that does nothing: the view's own error, or this one)
      if (errorBox.hidden) showError("The figure is not drawn, so it cannot be saved yet: try again.");
      return;
    }
    // the whole figure (with the shapes and labels the page draws itself), drawn by Plotly
    const drawn = window.ctsiteFigureLayer ? window.ctsiteFigureLayer.whole(gd) : gd;
    const data = await window.Plotly.toImage(drawn, {
      format, imageDataOnly: true,
      width: gd.offsetWidth || 900, height: gd.offsetHeight || 700,
    });
    const fields = provenance();
    const blob = format === "svg"
      ? new Blob([svgWithMetadata(data, fields)], { type: "image/svg+xml" })
      : new Blob([pngWithText(data, fields)], { type: "image/png" });
    save(blob, `${fileName()}.${format}`);
  }

  // A link to the file, clicked; its object URL is kept until the download has surely begun
  // (revoking it at once, as Plotly.downloadImage does, can cancel the download).
  function save(blob, filename) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  const xmlEscape = (text) => String(text).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  function svgWithMetadata(svg, fields) {
    const lines = Object.entries(fields).map(([key, value]) =>
      `<ctsite:field name="${xmlEscape(key)}">${xmlEscape(value)}</ctsite:field>`).join("");
    const metadata = `<metadata><ctsite:provenance xmlns:ctsite="https://ctsite.invalid/provenance">${lines}</ctsite:provenance></metadata>`;
    const end = svg.indexOf(">", svg.indexOf("<svg")) + 1;
    return svg.slice(0, end) + metadata + svg.slice(end);
  }

  // PNG text chunks (tEXt, Latin-1; iTXt, UTF-8, for other characters) right after IHDR.
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  function crc32(bytes) {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }
  function chunk(type, body) {
    const out = new Uint8Array(12 + body.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, body.length);
    const typed = new TextEncoder().encode(type);
    out.set(typed, 4);
    out.set(body, 8);
    view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  }
  function textChunk(key, value) {
    const text = String(value);
    if (/^[\x20-\x7e\xa0-\xff]*$/.test(text)) {
      return chunk("tEXt", Uint8Array.from(`${key}\0${text}`, (c) => c.charCodeAt(0)));
    }
    const head = Uint8Array.from(`${key}\0\0\0\0\0`, (c) => c.charCodeAt(0));
    const body = new TextEncoder().encode(text);
    const both = new Uint8Array(head.length + body.length);
    both.set(head);
    both.set(body, head.length);
    return chunk("iTXt", both);
  }
  function pngWithText(base64, fields) {
    const png = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const ihdrEnd = 8 + 12 + new DataView(png.buffer).getUint32(8); // signature, IHDR
    const chunks = Object.entries(fields).map(([key, value]) => textChunk(key, value));
    const size = png.length + chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(size);
    out.set(png.subarray(0, ihdrEnd));
    let at = ihdrEnd;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    out.set(png.subarray(ihdrEnd), at);
    return out;
  }
  document.getElementById("export-svg").addEventListener("click", () => exportImage("svg"));
  document.getElementById("export-png").addEventListener("click", () => exportImage("png"));
  // Full screen (a phone turned sideways gives the figure the whole screen); the interactive
  // figure is drawn first, so it can be zoomed and panned there. Shown where the API exists.
  const wrap = document.querySelector(".figure-wrap");
  const fullscreen = document.getElementById("fullscreen");
  if (wrap.requestFullscreen) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", async () => {
      await activate();
      await wrap.requestFullscreen().catch(() => {});
    });
    document.addEventListener("fullscreenchange", () => {
      if (window.Plotly && gd.dataset.view === "interactive") window.Plotly.Plots.resize(gd);
    });
  }
  const dialog = document.getElementById("help-dialog");
  document.getElementById("help-button").addEventListener("click", () => dialog.showModal());

  // The URL shows the whole view from the first one on (history.replaceState is slow the first
  // time in a page, ~10 ms: done in idle time, or before the first change of view at the latest).
  // A static page is the default view's file: the view of its address is the form's to show.
  if (staticData && !noEngine && window.location.search.length > 1) {
    setValues(valuesFromQuery(window.location.search.replace(/^\?/, "")));
  }
  const initial = serialize();
  let remembered = false;
  function rememberInitial() {
    if (remembered) return;
    remembered = true;
    if (window.location.search.replace(/^\?/, "") !== initial || !history.state) {
      history.replaceState({ query: initial }, "", `${window.location.pathname}?${initial}`);
    }
  }

  // Printing: the interactive figure (drawn at its pixel size) is zoomed to fit one page
  // (a portrait A4 or Letter page less its margins: about 700 × 900 CSS pixels, less the title).
  window.addEventListener("beforeprint", () => {
    const width = gd.offsetWidth || 1, height = gd.offsetHeight || 1;
    gd.style.setProperty("--print-zoom", String(Math.min(1, 690 / width, 760 / height)));
  });

  // The static picture until the first interaction, then the interactive figure of the same view.
  function activate() {
    if (noEngine) return Promise.resolve(); // nothing to compute with: the picture stays
    if (!activated) {
      rememberInitial();
      activated = update(initial);
    }
    return activated;
  }
  // A touch counts once it ends as a tap: when a finger swipes to scroll the page, the browser
  // cancels its pointer (pointercancel) and no pointerup arrives.
  const triggers = [
    [document.querySelector(".figure-wrap"), ["pointerover", "pointerdown", "pointerup"]],
    [card, ["focusin"]],
    [document.querySelector(".controls"), ["pointerdown", "pointerup", "focusin"]],
  ];
  const onIntent = (event) => {
    if (event.pointerType === "touch" && event.type !== "pointerup") return;
    activate();
  };
  function stopWatching() {
    for (const [target, events] of triggers) {
      for (const type of events) target.removeEventListener(type, onIntent);
    }
  }

  // In idle time after the load: plotly.js into the HTTP cache and the figure JSON into memory,
  // so the first interaction only has to run them (nothing is executed here).
  function prefetch() {
    if (activated) return;
    const link = document.createElement("link");
    link.rel = "prefetch";
    link.as = "script";
    link.href = page.plotly;
    document.head.appendChild(link);
    if (staticData) { // the engine's script only: the figure is computed when it is asked for
      const engine = link.cloneNode();
      engine.href = engineUrl;
      document.head.appendChild(engine);
      return;
    }
    prefetched = {
      query: initial,
      response: fetch(figureUrl(initial), { headers: { Accept: "application/json" } }),
    };
    prefetched.response.catch(() => { prefetched = null; });
  }

  if (noEngine) {
    // The static site without its engine: the default view's picture and CSV file, no controls.
    gd.dataset.view = "static";
    for (const element of form.elements) element.disabled = true;
    for (const id of ["export-svg", "export-png"]) document.getElementById(id).disabled = true;
    status.textContent = "This is the default view, as a picture: changing the figure needs " +
      "the figure engine (static/vendor/ctsite-engine.js), which this copy of the site does not include.";
    if (window.location.search.length > 1 && staticView && staticView.dataset.query !== window.location.search.slice(1)) {
      showError("This address asks for another view than the default, which needs the figure engine; the default view is shown.");
    }
  } else if (staticView && staticView.dataset.query === initial) {
    gd.dataset.view = "static";
    for (const [target, events] of triggers) {
      for (const type of events) target.addEventListener(type, onIntent, { passive: true });
    }
    const later = window.requestIdleCallback || ((f) => setTimeout(f, 200));
    const idle = () => {
      later(rememberInitial, { timeout: 2000 });
      later(prefetch, { timeout: 3000 });
    };
    if (document.readyState === "complete") idle();
    else window.addEventListener("load", idle, { once: true });
  } else {
    if (staticView) staticView.remove(); // (a picture of other parameters than the form's)
    rememberInitial();
    activate(); // no picture (e.g. parameters in error): ask the API now, it explains
  }
})();
