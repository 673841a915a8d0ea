// The engine in a page for tests/engine/test_browser.py: bundled by esbuild with the engine's
// modules (apache-arrow included), it exposes window.runEngine(indexUrl, calls) → the results of
// calls.mjs, read through the browser's own fetch from the static server.

import { openStore } from "../../web-assets/engine/store.js";
import { runCalls } from "./calls.mjs";

window.runEngine = async (indexUrl, calls) => {
  const store = await openStore(indexUrl);
  await store.prepareAll();
  return runCalls(store, calls);
};
