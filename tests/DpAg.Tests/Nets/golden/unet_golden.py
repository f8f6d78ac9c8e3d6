"""Golden output of a tiny ConditionalUnet1D, computed with PyTorch (Debian python3-torch 1.13) for
ConditionalUnet1DGoldenTests. The network is the PyTorch reference of bench/reference/dpag_reference.py (transcribed
from docs/design pusht.md, "Training recipe", with PyTorch's own layers); every parameter is set from its state-dict key
by a formula the C# test repeats, so a wrong key name, layer order or op semantic in the C# port changes the output.

Run: /usr/bin/python3 tests/DpAg.Tests/Nets/golden/unet_golden.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench", "reference"))
from dpag_reference import ConditionalUnet1D  # noqa: E402

torch.set_default_dtype(torch.float64)


def key_seed(key):
    return sum(ord(c) for c in key) % 1000


def fill(net):
    with torch.no_grad():
        for key, p in net.state_dict().items():
            n = p.numel()
            p.copy_((0.3 * torch.sin(torch.arange(n) * 0.37 + key_seed(key) * 0.01)).reshape(p.shape))


net = ConditionalUnet1D(2, 3, 8, [8, 16], 3, 4)
fill(net)
x = torch.sin(torch.arange(2 * 8 * 2) * 0.5).reshape(2, 8, 2)
g = torch.cos(torch.arange(2 * 3) * 0.7).reshape(2, 3)
t = torch.tensor([3, 71])
y = net(x, t, g)
print("keys", len(net.state_dict()), "params", sum(p.numel() for p in net.parameters()))
print(", ".join(repr(v) for v in y.flatten().tolist()))
