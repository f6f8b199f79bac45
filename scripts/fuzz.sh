#!/usr/bin/env bash
# Fuzzes every parser of user files (IDX and gzip, safetensors, PNG, study files) with a million
# mutated inputs each, built with AddressSanitizer. A crash stops the run with ASan's report; the
# pass is reproducible from its seed.
#   scripts/fuzz.sh [INPUTS_PER_PARSER] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=${1:-1000000}
seed=${2:-1}
swift build -c release --product fashionlab-fuzz --scratch-path .build-asan \
  -Xswiftc -sanitize=address -Xcc -fsanitize=address
binary=$(swift build -c release --scratch-path .build-asan --show-bin-path)/fashionlab-fuzz
ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 "$binary" --inputs "$inputs" --seed "$seed"
