#!/usr/bin/env bash
# Live detection under load on the demo node (150,000 reports from 451 organisations in 27
# countries, about 60 substances): clients post reports for a while, and a US analyst watches for
# the signals of the first detections mixed into them (bench/live_detection_bench.cc). The
# baseline, timed in the same run, is what a node without live detection would do to find the
# same signals: judge the whole node again (`sentinel detect --db`, first detection and
# Noufaily, on every core).
#   bench/live_detection.sh [build-dir] [seconds] [clients] [rates...]
# Each rate (reports a second, all clients together; 0: as fast as the server answers) is one run
# of SECONDS, on a fresh copy of the node; default: 50 200 0.
# SENTINEL_DEMO_DB=FILE starts from a copy of an existing demo database instead of seeding one;
# SENTINEL_DETECT=LIST runs those live detectors instead of the server's default ones.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
seconds=${2:-20}
clients=${3:-8}
shift 3 2>/dev/null || shift $#
rates=("$@")
[[ ${#rates[@]} -gt 0 ]] || rates=(50 200 0)
work=$(mktemp -d)
server=
trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
db=$work/node.db

wait_for_url() {
  for _ in $(seq 3000); do grep -q "serving" "$1" 2>/dev/null && break; sleep 0.1; done
  sed -n 's/.* at \(http:[^ ]*\)\/api\/v1.*/\1/p' "$1"
}

if [[ -n "${SENTINEL_DEMO_DB:-}" ]]; then
  cp "$SENTINEL_DEMO_DB" "$db"
  [[ -f "$SENTINEL_DEMO_DB.key" ]] && cp "$SENTINEL_DEMO_DB.key" "$db.key"
else
  echo "== seeding the demo node (150,000 reports)" >&2
  "$build/sentinel" serve --demo --db "$db" --listen 127.0.0.1:0 --detect none \
    >"$work/seed.out" 2>"$work/seed.err" &
  server=$!
  wait_for_url "$work/seed.out" >/dev/null
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
fi
reports=$(sqlite3 "$db" 'select count(*) from reports')
countries=$(sqlite3 "$db" 'select count(distinct country) from organisations')
us=($(sqlite3 "$db" "select id from organisations where country = 'US' order by id limit 2"))
reporter=$("$build/sentinel" admin token --db "$db" --organisation "${us[0]}" --user bench --role reporter 2>/dev/null)
analyst=$("$build/sentinel" admin token --db "$db" --organisation "${us[1]}" --user bench --role analyst 2>/dev/null)

cp "$db" "$work/pristine.db"
worst=0
for rate in "${rates[@]}"; do
  cp "$work/pristine.db" "$db"
  rm -f "$db-wal" "$db-shm"
  detect=(${SENTINEL_DETECT:+--detect "$SENTINEL_DETECT"})
  echo "== live detection (${SENTINEL_DETECT:-default detectors}), $clients clients, ${rate:-0} reports/s offered (0: flat out), $seconds s" >&2
  "$build/sentinel" serve --db "$db" --listen 127.0.0.1:0 "${detect[@]}" >"$work/out" 2>"$work/err" &
  server=$!
  url=$(wait_for_url "$work/out")
  "$build/live_detection_bench" "$url" "$reporter" "$analyst" "$seconds" "$clients" 10 "$rate" |
    tee "$work/live.txt" || true
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
  p99=$(sed -n 's/^p99_ms=\(.*\)/\1/p' "$work/live.txt")
  [[ "$rate" != 0 ]] && worst=$(awk -v a="$worst" -v b="$p99" 'BEGIN { print (b > a ? b : a) }')
done
p99=$worst

echo "== baseline: judging the whole node again (as it was before the runs)" >&2
cp "$work/pristine.db" "$db"
rm -f "$db-wal" "$db-shm"
start=$(date +%s.%N)
"$build/sentinel" detect --db "$db" --method first --signals >/dev/null
"$build/sentinel" detect --db "$db" --method noufaily --signals >/dev/null
end=$(date +%s.%N)
printf 'demo node: %s reports, %s countries (audiences)\n' "$reports" "$countries"
awk -v s="$start" -v e="$end" -v p="$p99" 'BEGIN {
  printf "baseline (sentinel detect --db, first + noufaily, all cores): %.1f s per pass\n", e - s
  printf "ratio baseline / live p99 (worst paced run): %.0fx\n", (e - s) * 1000 / p }'
