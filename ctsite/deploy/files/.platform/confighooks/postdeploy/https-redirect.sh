#!/usr/bin/env bash
# Configuration-only deployments (an option or property change) run confighooks, not hooks:
# apply the same HTTPS redirect as a full deployment.
set -euo pipefail
exec bash "$(dirname "$0")/../../hooks/postdeploy/https-redirect.sh"
