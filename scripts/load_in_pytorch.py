#!/usr/bin/env python3
"""Loads a FashionLab checkpoint (MLP or CNN) into PyTorch and measures its test accuracy.

    python scripts/load_in_pytorch.py runs/NAME/model.safetensors [--data /usr/share/datasets/fashion-mnist]

The checkpoint's tensors carry PyTorch's state_dict names, so it loads with strict=True into
nn.Sequential(nn.Linear(784, H), nn.ReLU(), nn.Linear(H, 10)) — or, for `--model cnn`, into the
nn.Sequential below (the same as FashionEngine's `Sequential.cnn`).
"""
import argparse, gzip, json, os
import numpy as np
import torch, torch.nn as nn
from safetensors.torch import load_file
from safetensors import safe_open


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(raw[3])]
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=4 + 4 * len(dims)).reshape(dims).copy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--data", default=os.environ.get("FASHIONLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    a = ap.parse_args()
    state = load_file(a.checkpoint)
    with safe_open(a.checkpoint, "pt") as f:
        config = json.loads(f.metadata().get("fashionlab_config", "{}"))
    if config.get("model") == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(3136, 256), nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, 10))
        shape = (-1, 1, 28, 28)
    else:
        sizes = [state[f"{i}.weight"].shape[0] for i in range(0, 2 * len(state), 2) if f"{i}.weight" in state]
        layers, width = [], 784
        for size in sizes[:-1]:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        model = nn.Sequential(*layers, nn.Linear(width, 10))
        shape = (-1, 784)
    model.load_state_dict(state, strict=True)
    model.eval()
    x = idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")).float().view(*shape)
    if config.get("scale", True):
        x = x / 255
    y = idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz")).long()
    with torch.no_grad():
        logits = model(x)
        accuracy = (logits.argmax(-1) == y).float().mean().item()
        loss = nn.functional.cross_entropy(logits, y).item()
    print(f"PyTorch {torch.__version__} loaded {a.checkpoint} (strict=True): "
          f"test accuracy {accuracy * 100:.2f}%, test loss {loss:.4f}")


if __name__ == "__main__":
    main()
