#!/usr/bin/env bash
# Runs scripts/gpu-check.sh from the bundle that scripts/gpu-bundle.sh made (.gpu/tool, and .gpu/data and/or
# .gpu/reference: whichever came along), on a GPU machine with no Swift toolchain, and packs the logs.
#
#   scripts/gpu-run-bundle.sh ARCHIVE.tgz [LOG_DIR]
#
# It unpacks the binary, unpacks libcurl beside it when the machine lacks it, and checks that the binary finds
# CUDA on its own; when it does not, it says so in LOG_DIR/probe.log and puts the lib folders of the Python
# NVIDIA wheels on LD_LIBRARY_PATH for the rest of the run. The checks without data or reference files are skipped.
set -u
ARCHIVE=${1:?usage: gpu-run-bundle.sh ARCHIVE.tgz [LOG_DIR]}
LOGS=${2:-logs}
cd "$(dirname "$0")/.."
tool=.gpu/tool
binary=$tool/fashionlab
mkdir -p "$LOGS"
xz -dkf "$tool/fashionlab.xz" && chmod +x "$binary" || { echo "cannot unpack $tool/fashionlab.xz"; exit 1; }
if ldd "$binary" | grep -q 'not found'; then
    for deb in "$tool"/*.deb; do dpkg -x "$deb" .gpu/root; done
    export LD_LIBRARY_PATH=$PWD/.gpu/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
{
    ldd "$binary"; echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; ldconfig -p | grep -E 'libcuda|nvrtc|cublas'
    command -v python3; python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())'
    nproc; free -g
} > "$LOGS/environment.log" 2>&1
if [ -d .gpu/data ]; then
    probe=("$binary" train --device cuda --epochs 1 --subset 2000 --data .gpu/data --out "$LOGS/probe")
else
    probe=("$binary" verify --device cuda --reference .gpu/reference)
fi
if ! timeout 120 "${probe[@]}" > "$LOGS/probe.log" 2>&1 && grep -q "not available" "$LOGS/probe.log"; then
    wheels=$(python3 -c 'import nvidia, os; print(":".join(os.path.join(p, d, "lib") for p in nvidia.__path__ for d in os.listdir(p)))')
    export LD_LIBRARY_PATH=$wheels${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "CUDA not found on its own; the rest runs with the wheels' lib folders on LD_LIBRARY_PATH" >> "$LOGS/probe.log"
fi
FASHIONLAB_DATA=.gpu/data REFERENCE=${REFERENCE:-.gpu/reference} PYTORCH_SEED=$tool/pytorch_seed.py PYTHON=python3 \
    timeout "${TOTAL_LIMIT:-500}" bash scripts/gpu-check.sh "$binary" "$LOGS"
tar czf "$ARCHIVE" --exclude='*.safetensors' "$LOGS"
cat "$LOGS/probe.log"
