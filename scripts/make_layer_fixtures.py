#!/usr/bin/env python3
"""PyTorch's numbers for FashionLab's Conv2d (im2col and Winograd), MaxPool2d, AvgPool2d, BatchNorm and global average pooling layers and the
label-smoothed cross-entropy (the fidelity fixtures).

Computes each layer's forward output and the gradients of sum(output * upstream) in float64, stores them
as float32 in Tests/FashionEngineTests/Fixtures/layers.safetensors (small: a few kB).

    .venv/bin/python scripts/make_layer_fixtures.py
"""
import os
import torch
from safetensors.torch import save_file

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
out = {}


def record(prefix, module, x, extra=()):
    x = x.clone().requires_grad_(True)
    y = module(x)
    upstream = torch.randn_like(y)
    (y * upstream).sum().backward()
    out[prefix + ".x"] = x.detach()
    out[prefix + ".y"] = y.detach()
    out[prefix + ".upstream"] = upstream
    out[prefix + ".dx"] = x.grad
    for name, parameter in module.named_parameters():
        out[f"{prefix}.{name}"] = parameter.detach()
        out[f"{prefix}.d{name}"] = parameter.grad
    for name, buffer in module.named_buffers():
        if buffer.dtype.is_floating_point:
            out[f"{prefix}.{name}"] = buffer.detach()


# Conv2d 3→4, 3×3, padding 1, on 2 images of 5×6; and 2→3, 3×3, stride 2, no padding, on 7×7.
record("conv_pad", torch.nn.Conv2d(3, 4, 3, padding=1), torch.randn(2, 3, 5, 6))
record("conv_stride", torch.nn.Conv2d(2, 3, 3, stride=2), torch.randn(2, 2, 7, 7))
# MaxPool2d 2×2 on 2×3×6×5 (odd width: floor mode drops the last column).
record("pool", torch.nn.MaxPool2d(2), torch.randn(2, 3, 6, 5))
# BatchNorm2d (training mode: batch statistics; running stats after one step) and BatchNorm1d.
bn2 = torch.nn.BatchNorm2d(3)
with torch.no_grad():
    bn2.weight.copy_(torch.randn(3)); bn2.bias.copy_(torch.randn(3))
record("bn2d", bn2, torch.randn(4, 3, 3, 2) * 2 + 1)
bn1 = torch.nn.BatchNorm1d(5)
with torch.no_grad():
    bn1.weight.copy_(torch.randn(5)); bn1.bias.copy_(torch.randn(5))
record("bn1d", bn1, torch.randn(6, 5) * 3 - 1)

# Global average pooling (AdaptiveAvgPool2d(1)) on 2×3×4×5.
record("gap", torch.nn.AdaptiveAvgPool2d(1), torch.randn(2, 3, 4, 5))
# Cross-entropy with label smoothing 0.1: 4 samples, 10 classes; the loss and its gradient.
logits = (torch.randn(4, 10) * 3).requires_grad_(True)
labels = torch.tensor([3, 0, 9, 3])
loss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)
loss.backward()
out["smoothing.logits"] = logits.detach()
out["smoothing.labels"] = labels.to(torch.float64)
out["smoothing.loss"] = loss.detach().reshape(1)
out["smoothing.dlogits"] = logits.grad

# Conv2d 16→8, 3×3, padding 1 on 3 images of 7×6: the size FashionLab computes by Winograd F(2×2, 3×3)
# (recorded last, so the fixtures above keep their values).
record("conv_winograd", torch.nn.Conv2d(16, 8, 3, padding=1), torch.randn(3, 16, 7, 6))
# AvgPool2d 2×2 on 2×3×6×5 (odd width: floor mode drops the last column) and 3×3 on 7×7 (appended last as well).
record("avgpool", torch.nn.AvgPool2d(2), torch.randn(2, 3, 6, 5))
record("avgpool3", torch.nn.AvgPool2d(3), torch.randn(2, 2, 7, 7))

path = os.path.join(os.path.dirname(__file__), "..", "Tests", "FashionEngineTests", "Fixtures", "layers.safetensors")
save_file({k: v.to(torch.float32).contiguous() for k, v in out.items()}, path,
          metadata={"torch": torch.__version__, "note": "float64 computation stored as float32"})
print(f"wrote {len(out)} tensors to {os.path.normpath(path)}")
