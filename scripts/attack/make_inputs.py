#!/usr/bin/env python3
"""Crafted inputs for the validation attack table (issue #17).

    make_inputs.py OUTDIR

Reads the real runs that scripts/attack/run.sh trained with the binary under test:
    OUTDIR/base/adam   mlp --hidden 16, adam, 1 epoch   (model.safetensors, checkpoint.safetensors, metrics.json)
    OUTDIR/base/sgdm   mlp --hidden 16, sgd --momentum 0.9, 1 epoch
    OUTDIR/base/cnn    cnn, 1 epoch
and writes, under OUTDIR/in/, one input per attack: a copy of a real file that is well-formed on the outside
(valid safetensors framing, valid JSON, valid PNG CRCs, valid gzip) but lies inside. Safetensors files are read
and written by hand (no library): a duplicate tensor name cannot be written any other way.

Only the standard library is needed (json, struct, zlib, gzip). Prints one line per input written, and
"MISSING <what>" for a key an older binary's files do not have (the attack that needs it is then skipped).
"""
import gzip
import json
import os
import shutil
import struct
import sys
import zlib

OUT = None
SYSTEM_DATA = os.environ.get("ATTACK_SYSTEM_DATA", "/usr/share/datasets/fashion-mnist")
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def note(text):
    print(text, flush=True)


# ---------------------------------------------------------------- safetensors by hand

def st_read(path):
    """[(name, info)] in file order (duplicates kept), metadata dict, data bytes."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    pairs = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=lambda p: p)
    entries, metadata = [], {}
    for key, value in pairs:
        if key == "__metadata__":
            metadata = dict(value)
        else:
            entries.append([key, dict(value)])
    return entries, metadata, raw[8 + n:]


def tensor_bytes(entries, data, name):
    for key, info in entries:
        if key == name:
            b, e = info["data_offsets"]
            return data[b:e]
    raise KeyError(name)


def st_write(path, tensors, metadata):
    """tensors: [(name, dtype, shape, bytes)], names may repeat; offsets are laid out in order.
    A tensor given as (name, dtype, shape, None, (begin, end)) keeps explicit offsets into the data
    built so far (for lies about the shape)."""
    data = bytearray()
    parts = []
    for t in tensors:
        name, dtype, shape, blob = t[:4]
        if blob is None:
            begin, end = t[4]
        else:
            begin = len(data)
            data += blob
            end = len(data)
        parts.append(json.dumps(name) + ":" + json.dumps(
            {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}, separators=(",", ":")))
    if metadata:
        parts.insert(0, '"__metadata__":' + json.dumps(metadata, separators=(",", ":")))
    header = ("{" + ",".join(parts) + "}").encode("utf-8")
    header += b" " * ((8 - len(header) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        f.write(bytes(data))


def st_tensors(entries, data):
    return [(k, v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in entries]


def copy_run(base, name):
    target = os.path.join(OUT, "in", name)
    if os.path.exists(target):
        shutil.rmtree(target)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns(".fashionlab.lock"))
    return target


def edit_history(metadata, change):
    """Apply change(config_dict) to the checkpoint's `history` metadata (a JSON string)."""
    history = json.loads(metadata["history"])
    change(history["config"])
    metadata["history"] = json.dumps(history, separators=(",", ":"))


def lying_checkpoint(base, name, change_config=None, change_tensors=None):
    """Copy of a run whose checkpoint has its config (and/or tensors) changed; epochs raised to 2 so a
    resume has an epoch left to train."""
    run = copy_run(base, name)
    path = os.path.join(run, "checkpoint.safetensors")
    entries, metadata, data = st_read(path)
    if "history" not in metadata:
        note("MISSING %s: checkpoint has no 'history' metadata" % name)
        return

    def change(config):
        config["epochs"] = 2
        if change_config:
            change_config(config)
    edit_history(metadata, change)
    tensors = st_tensors(entries, data)
    if change_tensors:
        tensors = change_tensors(tensors)
        if tensors is None:
            note("MISSING %s: tensor to change not found" % name)
            return
    st_write(path, tensors, metadata)
    note("wrote in/%s (checkpoint.safetensors)" % name)


def shrink(state_name):
    """The optimiser state tensor `state_name` replaced by one float (its parameter has 12,544)."""
    def change(tensors):
        if not any(t[0] == state_name for t in tensors):
            return None
        return [(n, "F32", [1], b"\x00\x00\x80\x3f") if n == state_name else (n, d, s, b) for n, d, s, b in tensors]
    return change


def lying_metrics(base, name, change):
    run = copy_run(base, name)
    path = os.path.join(run, "metrics.json")
    metrics = json.load(open(path))
    change(metrics)
    with open(path, "w") as f:
        json.dump(metrics, f, indent=2)
    note("wrote in/%s (metrics.json)" % name)
    return run


def lying_model(base_file, name, change):
    """Copy of a model.safetensors with its tensors and/or metadata changed by change(tensors, metadata)."""
    entries, metadata, data = st_read(base_file)
    tensors = st_tensors(entries, data)
    result = change(tensors, metadata)
    if result is None:
        note("MISSING %s" % name)
        return
    tensors, metadata = result
    path = os.path.join(OUT, "in", name)
    st_write(path, tensors, metadata)
    note("wrote in/%s" % name)


# ---------------------------------------------------------------- PNG and IDX by hand

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(width, height, idat, color=0, depth=8):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def small_png():
    """A real 28×28 gray picture: a light square on black."""
    rows = b"".join(b"\x00" + bytes(200 if 6 <= x < 22 and 6 <= y < 22 else 0 for x in range(28)) for y in range(28))
    return png(28, 28, zlib.compress(rows))


def huge_png(width, height):
    """A PNG that really holds width×height zero pixels: a small file (deflate of zeros) that decodes to a huge image."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    parts = []
    for _ in range(height):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    return png(width, height, b"".join(parts))


def write(name, blob):
    path = os.path.join(OUT, "in", name)
    with open(path, "wb") as f:
        f.write(blob)
    note("wrote in/%s (%d bytes)" % (name, len(blob)))


def study(name, obj):
    path = os.path.join(OUT, "in", name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)
    note("wrote in/%s" % name)


# ---------------------------------------------------------------- the attacks

ESCAPE_TEXT = "x\"\u0301 onmouseover=alert(1) <\u0338script>alert(1)<script>alert(2)<\u0338\u2215script>"
QUICK = {"hidden": [8], "epochs": 1, "batch-size": 512}
# The same with 2 epochs, for attacks that are not about study files: binaries before the study-file fix
# refuse "epochs": 1 ("expected a number, found 1": JSON 1 read as true), which would hide the attack.
QUICK2 = {"hidden": [8], "epochs": 2, "batch-size": 512}


def main():
    global OUT
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    OUT = sys.argv[1]
    base = os.path.join(OUT, "base")
    os.makedirs(os.path.join(OUT, "in"), exist_ok=True)
    adam, sgdm, cnn = (os.path.join(base, n) for n in ("adam", "sgdm", "cnn"))

    # Memory safety: optimiser state of another shape than its parameter (12,544 floats written into 1).
    lying_checkpoint(adam, "resume-control", None)  # untouched but for epochs 2: must resume fine
    lying_checkpoint(adam, "mem-adam-state", change_tensors=shrink("optimizer.0.weight.exp_avg"))
    lying_checkpoint(sgdm, "mem-sgd-momentum", change_tensors=shrink("optimizer.0.weight.momentum_buffer"))

    # Settings trusted.
    lying_metrics(adam, "set-hidden-metrics", lambda m: m["config"].__setitem__("hidden", [10 ** 15]))
    lying_metrics(adam, "set-evalbatch-metrics", lambda m: m["config"].__setitem__("evaluationBatchSize", 0))
    lying_metrics(adam, "set-epochs-metrics", lambda m: m["config"].__setitem__("epochs", 9 * 10 ** 18))

    def model_config(change):
        def apply(tensors, metadata):
            if "fashionlab_config" not in metadata:
                return None
            config = json.loads(metadata["fashionlab_config"])
            change(config)
            metadata["fashionlab_config"] = json.dumps(config, separators=(",", ":"))
            return tensors, metadata
        return apply
    lying_model(os.path.join(adam, "model.safetensors"), "set-hidden-meta.safetensors",
                model_config(lambda c: c.__setitem__("hidden", [10 ** 15])))
    lying_checkpoint(adam, "set-batch0-ckpt", lambda c: c.__setitem__("batchSize", 0))
    lying_checkpoint(adam, "set-evalbatch0-ckpt", lambda c: c.__setitem__("evaluationBatchSize", 0))
    lying_checkpoint(adam, "set-epochs-ckpt", lambda c: c.__setitem__("epochs", 9 * 10 ** 18))

    # BatchNorm buffers of another dtype or value (the CNN's first BatchNorm is layer 1).
    def bn(name, dtype, shape, blob):
        def apply(tensors, metadata):
            if not any(t[0] == name for t in tensors):
                return None
            return [(n, dtype, shape, blob) if n == name else (n, d, s, b) for n, d, s, b in tensors], metadata
        return apply
    cnn_model = os.path.join(cnn, "model.safetensors")
    entries, _, data = st_read(cnn_model)
    count = struct.unpack("<q", tensor_bytes(entries, data, "1.num_batches_tracked"))[0]
    var = struct.unpack("<32f", tensor_bytes(entries, data, "1.running_var"))
    lying_model(cnn_model, "bn-count-i32.safetensors", bn("1.num_batches_tracked", "I32", [], struct.pack("<i", count)))
    lying_model(cnn_model, "bn-var-f64.safetensors", bn("1.running_var", "F64", [32], struct.pack("<32d", *var)))
    lying_model(cnn_model, "bn-count-f64-nan.safetensors", bn("1.num_batches_tracked", "F64", [], struct.pack("<d", float("nan"))))
    lying_model(cnn_model, "bn-mean-nan.safetensors", bn("1.running_mean", "F32", [32], struct.pack("<32f", *([float("nan")] * 32))))

    # Integer overflow.
    write("picture.png", small_png())
    write("ovf-ihdr.png", png(0x7FFFFFFF, 0x7FFFFFFF, zlib.compress(b"\x00" * 64)))
    idx = os.path.join(OUT, "in", "ovf-idx")
    os.makedirs(idx, exist_ok=True)
    for f in FILES[1:]:
        shutil.copy(os.path.join(SYSTEM_DATA, f), idx)
    with gzip.open(os.path.join(idx, FILES[0]), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + b"\x00" * 64)
    note("wrote in/ovf-idx (train images 0xffffffff × 0xffffffff × 0xffffffff)")

    entries, metadata, data = st_read(os.path.join(adam, "model.safetensors"))
    tensors = st_tensors(entries, data)
    laid = []
    offset = 0
    for n, d, s, b in tensors:
        laid.append((n, d, [2 ** 32, 2 ** 32, 16] if n == "0.weight" else s, None, (offset, offset + len(b))))
        offset += len(b)
    # st_write lays out nothing for explicit-offset tensors, so append the real bytes by hand afterwards.
    path = os.path.join(OUT, "in", "ovf-shape.safetensors")
    st_write(path, laid, metadata)
    with open(path, "ab") as f:
        f.write(b"".join(t[3] for t in tensors))
    note("wrote in/ovf-shape.safetensors (0.weight shape [2^32, 2^32, 16])")

    # No 0 or 1 among the values: binaries before the study-file fix read JSON 0 and 1 as booleans.
    big = list(range(2, 1002))
    study("ovf-grid.json", {"name": "huge-grid", "base": {"optimizer": "sgd"},
                            "grid": {"seed": big,
                                     "lr": [round(0.0005 * i, 6) for i in big],
                                     "momentum": [round(i / 2000, 6) for i in big],
                                     "weight-decay": [round(i * 1e-5, 8) for i in big],
                                     "batch-size": big,
                                     "epochs": big,
                                     "hidden": [[i] for i in big]}})

    # Escaping.
    study("esc-name.json", {"name": ESCAPE_TEXT, "base": QUICK2})
    study("esc-dotdot.json", {"name": "..", "base": QUICK2})
    label_dir = os.path.join(OUT, "in", "esc-label", "<\u0338script>\"\u0301run")
    os.makedirs(os.path.dirname(label_dir), exist_ok=True)
    if os.path.exists(label_dir):
        shutil.rmtree(label_dir)
    shutil.copytree(adam, label_dir, ignore=shutil.ignore_patterns(".fashionlab.lock"))
    note("wrote in/esc-label/<U+0338script>\"U+0301run (a run directory named with markup)")

    # Bounded work.
    def extreme(m):
        values = [1e308, -1e308, "inf", "nan", "-inf"]
        template = m["epochs"][0]
        m["epochs"] = []
        for i, v in enumerate(values * 4):
            e = dict(template)
            e["epoch"] = i + 1
            e["trainLoss"] = v
            e["validationLoss"] = values[(i + 2) % len(values)]
            e["trainAccuracy"] = 1e308 if i % 3 == 0 else 0.5
            m["epochs"].append(e)
        m["config"]["epochs"] = len(m["epochs"])
    lying_metrics(adam, "bound-extreme-losses", extreme)
    write("bound-huge.png", huge_png(20000, 20000))

    # Runs and files.
    copy_run(adam, "finished-run")
    note("wrote in/finished-run (a finished run to train over)")
    entries, metadata, data = st_read(os.path.join(adam, "model.safetensors"))
    tensors = st_tensors(entries, data)
    w = next(t for t in tensors if t[0] == "0.weight")
    dup = tensors + [("0.weight", "F32", w[2], b"\x00" * len(w[3]))]  # the same name again, all zeros
    st_write(os.path.join(OUT, "in", "dup-tensor.safetensors"), dup, metadata)
    note("wrote in/dup-tensor.safetensors (0.weight twice: the real one, then zeros)")
    missing = os.path.join(OUT, "in", "missing-file")
    os.makedirs(missing, exist_ok=True)
    for f in FILES[:3]:
        shutil.copy(os.path.join(SYSTEM_DATA, f), missing)
    note("wrote in/missing-file (3 of the 4 files: no t10k-labels)")

    # Study files.
    study("study-int-epochs.json", {"name": "int-epochs", "base": QUICK, "grid": {"seed": [0, 1, 2]}})


if __name__ == "__main__":
    main()
