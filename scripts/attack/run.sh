#!/usr/bin/env bash
# Runs every validation attack of issue #17 against one fashionlab binary.
#
#   scripts/attack/run.sh BINARY OUTDIR
#
# 1. trains three small real runs with BINARY (OUTDIR/base/{adam,sgdm,cnn}),
# 2. has make_inputs.py write the crafted inputs from copies of them (OUTDIR/in/),
# 3. runs each attack on its own (a fresh directory OUTDIR/work/ID, `timeout $ATTACK_TIMEOUT`, default 120 s,
#    and `ulimit -v $ATTACK_MEM_KB`, default 6 GiB, because the machine is shared: an allocation the program
#    does not bound fails there instead of swapping the machine to death),
# 4. prints a markdown row per attack (class | attack | command | exit | message) and writes them,
#    tab-separated, to OUTDIR/rows.tsv; then runs downloads.py (OUTDIR/downloads.tsv) unless
#    ATTACK_SKIP_DOWNLOADS=1.
#
# The exit column names the signal for a status above 128 (139 SIGSEGV, 133 SIGTRAP (a Swift trap),
# 134 SIGABRT, 137 SIGKILL) and 124 is `timeout` (still running when the limit came). The message is the
# first "Error:" or "Fatal error" line of standard error (else its last line), at most 150 characters; for
# attacks whose harm is silent (exit 0) a check after the run says what happened instead.
set -u
if [ $# -ne 2 ]; then echo "usage: $0 BINARY OUTDIR" >&2; exit 2; fi
BIN=$(readlink -f "$1")
mkdir -p "$2"
OUT=$(readlink -f "$2")
HERE=$(dirname "$(readlink -f "$0")")
PY=${PYTHON:-/work/main/.venv/bin/python}
[ -x "$PY" ] || PY=python3
SYS=${ATTACK_SYSTEM_DATA:-/usr/share/datasets/fashion-mnist}
TIMEOUT=${ATTACK_TIMEOUT:-120}
MEM_KB=${ATTACK_MEM_KB:-6291456}
export XDG_CACHE_HOME="$OUT/cache"   # the verification record goes here, not in ~/.cache
export FASHIONLAB_SYSTEM_DATA="$SYS" # (the "after" binary reads it; the "before" one ignores it)
unset FASHIONLAB_DATA
# A closed port on this machine: an attack that makes FashionLab download never reaches any other address.
export FASHIONLAB_MIRROR=http://127.0.0.1:9/
ROWS="$OUT/rows.tsv"
: > "$ROWS"
ESCAPE_TEXT=$(printf 'x"\xcc\x81 onmouseover=alert(1) <\xcc\xb8script>alert(1)<script>alert(2)<\xcc\xb8\xe2\x88\x95script>')

signal_label() {  # exit status -> "139 SIGSEGV" etc.
    local rc=$1
    if [ "$rc" -eq 124 ]; then echo "124 (timeout: still running after ${TIMEOUT} s, killed)"
    elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then echo "$rc SIG$(kill -l $((rc - 128)))"
    else echo "$rc"; fi
}

# attempt ID CLASS ATTACK SHORT_COMMAND ARG...   (runs BINARY ARG... in OUTDIR/work/ID)
attempt() {
    ID=$1 CLASS=$2 ATTACK=$3 SHORT=$4; shift 4
    WORK="$OUT/work/$ID"
    rm -rf "$WORK"; mkdir -p "$WORK"
    local start end
    start=$(date +%s.%N)
    ( cd "$WORK" && ulimit -v "$MEM_KB" && exec timeout -k 5 "$TIMEOUT" "$BIN" "$@" ) >"$WORK/stdout" 2>"$WORK/stderr" </dev/null
    RC=$?
    end=$(date +%s.%N)
    SECONDS_TAKEN=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
    NOTE=""
}

# The message: the first "Error:"/"Fatal error" line of stderr, else its last line, else stdout's last line.
message_of() { "$PY" "$HERE/message.py" "$1/stderr" "$1/stdout"; }

record() {
    local message label
    message=$(message_of "$WORK")
    [ -n "$NOTE" ] && message="$NOTE — $message"
    message=$(printf '%s' "$message" | "$PY" -c 'import sys; print(sys.stdin.read().replace("\t", " ").replace("|", "/").replace("\n", " ")[:150])')
    if [ "$RC" -eq 0 ] || [ "$RC" -eq 124 ]; then message="$message (${SECONDS_TAKEN} s)"; fi
    label=$(signal_label "$RC")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ID" "$CLASS" "$ATTACK" "$SHORT" "$label" "$message" "$SECONDS_TAKEN" >> "$ROWS"
    printf '| %s | %s | `%s` | %s | %s |\n' "$CLASS" "$ATTACK" "$SHORT" "$label" "$message"
}

# markup_check DIR: unescaped markup in the HTML/SVG written under DIR.
markup_check() {
    "$PY" - "$1" <<'EOF'
import os, sys
found, files = [], 0
for root, _, names in os.walk(sys.argv[1]):
    for n in names:
        if n.endswith((".html", ".svg")):
            files += 1
            t = open(os.path.join(root, n), encoding="utf-8", errors="replace").read()
            counts = {"<script": t.count("<script"), "'<'+U+0338": t.count("<\u0338"), "'\"'+U+0301": t.count("\"\u0301")}
            bad = {k: v for k, v in counts.items() if v}
            if bad:
                found.append("%s: %s" % (n, ", ".join("%s ×%d" % kv for kv in bad.items())))
if files == 0:
    print("no HTML or SVG written")
elif found:
    print("LIVE MARKUP in " + "; ".join(found))
else:
    print("all markup escaped in %d HTML/SVG files" % files)
EOF
}

echo "# $(basename "$BIN") $("$BIN" --version 2>/dev/null | head -1) — $(date -u +%FT%TZ)"

# ---- 1. the real runs the inputs are made from
mkdir -p "$OUT/base"
train_base() {
    local name=$1; shift
    rm -rf "$OUT/base/$name"
    if ! "$BIN" train --data "$SYS" --quiet --out "$OUT/base/$name" "$@" >"$OUT/base/$name.log" 2>&1; then
        echo "base run $name failed: $(tail -3 "$OUT/base/$name.log")" >&2
    fi
}
train_base adam --subset 1000 --hidden 16 --epochs 1 --optimizer adam --lr 0.001
train_base sgdm --subset 1000 --hidden 16 --epochs 1 --optimizer sgd --momentum 0.9
train_base cnn --model cnn --subset 256 --epochs 1

# ---- 2. the crafted inputs
rm -rf "$OUT/in"
"$PY" "$HERE/make_inputs.py" "$OUT" > "$OUT/make_inputs.log" 2>&1 || echo "make_inputs.py failed: $(tail -3 "$OUT/make_inputs.log")" >&2
IN="$OUT/in"
missing() { grep -q "^MISSING $1" "$OUT/make_inputs.log"; }

echo
echo "| class | attack | command | exit | message |"
echo "| --- | --- | --- | --- | --- |"

# ---- 3. the attacks
# Memory safety
attempt control "Memory safety" "control: the real checkpoint (epochs raised to 2) resumes" "train --resume in/resume-control" \
    train --resume "$IN/resume-control" --data "$SYS" --quiet
[ "$RC" -eq 0 ] && NOTE="resumed: $(grep -c '"epoch"' "$IN/resume-control/metrics.json" 2>/dev/null) epochs in metrics.json"; record
for pair in "mem-adam-state:Adam exp_avg of 0.weight has shape [1], not [16, 784]" \
            "mem-sgd-momentum:SGD momentum_buffer of 0.weight has shape [1], not [16, 784]"; do
    dir=${pair%%:*}
    attempt "$dir" "Memory safety" "${pair#*:}" "train --resume in/$dir" train --resume "$IN/$dir" --data "$SYS" --quiet
    missing "$dir" && NOTE="input not made (the file lacks the key)"; record
done

# Settings trusted
attempt set-hidden-metrics "Settings trusted" "metrics.json config.hidden [1e15]" "evaluate in/set-hidden-metrics" \
    evaluate "$IN/set-hidden-metrics" --data "$SYS" --out "$OUT/work/set-hidden-metrics"; record
attempt set-evalbatch-metrics "Settings trusted" "metrics.json config.evaluationBatchSize 0" "evaluate in/set-evalbatch-metrics" \
    evaluate "$IN/set-evalbatch-metrics" --data "$SYS" --out "$OUT/work/set-evalbatch-metrics"; record
attempt set-epochs-metrics "Settings trusted" "metrics.json config.epochs 9e18" "evaluate in/set-epochs-metrics" \
    evaluate "$IN/set-epochs-metrics" --data "$SYS" --out "$OUT/work/set-epochs-metrics"; record
attempt set-hidden-meta "Settings trusted" "model.safetensors fashionlab_config hidden [1e15]" "predict in/set-hidden-meta.safetensors in/picture.png" \
    predict "$IN/set-hidden-meta.safetensors" "$IN/picture.png"
missing set-hidden-meta && NOTE="input not made (no fashionlab_config metadata)"; record
attempt set-batch0-ckpt "Settings trusted" "checkpoint history batchSize 0" "train --resume in/set-batch0-ckpt" \
    train --resume "$IN/set-batch0-ckpt" --data "$SYS" --quiet; record
attempt set-evalbatch0-ckpt "Settings trusted" "checkpoint history evaluationBatchSize 0" "train --resume in/set-evalbatch0-ckpt" \
    train --resume "$IN/set-evalbatch0-ckpt" --data "$SYS" --quiet; record
attempt set-epochs-ckpt "Settings trusted" "checkpoint history epochs 9e18" "train --resume in/set-epochs-ckpt" \
    train --resume "$IN/set-epochs-ckpt" --data "$SYS" --quiet
[ "$RC" -eq 124 ] && NOTE="trained on, epoch after epoch, until killed"; record
for pair in "bn-count-i32:BatchNorm num_batches_tracked as I32 (a legitimate count)" \
            "bn-var-f64:BatchNorm running_var as F64 (legitimate values)" \
            "bn-count-f64-nan:BatchNorm num_batches_tracked F64 NaN" \
            "bn-mean-nan:BatchNorm running_mean all NaN (F32)"; do
    name=${pair%%:*}
    attempt "$name" "Settings trusted" "${pair#*:}" "evaluate in/$name.safetensors" \
        evaluate "$IN/$name.safetensors" --data "$SYS" --out "$OUT/work/$name"
    [ "$RC" -eq 0 ] && NOTE="accepted: $(grep -m1 '^Test accuracy' "$WORK/stdout" | cut -c1-40)"; record
done

# Integer overflow
attempt ovf-ihdr "Integer overflow" "PNG IHDR 0x7fffffff × 0x7fffffff (valid CRC)" "predict base/adam in/ovf-ihdr.png" \
    predict "$OUT/base/adam" "$IN/ovf-ihdr.png"; record
attempt ovf-idx "Integer overflow" "IDX train images 0xffffffff³ dims in a --data folder" "train --data in/ovf-idx --epochs 1" \
    train --data "$IN/ovf-idx" --epochs 1 --hidden 8 --subset 200 --out "$OUT/work/ovf-idx/run" --quiet; record
attempt ovf-shape "Integer overflow" "safetensors 0.weight shape [2^32, 2^32, 16]" "evaluate in/ovf-shape.safetensors" \
    evaluate "$IN/ovf-shape.safetensors" --data "$SYS" --out "$OUT/work/ovf-shape"; record
attempt ovf-threads "Integer overflow" "--threads 99999999999" "train --threads 99999999999 --epochs 1" \
    train --threads 99999999999 --data "$SYS" --subset 200 --hidden 8 --epochs 1 --out "$OUT/work/ovf-threads/run" --quiet
[ "$RC" -eq 0 ] && NOTE="accepted and trained"; record
attempt ovf-grid "Integer overflow" "study grid of 7 settings × 1000 values (10^21 runs)" "study --file in/ovf-grid.json" \
    study --file "$IN/ovf-grid.json" --out "$OUT/work/ovf-grid/studies" --data "$SYS" --quiet; record

# Escaping
attempt esc-name "Escaping" "study name with \"+U+0301, <+U+0338script>, <script>" "study --file in/esc-name.json" \
    study --file "$IN/esc-name.json" --out "$OUT/work/esc-name/studies" --data "$SYS" --quiet
[ "$RC" -eq 0 ] && NOTE=$(markup_check "$OUT/work/esc-name/studies"); record
attempt esc-plot "Escaping" "plot --title and a run directory named with the same markup" "plot 'in/esc-label/<\u0338script>\"\u0301run' --title …" \
    plot "$IN/esc-label/$(ls "$IN/esc-label" | head -1)" --title "$ESCAPE_TEXT" --out "$OUT/work/esc-plot/plots"
[ "$RC" -eq 0 ] && NOTE=$(markup_check "$OUT/work/esc-plot/plots"); record
mkdir -p "$OUT/work/esc-dotdot"
attempt esc-dotdot "Escaping" "study named \"..\" (--out box/studies)" "study --file in/esc-dotdot.json --out box/studies" \
    study --file "$IN/esc-dotdot.json" --out "$OUT/work/esc-dotdot/box/studies" --data "$SYS" --quiet
outside=$(cd "$OUT/work/esc-dotdot/box" 2>/dev/null && ls -A | grep -vx studies | tr '\n' ' ')
if [ -n "$outside" ]; then NOTE="WROTE OUTSIDE --out: box/$outside"; elif [ "$RC" -eq 0 ]; then NOTE="nothing outside --out"; fi; record

# Bounded work
attempt bound-plot "Bounded work" "plot of losses 1e308, -1e308, inf, nan, -inf" "plot in/bound-extreme-losses" \
    plot "$IN/bound-extreme-losses" --out "$OUT/work/bound-plot/plots"
[ "$RC" -eq 0 ] && NOTE="drawn, curves.svg $(stat -c %s "$OUT/work/bound-plot/plots/curves.svg" 2>/dev/null || echo '?') bytes"; record
attempt bound-png "Bounded work" "389 kB PNG that decodes to 20000 × 20000 pixels" "predict base/adam in/bound-huge.png" \
    predict "$OUT/base/adam" "$IN/bound-huge.png"; record

# Runs and files
before_sum=$(sha256sum "$IN/finished-run/metrics.json" | cut -c1-64)
attempt runs-overwrite "Runs and files" "train --out onto a finished run" "train --out in/finished-run --seed 7" \
    train --data "$SYS" --subset 1000 --hidden 16 --epochs 1 --optimizer adam --lr 0.001 --seed 7 --out "$IN/finished-run" --quiet
after_sum=$(sha256sum "$IN/finished-run/metrics.json" 2>/dev/null | cut -c1-64)
if [ "$before_sum" != "$after_sum" ]; then NOTE="the finished run's metrics.json was REPLACED"; else NOTE="the finished run is unchanged"; fi; record
mkdir -p "$OUT/work/runs-lock-setup/run" "$OUT/work/runs-lock-setup/outside"
rm -f "$OUT/work/runs-lock-setup/outside/planted"
ln -sfn "$OUT/work/runs-lock-setup/outside/planted" "$OUT/work/runs-lock-setup/run/.fashionlab.lock"
attempt runs-lock "Runs and files" ".fashionlab.lock planted as a symlink to outside/planted" "train --out run (run/.fashionlab.lock → outside/planted)" \
    train --data "$SYS" --subset 200 --hidden 8 --epochs 1 --out "$OUT/work/runs-lock-setup/run" --quiet
if [ -e "$OUT/work/runs-lock-setup/outside/planted" ]; then NOTE="FOLLOWED the link: outside/planted created"; else NOTE="outside/planted not created"; fi; record
attempt runs-dup "Runs and files" "safetensors header naming 0.weight twice (2nd: zeros)" "evaluate in/dup-tensor.safetensors" \
    evaluate "$IN/dup-tensor.safetensors" --data "$SYS" --out "$OUT/work/runs-dup"
[ "$RC" -eq 0 ] && NOTE="accepted silently: $(grep -m1 '^Test accuracy' "$WORK/stdout" | cut -c1-40)"; record
attempt runs-missing "Runs and files" "--data folder missing t10k-labels (3 of 4 files)" "prepare --data in/missing-file" \
    prepare --data "$IN/missing-file" --out "$OUT/work/runs-missing/s.png"
[ "$RC" -eq 0 ] && NOTE="exit 0: $(grep -m1 'read from' "$WORK/stdout")"; record
attempt runs-missing-train "Runs and files" "the same folder for train" "train --data in/missing-file --epochs 1" \
    train --data "$IN/missing-file" --subset 200 --hidden 8 --epochs 1 --out "$OUT/work/runs-missing-train/run" --quiet
[ "$RC" -eq 0 ] && NOTE="exit 0: trained (on the data found elsewhere)"; record

# Study files
attempt study-int "Study files" "\"epochs\": 1 and grid seed [0, 1, 2]" "study --file in/study-int-epochs.json" \
    study --file "$IN/study-int-epochs.json" --out "$OUT/work/study-int/studies" --data "$SYS" --quiet
[ "$RC" -eq 0 ] && NOTE="ran: $(ls "$OUT/work/study-int/studies/runs" 2>/dev/null | wc -l) runs, report $(ls "$OUT"/work/study-int/studies/*/report.html >/dev/null 2>&1 && echo written || echo missing)"; record

# ---- 4. downloads
if [ "${ATTACK_SKIP_DOWNLOADS:-0}" != 1 ]; then
    echo
    "$PY" "$HERE/downloads.py" "$BIN" "$OUT"
fi
