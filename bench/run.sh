#!/usr/bin/env bash
# Runs the benchmarks on SQLite and on a private PostgreSQL server (started and stopped here), then the scoring
# benchmark (bench/Scoring.Bench: no database). `bench/run.sh scoring [options]` runs the scoring benchmark only.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "scoring" ]]; then
  shift
  exec dotnet run -c Release --project bench/Scoring.Bench -- "$@"
fi
pg_dir=$(mktemp -d /tmp/collections-bench-pg.XXXXXX)
trap 'scripts/postgres.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
postgres=$(scripts/postgres.sh start "$pg_dir")
# The engine's collector as the image ships it (src/ContainerImage.props): workstation (the bench's project file) with
# a 64 MiB gen0 budget. The runtime reads this one from the environment only, so a bare `dotnet run` of the bench
# measures the default budget unless it sets it too.
DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x4000000}" dotnet run -c Release --project bench/Collections.Bench -- --postgres "$postgres" "$@"
dotnet run -c Release --project bench/Scoring.Bench
