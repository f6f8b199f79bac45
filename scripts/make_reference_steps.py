#!/usr/bin/env python3
"""PyTorch's numbers for whole training steps on real Fashion-MNIST batches (the committed fidelity cases).

For each case: a small network (the notebook's MLP with a 32-unit hidden layer, and a small CNN with
BatchNorm), its initial weights, consecutive batches of 32 training images in file order from
`first_index`, the first step's logits and gradients, each step's loss and the weights after all steps.
Computed in float64 from float32 initial weights, stored as float32 in
Tests/FashionTrainingTests/Fixtures/reference/NAME.safetensors (a few hundred kB each). The same case is
also run in PyTorch float32, and its largest errors against the float64 numbers (max |a - b| / max |b|
per tensor) are printed and stored in the metadata as `pytorch_float32`: the floor a float32
implementation is measured against.

Tensors: `init.<state_dict name>`, `grad.<name>` (first step), `final.<name>` (after all steps),
`final_buffers.<name>` (BatchNorm running statistics after all steps), `x` (first batch, encoded as the
case says, shaped [32] + input_shape), `y` (int32), `logits` (first step), `losses` (each step), and
`pixels` (uint8 [steps * 32, 28, 28]) with `labels` (int32 [steps * 32]): every step's images as stored in
the training file, so the cases replay without the dataset. Metadata: optimizer (sgd|adam), lr, steps,
scale (True|False), first_index, batch_size, seed, torch, and `model`, the network as JSON
(PyTorch constructor argument names, the format of `Sequential(description:)`).

    .venv/bin/python scripts/make_reference_steps.py   # data from $FASHIONLAB_DATA or /usr/share/datasets/fashion-mnist
"""
import gzip
import json
import os
import numpy as np
import torch
from safetensors.torch import save_file

BATCH = 32
DATA = os.environ.get("FASHIONLAB_DATA", "/usr/share/datasets/fashion-mnist")
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "FashionTrainingTests", "Fixtures", "reference")

MLP = {"input_shape": [784], "layers": [
    {"type": "Linear", "in_features": 784, "out_features": 32, "bias": True},
    {"type": "ReLU"},
    {"type": "Linear", "in_features": 32, "out_features": 10, "bias": True}]}
CNN = {"input_shape": [1, 28, 28], "layers": [
    {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 1, "bias": True},
    {"type": "BatchNorm2d", "num_features": 4, "eps": 1e-05, "momentum": 0.1},
    {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Flatten"},
    {"type": "Linear", "in_features": 784, "out_features": 10, "bias": True}]}

# name, model, optimizer, lr, steps, scale, first_index, seed
CASES = [
    ("mlp32_sgd_1step", MLP, "sgd", 0.01, 1, True, 0, 0),
    ("mlp32_adam_3steps", MLP, "adam", 0.001, 3, True, 320, 1),
    ("mlp32_adam_unscaled_2steps", MLP, "adam", 0.001, 2, False, 6400, 2),
    ("cnn_bn_adam_2steps", CNN, "adam", 0.001, 2, True, 1280, 3),
]


def read_idx(name):
    for candidate in (name, name[:-3]):
        path = os.path.join(DATA, candidate)
        if os.path.exists(path):
            data = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
            break
    else:
        raise SystemExit(f"{name} is not in {DATA} (set FASHIONLAB_DATA)")
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def build(description):
    layers = []
    for layer in description["layers"]:
        kind, args = layer["type"], {k: v for k, v in layer.items() if k != "type"}
        layers.append({"Linear": torch.nn.Linear, "ReLU": torch.nn.ReLU, "Conv2d": torch.nn.Conv2d,
                       "BatchNorm2d": torch.nn.BatchNorm2d, "MaxPool2d": torch.nn.MaxPool2d,
                       "Flatten": torch.nn.Flatten}[kind](**args))
    return torch.nn.Sequential(*layers)


def replay(description, init, batches, optimizer_name, lr, dtype):
    """Runs the steps in `dtype` from `init`; returns the first logits and gradients, losses, final state."""
    model = build(description).to(dtype)
    model.load_state_dict(init)
    model.train()
    optimizer = (torch.optim.SGD if optimizer_name == "sgd" else torch.optim.Adam)(model.parameters(), lr=lr)
    logits0, grads0, losses = None, None, []
    for x, y in batches:
        optimizer.zero_grad()
        logits = model(x.to(dtype))
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        if logits0 is None:
            logits0 = logits.detach().clone()
            grads0 = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
        losses.append(loss.item())
        optimizer.step()
    return logits0, grads0, torch.tensor(losses, dtype=torch.float64), model


def error(a, b, scale=None):
    """max |a - b| / max |b| (or / scale)."""
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / (b.abs().max() if scale is None else torch.tensor(scale)).clamp_min(1e-30)).item()


def gradient_error(grads32, grads, n):
    """As ReferenceCheck measures it: a gradient that is zero to rounding (below 1e-6 of the step's largest, as a
    convolution's bias before a BatchNorm) against the largest gradient instead of its own."""
    largest = max(g.abs().max().item() for g in grads.values())
    own = grads[n].abs().max().item()
    return error(grads32[n], grads[n], largest if own < 1e-6 * largest else None)


images, labels = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
os.makedirs(OUT, exist_ok=True)
for name, description, optimizer_name, lr, steps, scale, first_index, seed in CASES:
    torch.manual_seed(seed)
    init = {k: v.detach().clone() for k, v in build(description).state_dict().items()}  # float32, PyTorch's init
    rows = slice(first_index, first_index + steps * BATCH)
    pixels = torch.from_numpy(images[rows].copy())  # [steps * 32, 28, 28], as in the file
    targets = torch.from_numpy(labels[rows].astype(np.int64))
    sample_shape = description["input_shape"]
    batches = []
    for step in range(steps):
        x = pixels[step * BATCH:(step + 1) * BATCH].to(torch.float64)
        if scale:
            x = x / 255
        batches.append((x.reshape([BATCH] + sample_shape), targets[step * BATCH:(step + 1) * BATCH]))

    logits, grads, losses, model = replay(description, {k: v.double() if v.is_floating_point() else v for k, v in init.items()},
                                          batches, optimizer_name, lr, torch.float64)
    # The same case in PyTorch float32 (inputs encoded in float32, as FashionLab does).
    f32_batches = [((pixels[i * BATCH:(i + 1) * BATCH].float() / (255 if scale else 1)).reshape(x.shape), y)
                   for i, (x, y) in enumerate(batches)]
    logits32, grads32, losses32, model32 = replay(description, init, f32_batches, optimizer_name, lr, torch.float32)
    state, state32 = model.state_dict(), model32.state_dict()
    float32 = {
        "logits": error(logits32, logits),
        "losses": max(error(losses32[i:i + 1], losses[i:i + 1]) for i in range(steps)),
        "gradients": max(gradient_error(grads32, grads, n) for n in grads),
        "weights": max(error(state32[n], state[n]) for n, _ in model.named_parameters()),
        "gradients_by_name": {n: float(f"{gradient_error(grads32, grads, n):.3g}") for n in grads},
        "weights_by_name": {n: float(f"{error(state32[n], state[n]):.3g}") for n, _ in model.named_parameters()},
        "buffers_by_name": {n: float(f"{error(state32[n], state[n]):.3g}") for n, b in model.named_buffers() if b.is_floating_point()},
        "largest_gradient": float(f"{max(g.abs().max().item() for g in grads.values()):.3g}"),
        "largest_gradient_by_name": {n: float(f"{g.abs().max().item():.3g}") for n, g in grads.items()},
    }

    out = {"x": batches[0][0], "y": batches[0][1].to(torch.int32), "logits": logits, "losses": losses,
           "pixels": pixels, "labels": targets.to(torch.int32)}
    parameter_names = [n for n, _ in model.named_parameters()]
    for n in parameter_names:
        out["init." + n] = init[n]
        out["grad." + n] = grads[n]
        out["final." + n] = state[n]
    for n, buffer in model.named_buffers():
        if buffer.is_floating_point():
            out["final_buffers." + n] = buffer
    out = {k: (v.to(torch.float32) if v.is_floating_point() else v).contiguous() for k, v in out.items()}
    metadata = {"optimizer": optimizer_name, "lr": repr(lr), "steps": str(steps), "scale": str(scale),
                "first_index": str(first_index), "batch_size": str(BATCH), "seed": str(seed), "torch": torch.__version__,
                "model": json.dumps(description, separators=(",", ":")),
                "pytorch_float32": json.dumps(float32, separators=(",", ":")),
                "note": "float64 computation from float32 initial weights, stored as float32; x encoded as the case says; "
                        "pixels/labels are every step's batch from the training file"}
    path = os.path.join(OUT, name + ".safetensors")
    save_file(out, path, metadata=metadata)
    print(f"{os.path.normpath(path)}: {os.path.getsize(path)} bytes; losses {[round(v, 5) for v in losses.tolist()]}; "
          f"PyTorch float32 against float64: {json.dumps(float32)}")
