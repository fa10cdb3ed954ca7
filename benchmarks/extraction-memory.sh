#!/usr/bin/env bash
# Peak memory of the real exporter (one `export` of the whole window) against the Dify and
# API_Meter simulators, at a small and a large workspace. Extraction streams pages into the
# ledger, so the exporter's peak RSS should stay nearly flat while the event count grows.
# Usage: benchmarks/extraction-memory.sh [small_conversations small_runs large_conversations large_runs]
# Needs GNU time (/usr/bin/time). Prints one line per size and the ratios, measured in this run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
small_conv=${1:-40} small_runs=${2:-60} large_conv=${3:-1600} large_runs=${4:-2400}
dotnet build -c Release src/DifyUsageExporter -v q -nologo >/dev/null
dotnet build -c Release tests/Simulators -v q -nologo >/dev/null
exporter=src/DifyUsageExporter/bin/Release/net10.0/dify-usage-exporter.dll
sims=tests/Simulators/bin/Release/net10.0/Simulators.dll
work=$(mktemp -d)
cleanup() { pkill -f "$sims (dify|meter) --port 53" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

measure() { # name conversations runs dify_port meter_port
    local name=$1 conv=$2 runs=$3 dport=$4 mport=$5
    dotnet "$sims" dify --port "$dport" --seed 11 --conversations "$conv" --runs "$runs" >"$work/$name-dify.txt" 2>&1 &
    local dify_pid=$!
    dotnet "$sims" meter --port "$mport" --token bench-token-0001 >"$work/$name-meter.txt" 2>&1 &
    local meter_pid=$!
    for _ in $(seq 1 3000); do
        grep -q "Press Ctrl+C" "$work/$name-dify.txt" 2>/dev/null && grep -q listening "$work/$name-meter.txt" 2>/dev/null && break
        if ! kill -0 "$dify_pid" 2>/dev/null || ! kill -0 "$meter_pid" 2>/dev/null; then
            echo "a simulator of size $name did not start (port in use?):" >&2
            tail -n 3 "$work/$name-dify.txt" "$work/$name-meter.txt" >&2
            exit 1
        fi
        sleep 0.2
    done
    local events
    events=$(sed -n 's/^Truth ([^)]*): \([0-9]*\) events.*/\1/p' "$work/$name-dify.txt")
    mkdir -p "$work/$name-data"
    env -i PATH="$PATH" HOME="$HOME" DOTNET_NOLOGO=1 ENV_FILE=/dev/null \
        DIFY_API_BASE_URL="http://127.0.0.1:$dport" DIFY_EMAIL=ops@example.com DIFY_PASSWORD='Sim-Password-1!' \
        EXTERNAL_API_URL="http://127.0.0.1:$mport/api/integrations/dify/usage-data/receive" EXTERNAL_API_TOKEN=bench-token-0001 \
        API_METER_TENANT_ID=00000000-0000-4000-8000-000000000b00 DATA_DIR="$work/$name-data" LOG_LEVEL=warn \
        /usr/bin/time -v dotnet "$exporter" export --from 2026-02-28 --to 2026-03-15 >"$work/$name-out.txt" 2>"$work/$name-time.txt"
    local rss seconds
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$name-time.txt")
    seconds=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$name-time.txt")
    kill "$dify_pid" "$meter_pid" 2>/dev/null || true
    wait "$dify_pid" "$meter_pid" 2>/dev/null || true
    grep -q "^Delivered\|Success" "$work/$name-out.txt" "$work/$name-time.txt" || { echo "export at size $name failed:" >&2; cat "$work/$name-time.txt" >&2; exit 1; }
    echo "$name $events $rss $seconds" >"$work/$name.result"
}

measure small "$small_conv" "$small_runs" 5301 5302
measure large "$large_conv" "$large_runs" 5303 5304
read -r _ se sr st <"$work/small.result"
read -r _ le lr lt <"$work/large.result"
awk -v se="$se" -v sr="$sr" -v st="$st" -v le="$le" -v lr="$lr" -v lt="$lt" 'BEGIN {
    printf "%-6s %9s %14s %10s\n", "size", "events", "peak_rss_MiB", "wall"
    printf "%-6s %9d %14.1f %10s\n", "small", se, sr / 1024, st
    printf "%-6s %9d %14.1f %10s\n", "large", le, lr / 1024, lt
    printf "events ratio %.1fx, peak RSS ratio %.2fx\n", le / se, lr / sr
}'
