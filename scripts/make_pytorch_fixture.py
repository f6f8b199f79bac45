#!/usr/bin/env python3
"""Makes the PyTorch-trained model that FashionLab's tests import (Tests/FashionTrainingTests/Fixtures):
a small CNN with BatchNorm, pooling and dropout, trained in PyTorch for one epoch on normalised inputs, written by
save_for_fashionlab.py with its description and encoding, beside PyTorch's own test results (all 10,000 images,
with the normalisation and, to show it matters, without it).

    python scripts/make_pytorch_fixture.py [--data /usr/share/datasets/fashion-mnist]
"""
import argparse, json, os
import torch, torch.nn as nn
from pytorch_models import idx
from save_for_fashionlab import save_for_fashionlab

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "FashionTrainingTests", "Fixtures")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("FASHIONLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    a = ap.parse_args()
    torch.manual_seed(0)
    train_x = idx(os.path.join(a.data, "train-images-idx3-ubyte.gz")).float().div(255).view(-1, 1, 28, 28)
    train_y = idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz")).long()
    test_x = idx(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")).float().div(255).view(-1, 1, 28, 28)
    test_y = idx(os.path.join(a.data, "t10k-labels-idx1-ubyte.gz")).long()
    mean, std = train_x.mean().item(), train_x.std(unbiased=False).item()

    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(16 * 7 * 7, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    model.train()
    for batch in torch.randperm(len(train_x)).split(64):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model((train_x[batch] - mean) / std), train_y[batch]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        correct = (model((test_x - mean) / std).argmax(-1) == test_y).sum().item()
        unnormalised = (model(test_x).argmax(-1) == test_y).sum().item()

    path = os.path.join(FIXTURES, "pytorch_cnn_normalised.safetensors")
    save_for_fashionlab(model, path, input_shape=[1, 28, 28], scale=True, normalization=(mean, std))
    reference = {"torch": torch.__version__, "correct": correct, "images": len(test_y),
                 "correct_without_normalisation": unnormalised, "mean": mean, "std": std}
    with open(os.path.join(FIXTURES, "pytorch_cnn_normalised.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")
    print(f"PyTorch {torch.__version__}: {correct} of {len(test_y)} test images ({correct / len(test_y):.2%}) with the "
          f"normalisation, {unnormalised} without it; wrote {path}")


if __name__ == "__main__":
    main()
