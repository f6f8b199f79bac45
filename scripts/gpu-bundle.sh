#!/usr/bin/env bash
# Prepares, on the build machine, what scripts/gpu-check.sh needs on a GPU machine with no Swift toolchain, in
# folders under .gpu/ (ignored by git), each small enough to travel with the device tool (64 MiB a call):
#   .gpu/tool       the static release binary (stripped, xz-compressed), the .deb files of libcurl4 and what
#                   it depends on (the binary links libcurl.so.4) and pytorch_seed.py, about 20 MB
#   .gpu/reference  PyTorch's reference files (../shared/reference), 28 MB
#   .gpu/data       the four Fashion-MNIST files, 30 MB (skip when the GPU machine has them)
# Together they exceed one call's carry, so: a first call carries .gpu/tool and .gpu/reference and unpacks them,
# a second right after it (the machine keeps what the first left while it is warm) carries .gpu/data and runs
#   xz -dk .gpu/tool/fashionlab.xz
#   ldd .gpu/tool/fashionlab | grep -q 'not found' && { for f in .gpu/tool/*.deb; do dpkg -x "$f" .gpu/root; done
#       export LD_LIBRARY_PATH=$PWD/.gpu/root/usr/lib/x86_64-linux-gnu; }   # only when libcurl is missing there
#   FASHIONLAB_DATA=.gpu/data REFERENCE=.gpu/reference PYTORCH_SEED=.gpu/tool/pytorch_seed.py PYTHON=/opt/torch/.venv/bin/python3 \
#       scripts/gpu-check.sh .gpu/tool/fashionlab logs
#   tar czf "$OUT/gpu-check.tgz" logs
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
