#!/usr/bin/env bash
# The whole lab, FashionLab against PyTorch on this machine: `fashionlab lab` into a fresh directory
# (12 runs, 70 epochs, report included) and the same twelve runs in PyTorch (the notebook's code in
# the fast style, ../shared/bench/pytorch_seed.py), alternating over ROUNDS rounds (the order swapped
# every round, so one noisy minute does not decide the ratio); every round's wall times, the medians
# and their ratio.
#   ROUNDS=2 scripts/compare_lab_pytorch.sh [PYTHON] [PYTORCH_SCRIPT]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
script=${2:-../shared/bench/pytorch_seed.py}
rounds=${ROUNDS:-2}
fashionlab=.build/release/fashionlab
[ -x "$fashionlab" ] || swift build -c release
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ours() {
  rm -rf "$out/lab"
  local start; start=$(date +%s.%N)
  "$fashionlab" lab --out "$out/lab" --quiet > "$out/lab.txt"
  echo "$(date +%s.%N) - $start" | bc
}
theirs() {
  local start; start=$(date +%s.%N)
  for experiment in unscaled-sgd scaled-sgd batch32-adam batch10000-adam optimizer-sgd optimizer-adam \
                    lr0.1-scaled lr0.001-scaled lr0.00001-scaled lr0.1-unscaled lr0.001-unscaled lr0.00001-unscaled; do
    "$python" "$script" "$experiment" --style fast > "$out/pytorch-$experiment.txt"
  done
  echo "$(date +%s.%N) - $start" | bc
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: > "$out/ours.txt"; : > "$out/theirs.txt"
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    a=$(ours); b=$(theirs)
  else
    b=$(theirs); a=$(ours)
  fi
  echo "$a" >> "$out/ours.txt"; echo "$b" >> "$out/theirs.txt"
  printf 'round %d: PyTorch %.1f s, FashionLab %.1f s (%.2f×)\n' "$round" "$b" "$a" "$(echo "$b / $a" | bc -l)"
done

cat "$out/lab.txt"
o=$(median < "$out/ours.txt"); t=$(median < "$out/theirs.txt")
printf '\nThe lab, 12 runs and 70 epochs, median of %d rounds: PyTorch %.1f s, FashionLab %.1f s (report included): %.2f× faster\n' \
  "$rounds" "$t" "$o" "$(echo "$t / $o" | bc -l)"
