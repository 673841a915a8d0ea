#!/bin/sh
# Make a local Python base image for the image tests, without pulling from any registry.
#
# debootstrap a minimal Debian bookworm rootfs with python3 + venv, add this machine's CA bundle
# (so pip inside `docker build --network host` can reach the package index), and `docker import`
# it as IMAGE. The rootfs tarball is cached in CACHE_DIR so re-runs take seconds.
#
# usage: make_base_image.sh [IMAGE] [CACHE_DIR]
#   IMAGE      default ctsite-test-base:bookworm
#   CACHE_DIR  default /var/tmp/ctsite-test-base
# Needs root, debootstrap, a Debian mirror reachable (DEBIAN_MIRROR) and a running Docker engine.
set -eu

IMAGE="${1:-ctsite-test-base:bookworm}"
CACHE_DIR="${2:-/var/tmp/ctsite-test-base}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${DEBIAN_SUITE:-bookworm}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
TARBALL="$CACHE_DIR/rootfs-$SUITE.tar"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE already present"
    exit 0
fi

mkdir -p "$CACHE_DIR"
if [ ! -s "$TARBALL" ]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is not installed" >&2; exit 2; }
    ROOTFS="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
    trap 'rm -rf "$ROOTFS" "$TARBALL.tmp"' EXIT
    echo "debootstrap $SUITE into $ROOTFS (about a minute)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$ROOTFS" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 || {
        tail -20 "$CACHE_DIR/debootstrap.log" >&2
        exit 1
    }
    if [ -f "$CA_BUNDLE" ]; then
        cp "$CA_BUNDLE" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
    fi
    # Trim what a container never uses: apt lists and caches, docs, man pages, locales.
    rm -rf "$ROOTFS/var/cache/apt/"* "$ROOTFS/var/lib/apt/lists/"* \
        "$ROOTFS/usr/share/doc/"* "$ROOTFS/usr/share/man/"* "$ROOTFS/usr/share/info/"* \
        "$ROOTFS/usr/share/locale/"* "$ROOTFS/var/log/"*
    tar --numeric-owner -C "$ROOTFS" -cf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
fi

echo "docker import $TARBALL as $IMAGE"
docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' \
    -c 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    -c 'CMD ["python3"]' \
    "$TARBALL" "$IMAGE" >/dev/null
echo "base image $IMAGE ready"
