#!/usr/bin/env bash
# Single-report POSTs against a real `sentinel serve` on loopback, measured with wrk, against
# the HTTP layer's own ceiling (GET /health, which touches no storage) in the same run.
# Each POST is a distinct seizure report (its own idempotency key) and is acknowledged only
# once durable (SQLite WAL, synchronous=FULL, group commit).
#   bench/http_bench.sh [build-dir] [seconds] [connections]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
seconds=${2:-15}
connections=${3:-64}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
db=$work/node.db
"$build/sentinel" admin organisation --db "$db" --id bench-lab --country US >/dev/null
token=$("$build/sentinel" admin token --db "$db" --organisation bench-lab --user wrk --role reporter 2>/dev/null)
"$build/sentinel" serve --db "$db" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 300); do grep -q "serving" "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.* at \(http:[^ ]*\)\/api\/v1.*/\1/p' "$work/out")
cat >"$work/post.lua" <<LUA
-- thread_id is set per wrk thread by setup() (a global of that thread's Lua state), so
-- every request carries its own idempotency key.
local counter = 0
local substances = {"Fentanyl", "Xylazine", "Heroin", "Carfentanil", "Bromazolam", "Cocaine"}
thread_serial = 1
function setup(thread)
  thread:set("thread_id", tostring(thread_serial))
  thread_serial = thread_serial + 1
end
request = function()
  counter = counter + 1
  local body = string.format(
    '{"kind":"seizure","idempotency_key":"wrk-%s-%d","distribution":"national",' ..
    '"date":"2026-03-%02d","place":{"country":"US","subdivision":"US-OH"},' ..
    '"substances":[{"name":"%s"}],"form":"powder"}',
    thread_id, counter, 1 + counter % 28, substances[1 + counter % #substances])
  return wrk.format("POST", "/api/v1/reports",
    {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"}, body)
end
LUA
threads=2
echo "== GET /health (no storage): the HTTP layer's ceiling" >&2
wrk -t$threads -c$connections -d${seconds}s --latency "$url/health" >"$work/health.txt"
echo "== POST /api/v1/reports, one report per request, durable before the answer" >&2
wrk -t$threads -c$connections -d${seconds}s --latency -s "$work/post.lua" "$url" >"$work/post.txt"
rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$1"; }
non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$work/post.txt")
stored=$(curl -s -H "Authorization: Bearer $token" "$url/api/v1/reports?limit=1" >/dev/null; sqlite3 "$db" 'select count(*) from reports' 2>/dev/null || echo "?")
printf 'http benchmark (%s s, %s connections, %s wrk threads, loopback)\n' "$seconds" "$connections" "$threads"
printf '  GET /health          : %10.0f requests/s, p99 %s\n' "$(rate "$work/health.txt")" "$(p99 "$work/health.txt")"
printf '  POST /api/v1/reports : %10.0f reports/s,  p99 %s (%s non-2xx; %s stored)\n' \
  "$(rate "$work/post.txt")" "$(p99 "$work/post.txt")" "${non2xx:-0}" "$stored"
awk -v a="$(rate "$work/post.txt")" -v b="$(rate "$work/health.txt")" \
  'BEGIN { printf "  ratio POST / GET /health: %.2f\n", a / b }'
