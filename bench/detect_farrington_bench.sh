#!/usr/bin/env bash
# Farrington throughput against R: runs build/detect_farrington_bench (100,000 series on two
# threads, and its first --baseline series on one), then, where Rscript and the surveillance
# package are installed, R's farringtonFlexible on those same baseline series, and prints the
# ratio of Sentinel's one-thread rate to R's and whether both raise the same number of alarms.
#   bench/detect_farrington_bench.sh [build-dir] [detect_farrington_bench options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/detect_farrington_bench" --baseline=500 "$@" --write-series="$work/series.csv" |
  tee "$work/ours.txt"
if ! command -v Rscript >/dev/null || ! Rscript -e 'library(surveillance)' >/dev/null 2>&1; then
  echo "R with the surveillance package is not installed: no ratio against R"
  exit 0
fi
echo "R surveillance $(Rscript -e 'cat(as.character(packageVersion("surveillance")))'):" \
  "farringtonFlexible on the same baseline series"
Rscript "$root/scripts/r/farrington_speed.R" "$work/series.csv" >"$work/r.txt"
while read -r preset n seconds r_alarms; do
  read -r ours ours_alarms < <(sed -n "s/^ *$preset *1 thread *: *\([0-9.]*\) series\/s ([0-9]* series; \([0-9]*\) alarms)/\1 \2/p" "$work/ours.txt")
  awk -v p="$preset" -v n="$n" -v s="$seconds" -v ours="$ours" -v a="$r_alarms" -v oa="$ours_alarms" 'BEGIN {
    r = n / s
    printf "  %-9s R: %7.0f series/s (%d series in %.2f s; %d alarms); Sentinel 1 thread: %.0f series/s (%d alarms): %.0fx R%s\n",
      p, r, n, s, a, ours, oa, ours / r, (a == oa ? "" : "  ALARM COUNTS DIFFER")
  }'
done <"$work/r.txt"
