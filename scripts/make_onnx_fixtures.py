#!/usr/bin/env python3
"""Writes the ONNX files exported by PyTorch that FashionLab's ONNX import is tested on, with PyTorch's own results.

    python scripts/make_onnx_fixtures.py [--data /usr/share/datasets/fashion-mnist] [--out Tests/FashionInteropTests/Fixtures]

Needs torch (2.13 CPU), onnx and onnxruntime. Each model is an nn.Sequential of layers FashionLab has, trained
briefly on the real training set (seed 0), put in eval mode and exported with torch.onnx.export (the TorchScript
exporter, opset 17, a dynamic batch dimension):

- pytorch_mlp.onnx: Flatten, Linear(784, 64), ReLU, Linear(64, 10), trained on pixels / 255 and exported bare, as a
  user's model usually is: its encoding is then written into the model's metadata_props as fashionlab_encoding
  (the documented way to tell FashionLab, with the onnx package) — the graph itself is PyTorch's.
- pytorch_cnn.onnx: Conv2d, BatchNorm2d, ReLU, MaxPool2d, Conv2d, BatchNorm2d, ReLU, AvgPool2d, Conv2d, ReLU,
  AdaptiveAvgPool2d(1), Flatten, Dropout, Linear, BatchNorm1d, ReLU, Linear, trained on normalised pixels, exported
  with the encoding as its first module ((x / 255 - mean) / std, which exports as Div, Sub, Div), so the file takes
  raw pixels. The exporter folds each BatchNorm into the Conv or Gemm before it (eval mode).
- pytorch_cnn_batchnorm.onnx: the same model exported with TrainingMode.PRESERVE, which keeps its
  BatchNormalization nodes.
- pytorch_untrained_batchnorm.onnx: Flatten, Linear, BatchNorm1d, ReLU, Linear, untrained, exported with PRESERVE:
  its BatchNorm statistics arrive as Identity nodes of the weight and bias.
- pytorch_unsupported.onnx: Flatten, Linear, LeakyReLU, Linear, Sigmoid (untrained): operators FashionLab lacks.

pytorch_onnx_reference.json records, per trained model, PyTorch's test accuracy (the model in eval mode, on all
10,000 test images, float32) and onnxruntime's on the exported file.
"""
import argparse, json, os, sys
import numpy as np
import onnx, onnxruntime as ort
import torch, torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from pytorch_models import idx  # noqa: E402


class Encoding(nn.Module):
    """FashionLab's input encoding as a module: raw pixels 0…255 in, (x / 255 − mean) / std out."""

    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x / 255 - self.mean) / self.std


def train(model, images, labels, epochs, lr):
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), 64):
            batch = order[start:start + 64]
            optimizer.zero_grad()
            loss(model(images[batch]), labels[batch]).backward()
            optimizer.step()
    model.eval()


def export(model, path, training=torch.onnx.TrainingMode.EVAL):
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=17, dynamo=False, training=training,
                      input_names=["pixels"], output_names=["logits"],
                      dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}})


def onnxruntime_accuracy(path, raw, labels):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = np.concatenate([session.run(None, {"pixels": raw[i:i + 1000]})[0] for i in range(0, len(raw), 1000)])
    return int((logits.argmax(1) == labels).sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("FASHIONLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "FashionInteropTests", "Fixtures"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    load = lambda name: idx(os.path.join(a.data, name))
    train_x = load("train-images-idx3-ubyte.gz").float().unsqueeze(1)
    train_y = load("train-labels-idx1-ubyte.gz").long()
    test_x = load("t10k-images-idx3-ubyte.gz").float().unsqueeze(1)
    test_y = load("t10k-labels-idx1-ubyte.gz").long()
    raw_test = test_x.numpy()
    reference = {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__, "models": {}}

    def record(name, model, inputs, path, raw):
        """PyTorch's test accuracy on `inputs`, and onnxruntime's on the file given `raw`."""
        with torch.no_grad():
            correct = int((model(inputs).argmax(1) == test_y).sum())
        reference["models"][name] = {
            "file": os.path.basename(path), "images": len(test_y),
            "pytorch_correct": correct, "pytorch_accuracy": correct / len(test_y),
            "onnxruntime_correct": onnxruntime_accuracy(path, raw, test_y.numpy()),
        }
        print(name, reference["models"][name])

    # The MLP, trained on pixels / 255, exported bare; its encoding goes into the metadata.
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    train(mlp, train_x / 255, train_y, epochs=2, lr=0.001)
    path = os.path.join(a.out, "pytorch_mlp.onnx")
    export(mlp, path)
    model = onnx.load(path)
    entry = model.metadata_props.add()
    entry.key, entry.value = "fashionlab_encoding", json.dumps({"scale": True})
    onnx.save(model, path)
    # onnxruntime is given pixels / 255: this graph does not scale (FashionLab reads that from the metadata).
    record("mlp", mlp, test_x / 255, path, raw_test / np.float32(255))

    # The CNN, trained on normalised pixels, with the encoding as its first module.
    mean = float((train_x / 255).mean())
    std = float((train_x / 255).std(unbiased=False))
    cnn = nn.Sequential(
        Encoding(mean, std),
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))
    train(cnn, train_x, train_y, epochs=1, lr=0.003)
    path = os.path.join(a.out, "pytorch_cnn.onnx")
    export(cnn, path)
    record("cnn", cnn, test_x, path, raw_test)
    # The same model exported keeping its BatchNormalization nodes (TrainingMode.PRESERVE on a model in eval mode).
    path = os.path.join(a.out, "pytorch_cnn_batchnorm.onnx")
    export(cnn, path, training=torch.onnx.TrainingMode.PRESERVE)
    record("cnn_batchnorm", cnn, test_x, path, raw_test)

    # Untrained, so that its BatchNorm's running statistics equal its weight and bias (ones, zeros): PyTorch's
    # exporter then writes the statistics as Identity nodes of those initializers.
    untrained = nn.Sequential(nn.Flatten(), nn.Linear(784, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 10)).eval()
    export(untrained, os.path.join(a.out, "pytorch_untrained_batchnorm.onnx"), training=torch.onnx.TrainingMode.PRESERVE)

    unsupported = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.LeakyReLU(), nn.Linear(16, 10), nn.Sigmoid()).eval()
    export(unsupported, os.path.join(a.out, "pytorch_unsupported.onnx"))

    with open(os.path.join(a.out, "pytorch_onnx_reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
