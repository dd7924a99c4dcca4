#!/usr/bin/env bash
# Render deploy/nginx/templates/*.template into DIR the way the official nginx image does
# at start, then add the image's main nginx.conf (.ci/nginx/nginx.conf):
#   1. source deploy/nginx/docker-entrypoint.d/*.envsh (the image sources them too),
#   2. envsubst with the names of every defined environment variable, so only those
#      ${VAR}s are replaced and nginx's own $variables stay (20-envsubst-on-templates.sh).
# Usage: API_UPSTREAMS=... MAX_BODY_BYTES=... PROXY_PORT=... PROXY_READ_TIMEOUT=... \
#        .ci/render-nginx.sh DIR        then: nginx -p DIR -c DIR/nginx.conf
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: render-nginx.sh DIR}
mkdir -p "$out/conf.d" "$out/tmp"
chmod 755 "$out"
chmod 1777 "$out/tmp"

for envsh in "$ROOT"/deploy/nginx/docker-entrypoint.d/*.envsh; do
    # shellcheck source=/dev/null
    . "$envsh"
done
# shellcheck disable=SC2016,SC2046  # ${...} are for envsubst; one word per name
defined_envs=$(printf '${%s} ' $(awk 'END { for (name in ENVIRON) { print name } }' </dev/null))
for template in "$ROOT"/deploy/nginx/templates/*.template; do
    name=$(basename "$template" .template)
    envsubst "$defined_envs" <"$template" >"$out/conf.d/$name"
done
cp "$ROOT/.ci/nginx/nginx.conf" "$out/nginx.conf"
# Started as root, nginx would run its workers as nobody, who cannot enter the caller's
# private temporary directories to write buffered bodies: keep them as the caller.
if [ "$(id -u)" -eq 0 ]; then
    echo "user root;" >>"$out/nginx.conf"
fi
