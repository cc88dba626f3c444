#!/usr/bin/env bash
# Runs the README's five-minute tour (the bash blocks between <!-- tour:start --> and <!-- tour:end -->) in order
# against a fresh engine, as a person would paste them, and fails on the first refused request or failed command.
# Only the address (a free port instead of 5080) and the data folder (a throwaway one) are changed.
#   scripts/tour.sh            (scripts/test.sh runs it after the tests; it needs the Release build they made)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
silo=src/Silo/bin/Release/net10.0/Collections.Silo.dll
[ -f "$silo" ] || dotnet build -c Release src/Silo -v q >/dev/null

work=$(mktemp -d /tmp/collections-tour.XXXXXX)
# Three different ports below the kernel's ephemeral range (which outgoing connections draw from), free right now.
free_ports() {
    python3 -c '
import random, socket
ports = []
while len(ports) < 3:
    port = random.randrange(12000, 15000)
    try:
        with socket.socket() as s:
            s.bind(("0.0.0.0", port))
        if port not in ports:
            ports.append(port)
    except OSError:
        pass
print(*ports)'
}
read -r port silo_port gateway_port < <(free_ports)
engine_pid=""
cleanup() {
    [ -n "$engine_pid" ] && kill "$engine_pid" 2>/dev/null && wait "$engine_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

dotnet "$silo" --data "$work/data" --urls "http://127.0.0.1:$port" --silo-port "$silo_port" --gateway-port "$gateway_port" > "$work/engine.log" 2>&1 &
engine_pid=$!
for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    kill -0 "$engine_pid" 2>/dev/null || { echo "tour: the engine stopped while starting:" >&2; tail -20 "$work/engine.log" >&2; exit 1; }
    sleep 1
done

awk '/<!-- tour:start -->/ {on=1; next} /<!-- tour:end -->/ {on=0} on && /^```bash/ {block=1; next} on && /^```/ {block=0; print ""; next} block {print}' README.md \
    | sed -e "s#127.0.0.1:5080#127.0.0.1:$port#g" -e "s#data/admin-api-key#$work/data/admin-api-key#g" > "$work/tour.sh"
[ -s "$work/tour.sh" ] || { echo "tour: README.md has no tour blocks" >&2; exit 1; }

if (cd "$repo" && bash -euo pipefail "$work/tour.sh") > "$work/tour.out" 2>&1; then
    [ "${TOUR_SHOW:-}" = 1 ] && cat "$work/tour.out"
    echo "tour: the README's tour ran top to bottom against a fresh engine" >&2
else
    echo "tour: the README's tour failed; its output:" >&2
    cat "$work/tour.out" >&2
    exit 1
fi
