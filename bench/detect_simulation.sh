#!/usr/bin/env bash
# Detection quality on the Noufaily et al. (2013) simulation design, Sentinel beside R
# (docs/detect_simulation.md). Builds nothing: build the bench first with
#   cmake --build build -j1 --target detect_simulation_bench
#
#   bench/detect_simulation.sh [build-dir] [replicates] [R replicates] [threads] [bench flags...]
#
# Sentinel simulates `replicates` (default 100) series per scenario, writes them to
# <build-dir>/detect_simulation/ and judges them all. When Rscript and the surveillance package
# are installed, R judges the first `R replicates` (default 5) of each scenario from the same
# files, and its FPR, POD and alarms are printed beside Sentinel's on those series. Further
# arguments go to the bench (e.g. --variants: Noufaily settings that only Sentinel judges).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
replicates=${2:-100}
r_replicates=${3:-5}
threads=${4:-2}
data=$build/detect_simulation

if [[ ! -x $build/detect_simulation_bench ]]; then
  echo "no $build/detect_simulation_bench; build the detect_simulation_bench target first" >&2
  exit 1
fi

started=$(date +%s.%N)
"$build/detect_simulation_bench" --replicates="$replicates" --threads="$threads" --out="$data" \
  "${@:5}"
printf 'Sentinel: %.1f s in all, simulation and files included\n' "$(echo "$(date +%s.%N) - $started" | bc)"

if ! command -v Rscript >/dev/null ||
    ! Rscript -e 'quit(status = !requireNamespace("surveillance", quietly = TRUE))' 2>/dev/null; then
  echo "R with the surveillance package is not installed: no comparison with R"
  exit 0
fi
started=$(date +%s.%N)
Rscript "$root/scripts/r/noufaily_simulation.R" "$data" "$r_replicates" "$threads"
printf 'R: %.1f s in all\n' "$(echo "$(date +%s.%N) - $started" | bc)"
