// Runs functions of the browser engine (web-assets/engine/*.js) for the conformance tests:
// reads a JSON list of calls on stdin, prints a JSON list of results on stdout, in order.
//
// A call: {"module": "common", "function": "fmt", "args": [...]}. `function` is an export's
// name; "Class#method" calls a method on args[0]; "Class.property" reads a property of args[0];
// an export that is not a function is returned as it is (constants); with "returns_args": N the
// result is the first N arguments after the call (for functions that change them in place).
// Values that JSON cannot carry are tagged both ways: {"$float": "nan"|"inf"|"-inf"|"-0"},
// {"$int": "123"} (a Python int: a BigInt), {"$f32": [...]} / {"$f64": [...]} (typed arrays),
// {"$new": "module.Class", "args": [...]} (an instance). A result is {"ok": value} or
// {"error": "<Error name>: <message>"}.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const engine = resolve(here, "../../web-assets/engine");
const modules = new Map();

async function load(name) {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`not an engine module: ${name}`);
  if (!modules.has(name)) {
    modules.set(name, await import(pathToFileURL(resolve(engine, `${name}.js`)).href));
  }
  return modules.get(name);
}

const FLOATS = { nan: NaN, inf: Infinity, "-inf": -Infinity, "-0": -0 };

async function decode(value) {
  if (Array.isArray(value)) return Promise.all(value.map(decode));
  if (value === null || typeof value !== "object") return value;
  if ("$float" in value) return FLOATS[value.$float];
  if ("$int" in value) return BigInt(value.$int);
  if ("$f32" in value) return Float32Array.from(await decode(value.$f32));
  if ("$f64" in value) return Float64Array.from(await decode(value.$f64));
  if ("$new" in value) {
    const [module, name] = value.$new.split(".");
    const Class = (await load(module))[name];
    return new Class(...(await decode(value.args || [])));
  }
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = await decode(v);
  return out;
}

function encode(value) {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $float: "nan" };
    if (value === Infinity) return { $float: "inf" };
    if (value === -Infinity) return { $float: "-inf" };
    if (Object.is(value, -0)) return { $float: "-0" };
    return value;
  }
  if (typeof value === "bigint") return { $int: value.toString() };
  if (value === undefined || value === null) return null;
  if (typeof value !== "object") return value;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value, encode);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, encode(v)]));
  if (value instanceof Set) return [...value].map(encode);
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "function") out[k] = encode(v);
  }
  return out;
}

async function run(call) {
  const module = await load(call.module);
  const args = await decode(call.args || []);
  const name = call.function;
  if (name.includes("#")) {
    const [, method] = name.split("#");
    return args[0][method](...args.slice(1));
  }
  if (name.includes(".")) {
    const [, property] = name.split(".");
    return args[0][property];
  }
  if (!(name in module)) throw new Error(`${call.module}.js exports no ${name}`);
  const target = module[name];
  if (typeof target !== "function" || call.args === undefined) return target;
  const value = target(...args);
  // a function that changes its arguments in place: its first `returns_args` arguments after
  return call.returns_args ? args.slice(0, call.returns_args) : value;
}

const calls = JSON.parse(readFileSync(0, "utf-8"));
const results = [];
for (const call of calls) {
  try {
    results.push({ ok: encode(await run(call)) });
  } catch (error) {
    results.push({ error: `${error?.name ?? "Error"}: ${error?.message ?? error}` });
  }
}
process.stdout.write(JSON.stringify(results));
