#!/usr/bin/env bash
# The whole lab, FashionLab against PyTorch on this machine: `fashionlab lab` into a fresh directory
# (12 runs, 70 epochs, report included) and the same twelve runs in PyTorch (the notebook's code in
# the fast style, ../shared/bench/pytorch_seed.py), wall-clock time of each and the ratio.
#   scripts/compare_lab_pytorch.sh [PYTHON] [PYTORCH_SCRIPT]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-.venv/bin/python}
script=${2:-../shared/bench/pytorch_seed.py}
fashionlab=.build/release/fashionlab
[ -x "$fashionlab" ] || swift build -c release
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

start=$(date +%s.%N)
"$fashionlab" lab --out "$out/lab" --quiet > "$out/lab.txt"
ours=$(echo "$(date +%s.%N) - $start" | bc)

start=$(date +%s.%N)
for experiment in unscaled-sgd scaled-sgd batch32-adam batch10000-adam optimizer-sgd optimizer-adam \
                  lr0.1-scaled lr0.001-scaled lr0.00001-scaled lr0.1-unscaled lr0.001-unscaled lr0.00001-unscaled; do
  "$python" "$script" "$experiment" --style fast | tail -1
done
theirs=$(echo "$(date +%s.%N) - $start" | bc)

cat "$out/lab.txt"
printf '\nThe lab, 12 runs and 70 epochs: PyTorch %.1f s, FashionLab %.1f s (report included): %.2f× faster\n' \
  "$theirs" "$ours" "$(echo "$theirs / $ours" | bc -l)"
