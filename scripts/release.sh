#!/usr/bin/env bash
# Build ctsite's release artefacts into dist/: the wheel and the sdist of the version in
# ctsite/__init__.py (__version__), each carrying the partial plotly.js bundle and the
# deployment files. Run from anywhere:  bash scripts/release.sh
#
# 1. CHANGELOG.md must have an entry for the version (its `## VERSION` heading).
# 2. The plotly.js bundle is built from the npm registry (web-assets/: npm ci, npm run build).
# 3. `python -m build` makes the sdist, then the wheel from it (ctsite's build backend,
#    tools/ctsite_build.py, refuses to build either without the bundle).
set -euo pipefail
cd "$(dirname "$0")/.."

version="$(python3 -P -c 'import sys; sys.path.insert(0, "."); import ctsite; print(ctsite.__version__)')"
if ! grep -q "^## ${version//./\\.}\b" CHANGELOG.md; then
  echo "release: CHANGELOG.md has no '## ${version}' entry; add one before building ${version}" >&2
  exit 1
fi

echo "== plotly.js bundle (web-assets/, from the npm registry)"
command -v npm >/dev/null || { echo "release: npm is needed to build the plotly.js bundle" >&2; exit 1; }
npm ci --prefix web-assets --no-audit --no-fund --loglevel=error
npm run --prefix web-assets build

echo "== sdist and wheel of ctsite ${version}"
python3 -m build --outdir dist .
ls -l "dist/ctsite-${version}.tar.gz" "dist/ctsite-${version}-py3-none-any.whl"
