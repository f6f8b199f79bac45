#!/usr/bin/env bash
# Kills training at random moments (kill -9), resumes each run with `fashionlab train --resume`, and
# compares the final weights with an uninterrupted run of the same configuration.
#   scripts/fault_test.sh [RUNS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
fashionlab=.build/release/fashionlab
[ -x "$fashionlab" ] || swift build -c release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(train --subset 6000 --hidden 128 --optimizer adam --lr 0.001 --epochs 12 --seed 7 --quiet --json)

digest() { grep -o '"weights_sha256":"[0-9a-f]*"' | cut -d'"' -f4; }

expected=$("$fashionlab" "${args[@]}" --out "$work/reference" | digest)
start=$(date +%s.%N); "$fashionlab" "${args[@]}" --out "$work/timing" >/dev/null
duration=$(echo "$(date +%s.%N) - $start" | bc)
echo "reference weights: $expected (one run takes ${duration}s)"

kills=0 mismatches=0 resumed_from_scratch=0
for run in $(seq 1 "$runs"); do
  directory="$work/run-$run"
  "$fashionlab" "${args[@]}" --out "$directory" >/dev/null 2>&1 &
  pid=$!
  delay=$(echo "scale=3; $duration * $RANDOM / 32768" | bc)
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  if [ -f "$directory/checkpoint.safetensors" ]; then
    actual=$("$fashionlab" train --resume "$directory" --quiet --json | digest)
  else
    resumed_from_scratch=$((resumed_from_scratch + 1))   # killed before the first epoch ended
    actual=$("$fashionlab" "${args[@]}" --out "$directory" | digest)
  fi
  if [ "$actual" != "$expected" ]; then
    mismatches=$((mismatches + 1))
    echo "run $run: killed after ${delay}s, final weights $actual differ"
  fi
done
echo "runs: $runs, kills: $kills, restarted from scratch (no complete epoch yet): $resumed_from_scratch, mismatches: $mismatches"
[ "$mismatches" -eq 0 ]
