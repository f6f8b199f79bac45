#!/usr/bin/env python3
"""Loads a FashionLab MLP checkpoint into PyTorch and measures its test accuracy.

    python scripts/load_in_pytorch.py runs/NAME/model.safetensors [--data /usr/share/datasets/fashion-mnist]

The checkpoint's tensors carry PyTorch's state_dict names, so it loads with strict=True into
nn.Sequential(nn.Linear(784, H), nn.ReLU(), nn.Linear(H, 10)).
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
    hidden = state["0.weight"].shape[0]
    model = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    model.load_state_dict(state, strict=True)
    x = idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")).float().view(-1, 784)
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
