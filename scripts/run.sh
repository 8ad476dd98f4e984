#!/usr/bin/env bash
# Sentinel's main job on its embedded default: build, then identify the shipped example
# spectra against the shipped SWGDRUG library, search one of them as if it were a new
# analogue that no library holds, and classify the example structures under UN, US, CN and UK
# law with the shipped knowledge base and class rules.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" build
cd "$root"
echo "== build/sentinel identify --top 5 data/examples/*"
build/sentinel identify --top 5 data/examples/*.jdx data/examples/*.txt
echo "== build/sentinel identify --top 5 --exclude Carfentanil data/examples/seizure-tablet-carfentanil.jdx"
build/sentinel identify --top 5 --exclude Carfentanil data/examples/seizure-tablet-carfentanil.jdx
echo "== build/sentinel classify data/examples/seized-structures.smi"
build/sentinel classify data/examples/seized-structures.smi
