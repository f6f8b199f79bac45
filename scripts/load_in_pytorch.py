#!/usr/bin/env python3
"""Loads a FashionLab model file or checkpoint (MLP or CNN) into PyTorch and measures its test accuracy.

    python scripts/load_in_pytorch.py runs/NAME/model.safetensors [--data /usr/share/datasets/fashion-mnist]
    python scripts/load_in_pytorch.py runs/NAME/checkpoint.safetensors

The checkpoint's tensors carry PyTorch's state_dict names, so it loads with strict=True into the
nn.Sequential its model description (`fashionlab_model` metadata, written by every FashionLab since
model descriptions exist: `{"type": "Conv2d", "in_channels": 1, …}` per layer) describes. Older files
fall back to the configuration: nn.Sequential(nn.Linear(784, H), nn.ReLU(), nn.Linear(H, 10)) — or, for
`--model cnn` and `--model cnn-large`, the nn.Sequentials of pytorch_models.py (FashionEngine's
`Sequential.cnn` and `Sequential.largeCNN`). Inputs are encoded as the run encoded them (scaled, normalised).
"""
import argparse, json, os
import torch, torch.nn as nn
from safetensors.torch import load_file
from safetensors import safe_open
from pytorch_models import encode, idx, model_for


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--data", default=os.environ.get("FASHIONLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    a = ap.parse_args()
    # A checkpoint also holds the optimiser's state and the batch order: not the model's.
    state = {name: tensor for name, tensor in load_file(a.checkpoint).items()
             if not name.startswith(("optimizer.", "batches."))}
    with safe_open(a.checkpoint, "pt") as f:
        metadata = f.metadata() or {}
    if "history" in metadata:  # a checkpoint: its configuration is in its history
        config = json.loads(metadata["history"])["config"]
    else:
        config = json.loads(metadata.get("fashionlab_config", "{}"))
    description = json.loads(metadata["fashionlab_model"]) if "fashionlab_model" in metadata else None
    if description is None and not config:
        raise SystemExit(f"{a.checkpoint}: no model description (metadata 'fashionlab_model') and no FashionLab "
                         "configuration: which network the tensors belong to cannot be known, so nothing is guessed")
    if "fashionlab_encoding" in metadata and "fashionlab_config" not in metadata:
        config = {**config, **json.loads(metadata["fashionlab_encoding"])}  # scripts/save_for_fashionlab.py's files
    model, shape = model_for(config, state, description)
    model.load_state_dict(state, strict=True)
    model.eval()
    x = encode(idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")), config).view(*shape)
    y = idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz")).long()
    with torch.no_grad():
        logits = model(x)
        accuracy = (logits.argmax(-1) == y).float().mean().item()
        loss = nn.functional.cross_entropy(logits, y).item()
    print(f"PyTorch {torch.__version__} loaded {a.checkpoint} (strict=True): "
          f"test accuracy {accuracy * 100:.2f}%, test loss {loss:.4f}")


if __name__ == "__main__":
    main()
