#!/usr/bin/env bash
# Runs every test of the solution. On a fresh machine it first installs what the tests need
# (PostgreSQL, Chromium and ChromeDriver, podman and docker-registry from Debian's packages) and starts a private PostgreSQL
# server on a free port, which it stops again afterwards, whatever happens.
#
#   scripts/test.sh                 all tests
#   scripts/test.sh --filter X      extra arguments go to `dotnet test`
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir=$(mktemp -d /tmp/collections-test-pg.XXXXXX)
cleanup() {
    scripts/postgres.sh stop "$pg_dir" || true
    rm -rf "$pg_dir"
}
trap cleanup EXIT

scripts/browser.sh install
scripts/images.sh --install   # the container tests build the images and run them with podman
COLLECTIONS_TEST_POSTGRES=$(scripts/postgres.sh start "$pg_dir")
export COLLECTIONS_TEST_POSTGRES
echo "test.sh: PostgreSQL is up for the tests" >&2

# -m:1 keeps test projects from building and running in parallel on a small machine.
log=$(mktemp /tmp/collections-test-log.XXXXXX)
status=0
dotnet test Collections.sln -c Release -m:1 "$@" 2>&1 | tee "$log" || status=$?

# One closing line over all test assemblies, e.g. "tests: 120 passed, 0 failed, 0 skipped".
awk '/(Passed|Failed)! +- +Failed:/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "Failed:") failed += $(i+1); if ($i == "Passed:") passed += $(i+1); if ($i == "Skipped:") skipped += $(i+1)
        }
        found = 1
     }
     END { if (found) printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
# A build error leaves some projects untested: the count above would look clean, so say so.
if [ "$status" -ne 0 ]; then
    errors=$(grep -cE ': error [A-Z]+[0-9]+:' "$log" || true)
    echo "test.sh: dotnet test exited with $status ($errors build error line(s); a project that did not build ran no tests): not green" >&2
fi
rm -f "$log"
# The README's tour, pasted top to bottom against a fresh engine: a README that rots fails the run.
if [ "$status" -eq 0 ]; then
    scripts/tour.sh || status=$?
fi
if [ -d artifacts/screenshots ]; then
    echo "test.sh: screenshots of the pages the browser tests visited are in artifacts/screenshots/" >&2
fi
exit "$status"
