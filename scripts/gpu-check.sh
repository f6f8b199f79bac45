#!/usr/bin/env bash
# The GPU checks of FashionLab's CUDA backend, in one go, on a machine with an NVIDIA GPU and no Swift
# toolchain: all it needs is the statically linked release binary, the dataset and PyTorch's reference
# files (and, for the side-by-side, a Python with a CUDA build of torch).
#
#   swift build -c release --static-swift-stdlib          # on the build machine
#   scripts/gpu-check.sh [BINARY] [LOG_DIR]                # on the GPU machine
#
# The static binary still links libcurl.so.4 (FoundationNetworking, for downloads): building it needs
# libcurl4-openssl-dev, and a GPU machine without libcurl4 needs its .deb files unpacked beside it.
# scripts/gpu-bundle.sh prepares all of it (binary, libraries, reference files, data) and says how to send it.
#
# Environment: FASHIONLAB_DATA (the four .gz files; default /usr/share/datasets/fashion-mnist),
# REFERENCE (the reference/*.safetensors; default ../shared/reference), PYTHON (with torch; default
# python3), PYTORCH_SEED (pytorch_seed.py; default ../shared/bench/pytorch_seed.py).
# STEPS: which groups run, comma-separated, in this order: verify (fidelity on CUDA, CPU and auto), train (2
# epochs on each backend), bench, compare (PyTorch CUDA side by side), lab, cnn-epoch (one epoch of each CNN, and
# each against PyTorch CUDA), recipes (the CNN recipes over seeds 0-2, the seeds side by side, cnn-large also
# evaluated with flip test-time augmentation). Default: all but recipes.
# STEP_LIMIT (seconds; default 300) caps each step, RECIPE_LIMIT (default 300) each recipe run; ROUNDS (default 3)
# sets the PyTorch comparison's rounds. Every step writes its log to LOG_DIR (default gpu-check-logs) and the
# summary says which passed. (scripts/gpu-run-bundle.sh runs it from the bundle and packs the logs.)
set -u
BIN=${1:-.build/release/fashionlab}
LOGS=${2:-gpu-check-logs}
export FASHIONLAB_DATA=${FASHIONLAB_DATA:-/usr/share/datasets/fashion-mnist}
export FMNIST_DIR=$FASHIONLAB_DATA  # where pytorch_seed.py reads the dataset
REFERENCE=${REFERENCE:-../shared/reference}
PYTHON=${PYTHON:-python3}
PYTORCH_SEED=${PYTORCH_SEED:-../shared/bench/pytorch_seed.py}
STEPS=${STEPS:-verify,train,bench,compare,lab,cnn-epoch}
mkdir -p "$LOGS"
summary="$LOGS/summary.txt"
: > "$summary"

wanted() { [[ ",$STEPS," == *",$1,"* ]]; }
torch_sees_the_gpu() { "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }

step() {  # step NAME COMMAND…: runs it with its output in LOGS/NAME.log, times it, records the outcome
    local name=$1; shift
    local start=$(date +%s%N)
    timeout "${STEP_LIMIT:-300}" "$@" > "$LOGS/$name.log" 2>&1
    local status=$?
    local milliseconds=$(( ($(date +%s%N) - start) / 1000000 ))
    printf '%-16s %s (exit %d, %d.%03d s)\n' "$name" "$([ $status -eq 0 ] && echo ok || echo FAILED)" "$status" \
        $((milliseconds / 1000)) $((milliseconds % 1000)) | tee -a "$summary"
}

{ nvidia-smi || true; "$BIN" --version || true; } > "$LOGS/machine.log" 2>&1

# 1. The device FashionLab finds, and the fidelity check against PyTorch's numbers on the GPU (and the CPU).
if wanted verify; then
    step verify-committed "$BIN" verify --device cuda  # the committed cases (Tests/FashionTrainingTests/Fixtures/reference)
    if [ -f "$REFERENCE/mlp_sgd_1step.safetensors" ]; then
        step verify-cuda "$BIN" verify --device cuda --reference "$REFERENCE"
        step verify-cpu "$BIN" verify --device cpu --reference "$REFERENCE"
        step verify-auto "$BIN" verify --device auto --reference "$REFERENCE"
    else
        echo "verify           skipped (no reference files in $REFERENCE)" | tee -a "$summary"
    fi
fi
if [ ! -f "$FASHIONLAB_DATA/train-images-idx3-ubyte.gz" ] && [ ! -f "$FASHIONLAB_DATA/train-images-idx3-ubyte" ]; then
    echo "training steps   skipped (no dataset in $FASHIONLAB_DATA)" | tee -a "$summary"
    echo "Logs in $LOGS"
    exit 0
fi
# 2. The same short run on both backends: the metrics should agree to rounding.
if wanted train; then
    step train-cuda "$BIN" train --device cuda --optimizer adam --lr 0.001 --epochs 2 --seed 0 --json --out "$LOGS/train-cuda"
    step train-cpu "$BIN" train --device cpu --optimizer adam --lr 0.001 --epochs 2 --seed 0 --json --out "$LOGS/train-cpu"
fi
# 3. Throughput of the seed MLP (batch 32), then side by side with PyTorch CUDA in the fast style.
wanted bench && step bench-cuda "$BIN" bench --device cuda --repetitions 3
if wanted compare; then
    if torch_sees_the_gpu; then
        step compare-pytorch "$PYTHON" "$(dirname "$0")/compare_pytorch.py" --device cuda --rounds "${ROUNDS:-3}" --epochs 2 \
            --fashionlab "$BIN" --pytorch-script "$PYTORCH_SEED"
    else
        echo "compare-pytorch  skipped (no Python with a CUDA build of torch)" | tee -a "$summary"
    fi
fi
# 4. The whole lab on the GPU (target: at most 20 s).
wanted lab && step lab-cuda "$BIN" lab --device cuda --out "$LOGS/lab"
# 5. One epoch of each CNN on the GPU, with its recipe's batch size and augmentation: the epoch time; then the
#    first epoch of the cnn recipe's settings on each network, side by side with PyTorch CUDA.
if wanted cnn-epoch; then
    step cnn-epoch "$BIN" train --device cuda --model cnn --optimizer adam --lr 0.001 --batch-size 64 --normalize \
        --epochs 1 --seed 0 --json --out "$LOGS/cnn-epoch"
    step cnn-large-epoch "$BIN" train --device cuda --model cnn-large --optimizer adamw --weight-decay 0.05 --lr 0.001 \
        --batch-size 128 --normalize --augment flip,crop:2,erase:0.3 --epochs 1 --seed 0 --json --out "$LOGS/cnn-large-epoch"
    if torch_sees_the_gpu; then
        for model in cnn cnn-large; do
            step "compare-$model" "$PYTHON" "$(dirname "$0")/compare_cnn_pytorch.py" --device cuda --rounds 2 --model $model \
                --fashionlab "$BIN" --data "$FASHIONLAB_DATA"
        done
    fi
fi
# 6. Seeds 0-2 of a training setup side by side: these small networks leave most of the GPU idle, so three
#    runs at once take about as long as one (each gets a few of the host's cores for its own work). Their
#    step times are therefore not single-run times: the cnn-epoch group measures those.
#    train_seeds NAME tta|no-tta TRAIN_FLAGS…; with tta each run is then also evaluated with --tta flip.
train_seeds() {
    local name=$1 tta=$2; shift 2
    for seed in 0 1 2; do
        STEP_LIMIT=${RECIPE_LIMIT:-300} step "$name-$seed" "$BIN" train --device cuda "$@" --seed $seed --threads 4 \
            --json --out "$LOGS/$name-$seed" &
    done
    wait
    if [ "$tta" = tta ]; then
        for seed in 0 1 2; do
            step "$name-$seed-tta" "$BIN" evaluate "$LOGS/$name-$seed" --device cuda --tta flip --out "$LOGS/$name-$seed-tta"
        done
    fi
}
if wanted recipes; then
    train_seeds cnn no-tta --recipe cnn
    train_seeds cnn-large tta --recipe cnn-large
fi
echo "Logs in $LOGS"
