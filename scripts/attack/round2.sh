#!/usr/bin/env bash
# Issue #35's attacks on model files, data files, Slurm options and saved files, run against one binary:
#
#   scripts/attack/round2.sh FASHIONLAB OUTDIR
#
# Prints one markdown row per attack: the exit status (a signal by name above 128; 124 a timeout), the peak
# resident memory (GNU time's %M) and the first line of the error or, where the harm would be silent, a check.
# Each attack runs under `ulimit -v 8 GiB` and `timeout 120`, so an unbounded allocation fails (or is killed)
# instead of taking the machine. Needs the dataset in /usr/share/datasets/fashion-mnist and GNU time.
set -u
if [ $# -ne 2 ]; then echo "usage: $0 FASHIONLAB OUTDIR" >&2; exit 2; fi
BIN=$(readlink -f "$1"); OUT=$2
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 1
PY=${PYTHON:-python3}

# A small real run to attack with its own files.
"$BIN" train --hidden 16 --epochs 1 --subset 1000 --out base --quiet >/dev/null 2>&1 || { echo "cannot train the base run" >&2; exit 1; }
"$PY" - <<'EOF'
import gzip, json, os, struct, zlib
def read(path):
    data = open(path, 'rb').read(); n = struct.unpack('<Q', data[:8])[0]
    return json.loads(data[8:8 + n]), bytearray(data[8 + n:])
def write(path, header, data):
    text = json.dumps(header).encode(); text += b' ' * ((8 - len(text) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(text)) + text + bytes(data))
header, data = read('base/model.safetensors')
for name, tensor, value in [('nan', '2.bias', float('nan')), ('inf', '2.bias', float('inf')), ('huge', '0.weight', 3.4e38)]:
    poisoned = bytearray(data)
    start, end = header[tensor]['data_offsets']
    for offset in range(start, end, 4): struct.pack_into('<f', poisoned, offset, value)
    write(f'{name}.safetensors', header, poisoned)
# A network of 1,000 layers within every per-layer limit: a 1x1 convolution onto a 428x428 padded image
# (64 channels, 11.7 M values an image, 128 parameters), 996 ReLUs, global pooling, 10 classes. A few kB.
layers = [{"type": "Conv2d", "in_channels": 1, "out_channels": 64, "kernel_size": 1, "padding": 200}]
layers += [{"type": "ReLU"}] * 996 + [{"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"},
                                      {"type": "Linear", "in_features": 64, "out_features": 10}]
description = {"input_shape": [1, 28, 28], "layers": layers}
json.dump(description, open('wide.json', 'w'))
tensors = {"0.weight": [64, 1, 1, 1], "0.bias": [64], "999.weight": [10, 64], "999.bias": [10]}
header, offset, body = {"__metadata__": {"format": "pt", "fashionlab_model": json.dumps(description)}}, 0, b''
for name, shape in tensors.items():
    size = 4
    for s in shape: size *= s
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
    body += b'\0' * size; offset += size
write('wide.safetensors', header, body)
# The same network, shallow enough for one image but not for a batch of 32 (10 ReLUs: 0.5 GB an image).
description["layers"] = layers[:11] + layers[-3:]
header["__metadata__"]["fashionlab_model"] = json.dumps(description)
header["13.weight"] = header.pop("999.weight"); header["13.bias"] = header.pop("999.bias")
write('wide10.safetensors', header, body)
# A run folder for `serve` whose settings name the 1,000-layer network.
history = json.load(open('base/metrics.json'))
history['config']['model'] = 'custom'; history['config']['architecture'] = {"input_shape": [1, 28, 28], "layers": layers}
os.makedirs('runs/wide', exist_ok=True)
json.dump(history, open('runs/wide/metrics.json', 'w'))
os.system('cp wide.safetensors runs/wide/model.safetensors')
# A picture to predict.
def chunk(kind, payload): return struct.pack('>I', len(payload)) + kind + payload + struct.pack('>I', zlib.crc32(kind + payload))
rows = b''.join(b'\0' + bytes(255 if 8 <= x < 20 and 4 <= y < 24 else 0 for x in range(28)) for y in range(28))
open('picture.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 28, 28, 8, 0, 0, 0, 0))
                                 + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))
# IDX files whose counts are 0 and whose rows x columns overflow.
os.makedirs('idx-zero', exist_ok=True)
for kind in ('train', 't10k'):
    open(f'idx-zero/{kind}-images-idx3-ubyte.gz', 'wb').write(gzip.compress(struct.pack('>IIII', 0x803, 0, 0xffffffff, 0xffffffff)))
    open(f'idx-zero/{kind}-labels-idx1-ubyte.gz', 'wb').write(gzip.compress(struct.pack('>II', 0x801, 0)))
EOF

# A checkpoint's temporary file left by a writer killed mid-save (kill -9 during the rename's write): the real
# checkpoint's bytes under the name AtomicFile gives them, with the id of a process that has ended.
cp -r base leftover
true & dead=$!; wait "$dead"
cp base/checkpoint.safetensors "leftover/checkpoint.safetensors.tmp-$dead-12345"
"$PY" - <<'EOF'
import json
path = 'leftover/metrics.json'; history = json.load(open(path)); history['config']['epochs'] = 2
json.dump(history, open(path, 'w'))
EOF

row() {  # CLASS | ATTACK | CHECK (a shell test printed before the message, or "") | COMMAND...
    local class=$1 attack=$2 check=$3; shift 3
    local status peak message
    ( ulimit -v $((8 << 20)); exec /usr/bin/time -f '%M' -o time.txt timeout 120 "$BIN" "$@" ) >out.txt 2>err.txt
    status=$?
    peak=$(tail -1 time.txt 2>/dev/null | grep -E '^[0-9]+$' || echo '?')
    [ "$status" -gt 128 ] && status="$status $(kill -l $((status - 128)) 2>/dev/null)"
    message=$(grep -m1 -E '^(Error|Fatal error)|error:|crashed' err.txt || grep -m1 -E 'Error|nan|not finite' out.txt || head -c 150 out.txt)
    message=$(printf '%s' "$message" | tr '\n|' ' /' | cut -c1-170)
    if [ -n "$check" ]; then message="$(eval "$check") — $message"; fi
    printf '| %s | %s | `%s` | %s | %s MB | %s |\n' "$class" "$attack" "$*" "$status" "$((${peak%% *} / 1024))" "$message"
}

echo '| class | attack | command | exit | peak RSS | message |'
echo '| --- | --- | --- | --- | --- | --- |'
row "Working memory" "1,000-layer description (3 kB) in a model file" "" predict wide.safetensors picture.png
row "Working memory" "the same file" "" evaluate wide.safetensors --out ev-wide
row "Working memory" "the same description to train" "" train --model wide.json --epochs 1 --subset 100 --out tr-wide
row "Working memory" "10-layer description: 0.5 GB an image, a batch of 32 asks 15 GB" "" predict wide10.safetensors picture.png
row "Non-finite" "NaN output bias" "" evaluate nan.safetensors --out ev-nan
row "Non-finite" "NaN output bias, --json" "" predict nan.safetensors picture.png --json
row "Non-finite" "+inf output bias" "" evaluate inf.safetensors --out ev-inf
row "Non-finite" "finite weights of 3.4e38 (sums overflow)" "" evaluate huge.safetensors --out ev-huge
row "Non-finite" "finite weights of 3.4e38, --json" "" predict huge.safetensors picture.png --json
row "Slurm" "--sbatch-arg=-Ho/tmp/elsewhere (-H, then -o)" "grep -q 'SBATCH -Ho' out.txt && echo 'WRITTEN: #SBATCH -Ho/tmp/elsewhere overrides --output' || echo 'not written'" study scaling --slurm --dry-run --sbatch-arg=-Ho/tmp/elsewhere --out sl
row "Slurm" "--sbatch-arg=-vJother (-v, then -J)" "grep -q 'SBATCH -vJ' out.txt && echo 'WRITTEN: #SBATCH -vJother overrides --job-name' || echo 'not written'" study scaling --slurm --dry-run --sbatch-arg=-vJother --out sl
row "Slurm" "--sbatch-arg=-- (ends sbatch's options)" "grep -q 'SBATCH --\$' out.txt && echo 'WRITTEN: #SBATCH --' || echo 'not written'" study scaling --slurm --dry-run --sbatch-arg=-- --out sl
row "Data" "IDX counts 0, rows × columns (2^32−1)² overflow" "" train --data idx-zero --epochs 1
row "Leftovers" "checkpoint temporary of a killed writer, then --resume" "ls leftover | grep -q tmp- && echo 'LEFT: checkpoint.safetensors.tmp-…' || echo 'removed'" train --resume leftover

# serve: one prediction with the 1,000-layer run's model; then whether the server still answers.
( ulimit -v $((8 << 20)); exec "$BIN" serve --runs runs --port 0 ) >serve.txt 2>&1 &
server=$!
for _ in $(seq 100); do grep -qoE 'http://127\.0\.0\.1:[0-9]+' serve.txt && break; sleep 0.2; done
url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' serve.txt | head -1)
code=$(curl -s -o predict.json -w '%{http_code}' -m 120 --data-binary @picture.png "$url/api/predict?run=wide")
alive=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$url/api/runs")
peak=$(awk '/VmHWM/ {print int($2 / 1024)}' /proc/$server/status 2>/dev/null || echo '?')
kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
printf '| Working memory | POST /api/predict with the 1,000-layer run in the runs folder | `serve --runs runs` | HTTP %s, then GET /api/runs: %s | %s MB | %s |\n' \
    "$code" "${alive/000/no answer (the server died)}" "$peak" "$(head -c 170 predict.json | tr '\n|' ' /')"
