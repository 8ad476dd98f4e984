#!/usr/bin/env bash
# Sentinel's main job on its embedded default: build, then identify the shipped example
# spectra against the shipped SWGDRUG library — one a known compound measured by another
# laboratory, one a fentanyl analogue searched as if no library held it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" build
cd "$root"
echo "== sentinel identify data/examples/*.jdx"
build/sentinel identify --top 5 data/examples/*.jdx
echo "== the same analogue, as if no library held it: sentinel identify --exclude 'Butyryl fentanyl' ..."
build/sentinel identify --top 5 --exclude 'Butyryl fentanyl' data/examples/butyrylfentanyl-cayman.jdx
