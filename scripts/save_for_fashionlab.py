#!/usr/bin/env python3
"""Writes a PyTorch nn.Sequential as a FashionLab model file, so that `fashionlab evaluate`, `predict` and
`serve` treat it as any FashionLab model (docs/interop.md, "PyTorch in"):

    from save_for_fashionlab import save_for_fashionlab
    save_for_fashionlab(model, "model.safetensors", input_shape=[1, 28, 28], scale=True, normalization=(0.286, 0.353))

The file holds the state_dict as it is (PyTorch's names: 0.weight, …) and two metadata entries:
- `fashionlab_model`: the model description, one `{"type": <nn class>, <constructor arguments>}` per layer
  (what `fashionlab train --model FILE` and `scripts/load_in_pytorch.py` read);
- `fashionlab_encoding`: how raw pixels 0…255 become the network's inputs, as the model was trained:
  `{"scale": true}` divides by 255, `"normalization": {"mean": m, "std": s}` then subtracts m and divides by s.
It records nothing about training (FashionLab then says so instead of inventing settings). Layers FashionLab does
not have, or settings it cannot compute (groups, dilation, non-square kernels), are refused, naming the layer.
"""
import json

import torch.nn as nn
from safetensors.torch import save_file


def _square(value, name, index):
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(f"layer {index}: {name} {tuple(value)} is not square; FashionLab's layers are")
        value = value[0]
    return int(value)


def describe(model, input_shape):
    """The FashionLab model description of an nn.Sequential of the layers FashionLab has."""
    layers = []
    for index, m in enumerate(model):
        if isinstance(m, nn.Linear):
            layers.append({"type": "Linear", "in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None})
        elif isinstance(m, nn.Conv2d):
            if m.groups != 1 or _square(m.dilation, "dilation", index) != 1 or m.padding_mode != "zeros":
                raise ValueError(f"layer {index} (Conv2d): groups, dilation and padding modes other than zeros are not in FashionLab")
            layers.append({"type": "Conv2d", "in_channels": m.in_channels, "out_channels": m.out_channels,
                           "kernel_size": _square(m.kernel_size, "kernel_size", index), "stride": _square(m.stride, "stride", index),
                           "padding": _square(m.padding, "padding", index), "bias": m.bias is not None})
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if not m.affine or not m.track_running_stats:
                raise ValueError(f"layer {index} ({type(m).__name__}): FashionLab's BatchNorm is affine and tracks running statistics")
            layers.append({"type": type(m).__name__, "num_features": m.num_features, "eps": m.eps, "momentum": m.momentum})
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            size = _square(m.kernel_size, "kernel_size", index)
            layers.append({"type": type(m).__name__, "kernel_size": size, "stride": _square(m.stride or size, "stride", index)})
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            layers.append({"type": "AdaptiveAvgPool2d", "output_size": _square(m.output_size, "output_size", index)})
        elif isinstance(m, nn.ReLU):
            layers.append({"type": "ReLU"})
        elif isinstance(m, nn.Flatten):
            layers.append({"type": "Flatten"})
        elif isinstance(m, nn.Dropout):
            layers.append({"type": "Dropout", "p": m.p})
        else:
            raise ValueError(f"layer {index} ({type(m).__name__}) is not a layer FashionLab has "
                             "(Linear, Conv2d, BatchNorm1d/2d, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Dropout)")
    return {"input_shape": list(input_shape), "layers": layers}


def save_for_fashionlab(model, path, input_shape, scale=True, normalization=None):
    """Writes `model` (an nn.Sequential) to `path` with its description and its input encoding; `normalization` is
    the (mean, std) subtracted and divided by after scaling, or None."""
    if not isinstance(model, nn.Sequential):
        raise TypeError("save_for_fashionlab takes an nn.Sequential")
    encoding = {"scale": bool(scale)}
    if normalization is not None:
        mean, std = normalization
        encoding["normalization"] = {"mean": float(mean), "std": float(std)}
    # Weights as float32; BatchNorm's num_batches_tracked stays an int64 counter, as FashionLab stores it.
    state = {name: tensor.detach().contiguous() if name.endswith("num_batches_tracked") else tensor.detach().float().contiguous()
             for name, tensor in model.state_dict().items()}
    metadata = {"format": "pt", "fashionlab_model": json.dumps(describe(model, input_shape)),
                "fashionlab_encoding": json.dumps(encoding)}
    save_file(state, path, metadata=metadata)
