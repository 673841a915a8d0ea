// The engine's conformance calls, shared by the Node runner (run.mjs) and the Chromium page
// (tests/engine/test_browser.py): a list of calls in, a list of JSON-safe results out.
//
// A call is one of
//   {fn: "store", method, args?}          a Store method (or property when args is absent)
//   {fn: "prepare", args: [condition, needs?]}
//   {fn: "parseParams", figure, query} / {fn: "toQuery", figure, params}
//   {fn: "frameFromIPC", args: [base64 of an Arrow IPC file]}
//   {fn: "formatG" | "formatFixed" | "pyRepr" | "pyFloatRepr" | "pyFloat" | "pyStrip", args}
// and its result {ok: value} or {error: {type, message, hint, reason}}. Non-finite floats travel as
// {"$float": "nan" | "inf" | "-inf"} both ways; a Frame as {"$frame": {names, dtypes, columns}}.

import * as py from "../../web-assets/engine/py.js";

// Python's text rules under the names the calls use (floatOrNull: float() or null)
const pyformat = { ...py, formatFixed: py.formatF, pyFloat: py.floatOrNull, isPySpace: py.isSpace };
import { Frame } from "../../web-assets/engine/frame.js";
import { parseParams, toQuery } from "../../web-assets/engine/params.js";
import { frameFromIPC } from "../../web-assets/engine/store.js";

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === "object") {
    if ("$float" in value) return { nan: NaN, inf: Infinity, "-inf": -Infinity, "-0.0": -0 }[value.$float];
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

export function encode(value) {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $float: "nan" };
    if (value === Infinity) return { $float: "inf" };
    if (value === -Infinity) return { $float: "-inf" };
    return value;
  }
  if (value instanceof Frame) {
    const columns = {};
    for (const name of value.names) columns[name] = encode(Array.from(value.columns[name]));
    return { $frame: { names: value.names, dtypes: value.dtypes, columns, length: value.length } };
  }
  if (ArrayBuffer.isView(value)) return Array.from(value, encode);
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value === undefined ? null : value;
}

async function one(store, call) {
  const args = decode(call.args || []);
  switch (call.fn) {
    case "store": {
      const member = store[call.method];
      if (typeof member === "function") return member.apply(store, args);
      return member;
    }
    case "prepare":
      return store.prepare(...args).then(() => null);
    case "parseParams":
      return parseParams(call.figure, store, decode(call.query));
    case "toQuery":
      return toQuery(call.figure, store, decode(call.params));
    case "frameFromIPC": // args: [the file's bytes in base64]
      return frameFromIPC(Uint8Array.from(atob(args[0]), (c) => c.charCodeAt(0)));
    default: {
      const fn = pyformat[call.fn];
      if (typeof fn !== "function") throw new Error(`unknown call ${call.fn}`);
      return fn(...args);
    }
  }
}

/** Run `calls` against `store` (may be null for the text helpers); never throws. */
export async function runCalls(store, calls) {
  const results = [];
  for (const call of calls) {
    try {
      results.push({ ok: encode(await one(store, call)) });
    } catch (error) {
      results.push({
        error: {
          type: error.name || "Error",
          message: String(error.message),
          hint: error.hint ?? null,
          reason: error.reason ?? null,
        },
      });
    }
  }
  return results;
}
