# The slim production image of the ContactTracing website.
#
# builder: installs requirements/web.lock (the `web` extra of pyproject.toml, locked with hashes by
#          `sh requirements/lock.sh`) into a virtualenv: no resolving at build time, every file
#          checked against its hash, so two builds of one commit install the same packages (plain
#          `pip install ctsite[web]` would pull the whole CLI). It trims what a server never uses,
#          then copies the ctsite package folder to /opt/ctsite/ctsite (no wheel build: a context
#          `ctsite build-push` assembles outside the source tree holds the running package, not
#          its pyproject.toml, so the image runs the very ctsite that built it). The dependency
#          layers come first: a code change rebuilds in seconds.
# runtime: the base image + that virtualenv + /opt/ctsite (on PYTHONPATH); gunicorn on port 8000
#          as a non-root user, reading the compiled store from the volume /app/data.
# bundle:  the partial plotly.js bundle (web-assets/: pinned plotly.js + esbuild from the npm
#          registry), so the pages load only the traces they draw; node is needed at build time only.
# Build with `ctsite build-push`. BASE_IMAGE can be swapped (tests use a debootstrapped Debian).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS bundle
ARG CTSITE_IMAGE=ct-site
LABEL io.ctsite.managed=true io.ctsite.image=${CTSITE_IMAGE}
RUN command -v npm >/dev/null \
    || (apt-get update -qq \
        && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
        && rm -rf /var/lib/apt/lists/*)
WORKDIR /web-assets
COPY web-assets/package.json web-assets/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web-assets/entry.js web-assets/build.mjs ./
RUN node build.mjs --plotly-only /out/plotly-partial.min.js

FROM ${BASE_IMAGE} AS builder
# ctsite build-push passes the image name: `--prune` then finds this stage's cache too.
ARG CTSITE_IMAGE=ct-site
LABEL io.ctsite.managed=true io.ctsite.image=${CTSITE_IMAGE}
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# binutils (for strip) and a build-only virtualenv for the wheel tools. When apt cannot reach
# a mirror, the libraries are simply left unstripped.
RUN (command -v strip >/dev/null \
        || (apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils >/dev/null) \
        || echo "binutils unavailable: libraries will not be stripped") \
    && python3 -m venv /opt/build
COPY requirements/build.lock requirements/web.lock ./requirements/
# Exactly the locked packages (--no-deps: nothing resolved here; `pip check` proves the lock
# complete). The runtime virtualenv has no pip, setuptools or wheel of its own.
RUN /opt/build/bin/pip install --require-hashes --no-deps -r requirements/build.lock \
    && python3 -m venv --without-pip /opt/venv \
    && /opt/build/bin/pip --python /opt/venv/bin/python3 install --require-hashes --no-deps -r requirements/web.lock \
    && /opt/build/bin/pip --python /opt/venv/bin/python3 check
# Trim what a server never uses (about 130 MB): test suites, type stubs, C headers and
# sources; pyarrow's Flight/S3/GCS/Azure/HDFS modules, duplicate library copies and debug
# symbols (not numpy.libs: auditwheel-patched libraries break when stripped); plotly's Jupyter
# bundles and the byte-code of its generated graph_objs/validators (lazily imported: compiling
# the few used costs ~0.1 s per worker start).
RUN set -eu; \
    cd "$(/opt/venv/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
    find . -depth -type d -name tests -exec rm -rf {} +; \
    find . -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.pyi' \
        -o -name '*.h' -o -name '*.hpp' -o -name '*.c' -o -name '*.cpp' \) -delete; \
    rm -rf pyarrow/include pyarrow/src pyarrow/_pyarrow_cpp_tests* \
        pyarrow/*flight* pyarrow/_s3fs* pyarrow/libarrow_s3* pyarrow/_gcsfs* \
        pyarrow/_azurefs* pyarrow/_hdfs* \
        plotly/labextension plotly/package_data/widgetbundle.js; \
    python3 -c "import filecmp, pathlib, re; d = pathlib.Path('pyarrow'); [(o.unlink(), o.symlink_to(k.name)) for k in d.glob('lib*.so.*') if re.fullmatch(r'lib\w*\.so\.\d+', k.name) for o in d.glob(k.name.split('.so')[0] + '.so*') if o != k and not o.is_symlink() and filecmp.cmp(k, o, shallow=False)]"; \
    if command -v strip >/dev/null; then \
        find pyarrow -type f -name 'lib*.so*' -exec strip --strip-unneeded {} +; \
    fi; \
    find plotly/graph_objs plotly/validators -type d -name __pycache__ -exec rm -rf {} +; \
    du -sh /opt/venv
# ctsite itself goes to /opt/ctsite, its own small layer: a code change neither rebuilds nor
# re-pushes the 250 MB of dependencies. Byte-compiled here: the non-root user cannot write it.
COPY ctsite/ /opt/ctsite/ctsite/
RUN /opt/venv/bin/python3 -m compileall -q /opt/ctsite \
    && PYTHONPATH=/opt/ctsite /opt/venv/bin/python3 -c "import ctsite.web.app"

FROM ${BASE_IMAGE} AS runtime
ARG CTSITE_IMAGE=ct-site
LABEL io.ctsite.managed=true \
      io.ctsite.image=${CTSITE_IMAGE} \
      org.opencontainers.image.title="ctsite" \
      org.opencontainers.image.description="ContactTracing results website (serves a compiled store)"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/ctsite \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CTSITE_DATA_DIR=/app/data \
    CTSITE_COMPILED_DIR=/app/data/compiled \
    WEB_CONCURRENCY=2 \
    GUNICORN_THREADS=4 \
    GUNICORN_TIMEOUT=60
RUN groupadd --system --gid 10001 ctsite \
    && useradd --system --uid 10001 --gid ctsite --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin ctsite \
    && mkdir -p /app/data \
    && chown -R ctsite:ctsite /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/ctsite /opt/ctsite
COPY --from=bundle /out/plotly-partial.min.js /opt/ctsite/ctsite/web/static/vendor/
WORKDIR /app
USER ctsite
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# --no-control-socket: gunicorn 25.1 and newer otherwise open a control socket for `gunicornc`
# ($HOME/.gunicorn/gunicorn.ctl) that the site never uses (the locked gunicorn has the flag).
CMD ["/bin/sh", "-c", "exec gunicorn --bind 0.0.0.0:8000 --workers \"$WEB_CONCURRENCY\" --threads \"$GUNICORN_THREADS\" --timeout \"$GUNICORN_TIMEOUT\" --no-control-socket --access-logfile - --error-logfile - 'ctsite.web.app:create_app()'"]
