#!/usr/bin/env bash
# Redirect plain HTTP to HTTPS when the environment serves HTTPS on its load balancer.
# The ctsite template sets the environment property HTTPS_REDIRECT=true when a certificate is
# configured; the load balancer then tells nginx the visitor's scheme in X-Forwarded-Proto.
# /healthz stays reachable over HTTP for the load balancer's health check. Without the
# property (or with false) the redirect file is removed. Amazon Linux 2023 platforms include
# conf.d/elasticbeanstalk/*.conf in the server block; postdeploy runs after the proxy is set up.
# Also run by .platform/confighooks/postdeploy when only the configuration changes.
set -euo pipefail

GET_CONFIG="${EB_GET_CONFIG:-/opt/elasticbeanstalk/bin/get-config}"
CONF_DIR="${NGINX_CONF_DIR:-/etc/nginx/conf.d/elasticbeanstalk}"
CONF="$CONF_DIR/ctsite-https-redirect.conf"

log() { echo "https-redirect: $*"; }
die() {
    echo "https-redirect: ERROR: $*" >&2
    exit 1
}

property() {
    local name="$1"
    if [[ -n "${!name:-}" ]]; then
        printf '%s' "${!name}"
    elif [[ -x "$GET_CONFIG" ]]; then
        "$GET_CONFIG" environment -k "$name" 2>/dev/null || true
    fi
}

reload() {
    nginx -t -q || die "nginx rejected the configuration; see $CONF"
    systemctl reload nginx || die "could not reload nginx"
}

wanted="$(property HTTPS_REDIRECT)"
if [[ "$wanted" != "true" ]]; then
    if [[ -e "$CONF" ]]; then
        rm -f "$CONF"
        reload
        log "HTTPS redirect removed"
    else
        log "HTTPS_REDIRECT is not true; plain HTTP is served"
    fi
    exit 0
fi

mkdir -p "$CONF_DIR"
tmp="$(mktemp "$CONF_DIR/.ctsite-https.XXXXXX")"
cat >"$tmp" <<'NGINX'
# Written by .platform/hooks/postdeploy/https-redirect.sh (HTTPS_REDIRECT=true).
set $ctsite_redirect "";
if ($http_x_forwarded_proto = "http") { set $ctsite_redirect "1"; }
if ($request_uri = "/healthz") { set $ctsite_redirect ""; }
if ($ctsite_redirect) { return 301 https://$host$request_uri; }
NGINX
chmod 644 "$tmp"
mv -f "$tmp" "$CONF"
reload
log "plain HTTP now redirects to HTTPS"
