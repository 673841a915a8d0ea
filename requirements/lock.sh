#!/bin/sh
# Regenerate the image's lock files (run from anywhere, with pip-tools installed:
# `pip install pip-tools`, on Linux with Python 3.11, the image's Python):
#
#   sh requirements/lock.sh
#
# web.in     the `web` extra of pyproject.toml, written out here (the input of web.lock; a test
#            fails when it no longer matches pyproject.toml)
# web.lock   every package of the runtime image, pinned with the hashes of all its files
# build.lock setuptools and wheel, which build the ctsite wheel in the image's builder stage
#
# The Dockerfile installs them with `pip install --require-hashes --no-deps`, so two builds of the
# same commit install the same files. Extra arguments go to both pip-compile runs (e.g. `--upgrade`
# to move every pin to the newest release the floors allow, `--upgrade-package orjson` for one).
set -eu
cd "$(dirname "$0")/.."
command -v pip-compile >/dev/null || {
    echo "pip-compile not found: pip install pip-tools" >&2
    exit 2
}
python3 - <<'PY'
import pathlib
import tomllib

extra = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]["optional-dependencies"]["web"]
lines = [r for r in extra if not r.startswith("ctsite")]
head = "# The `web` extra of pyproject.toml: written by requirements/lock.sh, do not edit.\n"
pathlib.Path("requirements/web.in").write_text(head + "\n".join(lines) + "\n")
PY
export CUSTOM_COMPILE_COMMAND="sh requirements/lock.sh"
for name in web build; do
    pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
        --no-emit-find-links --output-file "requirements/$name.lock" "requirements/$name.in" "$@"
done
