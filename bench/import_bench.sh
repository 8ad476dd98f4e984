#!/usr/bin/env bash
# `sentinel import` end to end (read, parse, validate, resolve substances, store, summary) on a
# generated JSON Lines file of one organisation, into a fresh SQLite node; then the same file
# again, every row a replay (the idempotent re-run an operator makes after an interruption):
# everything but storing, as the baseline in the same run.
#   bench/import_bench.sh [build-dir] [rows]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rows=${2:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$rows" >"$work/history.jsonl" <<'PY'
import json, random, sys
random.seed(7)
substances = ["Fentanyl", "Xylazine", "Heroin", "Carfentanil", "Bromazolam", "Cocaine",
              "Methamphetamine", "Protonitazene", "Metonitazene", "Acetylfentanyl",
              "Para-fluorofentanyl", "Medetomidine", "MDMB-4en-PINACA", "Alpha-PVP",
              "N-ethylpentylone"]
places = ["US-OH", "US-KY", "US-IN", "US-MI", "US-PA", "US-WV"]
for i in range(int(sys.argv[1])):
    body = {"kind": "seizure", "idempotency_key": f"imp-{i}",
            "distribution": random.choice(["national", "everyone", "organisation", "trusted_group"]),
            "date": f"{random.choice([2023, 2024, 2025])}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}",
            "place": {"country": "US", "subdivision": random.choice(places)},
            "substances": [{"name": s} for s in random.sample(substances, random.choice([1, 1, 1, 2]))],
            "form": random.choice(["powder", "tablet", "liquid", "blotter", "herbal"])}
    print(json.dumps(body))
PY
db=$work/node.db
"$build/sentinel" admin organisation --db "$db" --id bench-lab --name "Bench lab" --country US >/dev/null
run() {
  local t0 t1
  t0=$(date +%s.%N)
  "$build/sentinel" import --db "$db" --organisation bench-lab "$work/history.jsonl" 2>"$work/err" >"$work/out"
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)"
}
first=$(run)
summary=$(cat "$work/out")
again=$(run)
printf 'import benchmark (%s JSON Lines rows, one organisation, SQLite)\n' "$rows"
printf '  sentinel import, new rows   : %8.0f reports/s (%.2f s; %s)\n' \
  "$(python3 -c "print($rows / $first)")" "$first" "$summary"
printf '  the same again, all replays : %8.0f reports/s (%.2f s; %s)\n' \
  "$(python3 -c "print($rows / $again)")" "$again" "$(cat "$work/out")"
printf '  storing takes %.0f %% of the import\n' "$(python3 -c "print(100 * ($first - $again) / $first)")"
