#!/usr/bin/env python3
"""Checks an ONNX model that FashionLab exported with the real consumers: ONNX's checker and onnxruntime.

    python scripts/check_onnx.py MODEL.onnx --images IMAGES.u8 --logits LOGITS.f32 [--labels LABELS.u8]

IMAGES.u8 holds N images as raw bytes (N × the model's input size, e.g. 784), LOGITS.f32 the logits FashionLab
computed for them (N × classes float32, little-endian), LABELS.u8 their labels (optional: accuracies then). The
images are fed to onnxruntime as they are stored, raw pixel values 0…255 as float32: the model applies the input
encoding itself. Prints the checker's verdict and one JSON line: images, images whose class agrees, the largest
|logit difference|, the class names in the model's metadata (and accuracies). Exits 1 when the checker fails.
"""
import argparse, json, sys
import numpy as np
import onnx
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--images", required=True)
    ap.add_argument("--logits", required=True)
    ap.add_argument("--labels")
    a = ap.parse_args()

    model = onnx.load(a.model)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as error:
        print(f"onnx.checker: FAILED: {error}")
        sys.exit(1)
    print(f"onnx.checker: ok (onnx {onnx.__version__}, ir_version {model.ir_version}, "
          f"opset {', '.join(str(o.version) for o in model.opset_import)})")

    session = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    (given,) = session.get_inputs()
    sample = [int(d) for d in given.shape[1:]]
    size = int(np.prod(sample))
    images = np.fromfile(a.images, dtype=np.uint8)
    count = images.size // size
    inputs = images.reshape([count] + sample).astype(np.float32)
    ours = np.fromfile(a.logits, dtype="<f4").reshape(count, -1)
    theirs = np.concatenate([session.run(None, {given.name: inputs[i:i + 1000]})[0] for i in range(0, count, 1000)])
    result = {
        "images": count,
        "agreeing": int((ours.argmax(1) == theirs.argmax(1)).sum()),
        "max_logit_difference": float(np.abs(ours - theirs).max()),
        "max_abs_logit": float(np.abs(ours).max()),
        "class_names": json.loads({p.key: p.value for p in model.metadata_props}.get("class_names", "null")),
        "onnxruntime": ort.__version__,
    }
    if a.labels:
        labels = np.fromfile(a.labels, dtype=np.uint8)
        result["accuracy_onnxruntime"] = float((theirs.argmax(1) == labels).mean())
        result["accuracy_fashionlab"] = float((ours.argmax(1) == labels).mean())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
