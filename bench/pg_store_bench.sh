#!/usr/bin/env bash
# store_bench on PostgreSQL 15: starts a throwaway cluster (Debian's postgresql-15 binaries,
# fsync on, the server's defaults otherwise) on a free loopback port, makes the two empty
# databases store_bench writes, runs it, and removes the cluster.
#   bench/pg_store_bench.sh [build-dir] [store_bench options...]
# PG_SERVER_OPTIONS adds server settings, e.g. "-c synchronous_commit=off" to load a large
# history quickly when the figure wanted is a read's (the import rate is then not a durable one).
# BENCH_KEEP=1 leaves the cluster running with its databases, for store_bench --existing=URI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d)
as_postgres=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root.
  chown postgres "$work"
  as_postgres=(runuser -u postgres --)
fi
cleanup() {
  if [ -n "${BENCH_KEEP:-}" ]; then
    # Left running for store_bench --existing=URI; pg_ctl stop -D DIR/data ends it.
    echo "cluster kept in $work: postgresql://postgres@127.0.0.1:${port:-}/bulk" >&2
    return
  fi
  "${as_postgres[@]}" "$bin/pg_ctl" stop -D "$work/data" -m fast -w >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${as_postgres[@]}" "$bin/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --locale=C \
  >"$work/initdb.log"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_postgres[@]}" "$bin/pg_ctl" start -w -D "$work/data" -l "$work/server.log" \
  -o "-p $port -k '$work' -c listen_addresses=127.0.0.1 -c shared_buffers=512MB ${PG_SERVER_OPTIONS:-}" \
  >/dev/null
for db in naive bulk; do
  "${as_postgres[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
done
"$build/store_bench" --postgres="postgresql://postgres@127.0.0.1:$port/" "$@"
