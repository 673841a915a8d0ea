// The figures' default parameters (the `_defaults` of ctsite/figures/circos.py, pairwise.py and
// effects.py, and `default_fdr` / `default_cell_type` of params.py), resolved against a Store.
//
// The study-specific fallbacks (the CIN study's seeds and cell types, used when the store has no
// compiled figure defaults) come from the index's spec (`default_fallbacks`), the choices the
// compile made from `store.figure_defaults`; the numbers below are the Python modules' own, kept
// equal by the conformance tests (tests/engine/test_params.py compares every figure's defaults
// with Python's on the demo, the tiny, a study-scale and generated stores).

/** params.default_fdr: `wanted` if the store precomputed it, else the nearest threshold. */
export function default_fdr(store, wanted) {
  const thresholds = store.thresholds;
  for (const t of thresholds) if (Math.abs(t - wanted) < 1e-9) return t;
  let best = thresholds[0];
  for (const t of thresholds) if (Math.abs(t - wanted) < Math.abs(best - wanted)) best = t;
  return best; // min() keeps the first of equally near thresholds
}

/** params.default_cell_type: the preferred cell type if the store has it, else the index-th. */
export function default_cell_type(store, preferred, index) {
  if (store.cell_types.includes(preferred)) return preferred;
  const types = store.cell_types;
  return types[Math.min(index, types.length - 1)];
}

function fallbacks(store) {
  return store.spec.default_fallbacks;
}

function circos(store) {
  return {
    condition: store.default_condition().name,
    fdr_i: default_fdr(store, 0.25),
    fdr_l: default_fdr(store, 0.05),
    min_numsigi1: 10,
    min_numdeg: 0,
    min_log2fc: 0.12,
    genes: [],
  };
}

function pairwise(store) {
  const chosen = store.figure_defaults;
  const preferred = fallbacks(store).pairwise_cell_types;
  return {
    condition: store.default_condition().name,
    cell_type1: default_cell_type(store, chosen ? chosen.pairwise_cell_type1 : preferred[0], 0),
    cell_type2: default_cell_type(store, chosen ? chosen.pairwise_cell_type2 : preferred[1], 1),
    cell_type3: null,
    bidirectional: false,
    fdr_i: default_fdr(store, 0.25),
    fdr_l: default_fdr(store, 0.05),
    min_numsigi1: 10,
    min_expression: 0.0,
    min_log2fc: 0.12,
  };
}

/** effects._default_seeds */
function defaultSeeds(store) {
  const chosen = store.figure_defaults;
  const known = new Set(store.genes);
  if (chosen && chosen.effects_seeds.length && chosen.effects_seeds.every((g) => known.has(g))) {
    return [...chosen.effects_seeds];
  }
  const seeds = fallbacks(store).effects_seeds.filter((g) => known.has(g));
  if (seeds.length) return seeds;
  const first = store.genes.find((g) => store.receptors_of(g).length > 0);
  return first ? [first] : store.genes.slice(0, 1);
}

function effects(store) {
  const chosen = store.figure_defaults;
  return {
    condition: store.default_condition(true).name,
    cell_type: default_cell_type(
      store,
      chosen ? chosen.effects_cell_type : fallbacks(store).effects_cell_type,
      0,
    ),
    seeds: defaultSeeds(store),
    fdr_i: default_fdr(store, 0.05),
    min_log2fc: 0.12,
    min_expression: 0.0,
    fdr_l: default_fdr(store, 0.05),
    steps: 2,
  };
}

const DEFAULT_FNS = { circos, pairwise, effects };

/** FigureSpec.defaults: the figure's defaults for this store (with the first width class, for
 * a figure laid out per class). */
export function figureDefaults(name, store) {
  const make = DEFAULT_FNS[name];
  const figure = store.spec.figures[name];
  if (!make || !figure) throw new Error(`unknown figure ${name}`);
  const values = make(store);
  return figure.sizes.length ? { ...values, size: figure.sizes[0] } : values;
}
