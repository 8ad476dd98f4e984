#!/usr/bin/env bash
# Sentinel's main job on its embedded default: build, then serve the report API on a local
# demo database (sentinel-demo/, created with a generated multi-year history on first start)
# and print its URL and an API token. Stop it with Ctrl-C; it starts at once the next time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" build
cd "$root"
exec build/sentinel serve --demo --listen "${SENTINEL_LISTEN:-127.0.0.1:8080}"
