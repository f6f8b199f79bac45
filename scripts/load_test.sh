#!/usr/bin/env bash
# Load test of `fashionlab serve` with wrk: the runs list, then 10,000 predictions of a JPEG; the server's
# memory (VmRSS from /proc) before and after.
#   scripts/load_test.sh RUNS_DIR RUN_ID [PHOTO.jpg]
set -euo pipefail
runs=$1 run=$2 photo=${3:-Tests/FashionServeTests/Fixtures/trouser.jpg}
binary=${FASHIONLAB:-.build/release/fashionlab}
port=${PORT:-8791}
"$binary" serve --runs "$runs" --port "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 1.5
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$server/status; }
lua=$(mktemp --suffix=.lua)
cat > "$lua" <<LUA
local f = io.open("$photo", "rb"); local body = f:read("*all"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "image/jpeg"
LUA
echo "server memory at start: $(rss)"
echo "== GET /api/runs, 10 s, 2 threads, 16 connections"
wrk -t2 -c16 -d10s --latency "http://127.0.0.1:$port/api/runs" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors|requests in"
echo "server memory before the predictions: $(rss)"
# wrk runs for a time, not a count: 20 s gives well over 10,000 predictions of a small MLP on 2 cores (the count is shown).
echo "== POST /api/predict?run=$run, 20 s (2 threads, 4 connections)"
wrk -t2 -c4 -d20s --latency -s "$lua" "http://127.0.0.1:$port/api/predict?run=$run" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket errors|requests in"
echo "server memory after the predictions: $(rss)"
rm -f "$lua"
