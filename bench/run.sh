#!/usr/bin/env bash
# Runs the benchmarks on SQLite and on a private PostgreSQL server (started and stopped here).
set -euo pipefail
cd "$(dirname "$0")/.."
pg_dir=$(mktemp -d /tmp/collections-bench-pg.XXXXXX)
trap 'scripts/postgres.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
postgres=$(scripts/postgres.sh start "$pg_dir")
dotnet run -c Release --project bench/Collections.Bench -- --postgres "$postgres" "$@"
