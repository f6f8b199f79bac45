"""FashionLab's models as PyTorch `nn.Sequential`s (the same `state_dict` names), and the dataset reader
the comparison scripts share."""
import gzip
import numpy as np
import torch, torch.nn as nn


def cnn():
    """FashionEngine's `Sequential.cnn`."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(3136, 256), nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, 10))


def cnn_large():
    """FashionEngine's `Sequential.largeCNN`."""
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
    return nn.Sequential(*block(1, 64), *block(64, 64), nn.MaxPool2d(2), *block(64, 128), *block(128, 128),
                         nn.MaxPool2d(2), *block(128, 256), *block(256, 256), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3),
                         nn.Linear(256, 10))


def mlp(state):
    """The MLP whose layer sizes the checkpoint's `0.weight`, `2.weight`, … give."""
    sizes = [state[f"{i}.weight"].shape[0] for i in range(0, 2 * len(state), 2) if f"{i}.weight" in state]
    layers, width = [], 784
    for size in sizes[:-1]:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 10))


def from_description(description):
    """The nn.Sequential a FashionLab model description (`fashionlab_model` metadata) describes: each layer is
    `{"type": <nn class>, <constructor arguments>…}`."""
    layers = []
    for layer in description["layers"]:
        arguments = dict(layer)
        layers.append(getattr(nn, arguments.pop("type"))(**arguments))
    return nn.Sequential(*layers)


def model_for(config, state, description=None):
    """The network a FashionLab checkpoint holds, and its input shape: from its model description when it has
    one (`fashionlab_model` metadata), else from the configuration (`fashionlab_config`) it names."""
    if description is None and config.get("model") == "custom":
        description = config.get("architecture")
    if description is not None:
        return from_description(description), (-1, *description["input_shape"])
    kind = config.get("model", "mlp")
    if kind == "cnn":
        return cnn(), (-1, 1, 28, 28)
    if kind == "cnn-large":
        return cnn_large(), (-1, 1, 28, 28)
    return mlp(state), (-1, 784)


def encode(pixels, config):
    """uint8 pixels → inputs as the run encoded them: /255 when scaled, then (x − mean) / std when normalised."""
    x = pixels.float()
    if config.get("scale", True):
        x = x / 255
    normalization = config.get("normalization")
    if normalization:
        x = (x - normalization["mean"]) / normalization["std"]
    return x


def idx(path):
    """An IDX file (optionally gzipped) as a uint8 tensor."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(raw[3])]
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=4 + 4 * len(dims)).reshape(dims).copy())
