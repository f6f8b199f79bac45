#!/usr/bin/env bash
# Fuzzes everything FashionLab reads from outside, built with AddressSanitizer: the parsers of user files with
# mutated bytes, the loaders of train --resume, evaluate, predict, plot and study with well-formed files whose
# meaning lies, the escaper and the name check with random Unicode (fashionlab-fuzz --list names the targets).
# A million inputs per target by default, one target per core at a time; each target's report goes to
# LOGDIR/TARGET.log (with a line after every tenth of its inputs). A crash stops its target with ASan's report; any crash or broken promise fails the run.
# The pass is reproducible from its seed.
#   scripts/fuzz.sh [INPUTS_PER_TARGET] [SEED] [TARGET…]       (LOGDIR: $FUZZ_LOGS or .build-asan/fuzz-logs)
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=${1:-1000000}
seed=${2:-1}
shift $(( $# > 2 ? 2 : $# ))
swift build -c release --product fashionlab-fuzz --scratch-path .build-asan \
  -Xswiftc -sanitize=address -Xcc -fsanitize=address
binary=$(swift build -c release --scratch-path .build-asan --show-bin-path)/fashionlab-fuzz
logs=${FUZZ_LOGS:-.build-asan/fuzz-logs}
mkdir -p "$logs"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <("$binary" --list | awk '{print $1}')
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0:abort_on_error=1
status=0
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} \
  sh -c '"$1" --inputs "$2" --seed "$3" "$4" > "$5/$4.log" 2>&1 || { echo "FAILED: $4 (see $5/$4.log)"; exit 1; }' \
  sh "$binary" "$inputs" "$seed" {} "$logs" || status=1
for target in "${targets[@]}"; do grep -v " of [0-9]* inputs$" "$logs/$target.log" | head -n 8; done
exit $status
