#!/usr/bin/env bash
# Prepares, on the build machine, what scripts/gpu-check.sh needs on a GPU machine with no Swift toolchain, in
# folders under .gpu/ (ignored by git), each small enough to travel with the device tool (64 MiB a call):
#   .gpu/tool       the static release binary (stripped, xz-compressed), the .deb files of libcurl4 and what
#                   it depends on (the binary links libcurl.so.4) and pytorch_seed.py, about 20 MB
#   .gpu/reference  PyTorch's reference files (../shared/reference), 28 MB
#   .gpu/data       the four Fashion-MNIST files, 30 MB (skip when the GPU machine has them)
# Together they exceed one call's carry, and `verify` needs the training set too (its later steps read training
# images). What worked on the lent H200 (the machine keeps what a call left in /tmp for 30 s after it):
#   call 1, carry .gpu/reference:        mkdir -p /tmp/fl-reference && cp .gpu/reference/* /tmp/fl-reference/
#   call 2 at once, carry .gpu/tool and .gpu/data:
#       REFERENCE=/tmp/fl-reference STEPS=verify,recipes bash scripts/gpu-run-bundle.sh "$OUT/gpu-check.tgz" logs
# On the H200 the default groups took about 2.5 minutes and recipes, one seed at a time, about 6.5 (one call runs
# 10 at most), so choose STEPS per call. The seeds of recipes now run side by side (not yet timed on a GPU; cnn-large
# now has a sixth convolution, so expect about 4 s per epoch alone): about 3.5 minutes if three runs share the GPU
# as well as they should; RECIPE_LIMIT (default 300) caps each run. scripts/gpu-run-bundle.sh unpacks the binary and, where the machine lacks it, libcurl,
# then runs gpu-check.sh.
# The H200 image has libcurl, the CUDA 13 toolkit on the loader's path and torch 2.11 with CUDA as python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s libcurl4-openssl-dev > /dev/null 2>&1; then
    apt-get install -y libcurl4-openssl-dev  # the static binary links FoundationNetworking's libcurl
fi
swift build -c release --static-swift-stdlib --product fashionlab --scratch-path .build-static
rm -rf .gpu && mkdir -p .gpu/tool .gpu/reference .gpu/data
strip -o .gpu/tool/fashionlab .build-static/release/fashionlab
xz -T0 .gpu/tool/fashionlab
(cd .gpu/tool && apt-get download libcurl4 $(apt-cache depends libcurl4 | awk '/ Depends:/ && $2 != "libc6" {print $2}'))
cp ../shared/reference/*.safetensors .gpu/reference/
cp ../shared/bench/pytorch_seed.py .gpu/tool/
cp "${FASHIONLAB_DATA:-/usr/share/datasets/fashion-mnist}"/*-ubyte.gz .gpu/data/
du -sh .gpu/*
