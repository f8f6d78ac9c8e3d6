"""Golden output of a tiny ConditionalUnet1D, computed with PyTorch (Debian python3-torch 1.13) for
ConditionalUnet1DGoldenTests. The network is transcribed here from docs/design pusht.md ("Training recipe") with
PyTorch's own layers; every parameter is set from its state-dict key by a formula the C# test repeats, so a wrong
key name, layer order or op semantic in the C# port changes the output.

Run: /usr/bin/python3 tests/DpAg.Tests/Nets/golden/unet_golden.py
"""
import math
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)


class Conv1dBlock(nn.Module):
    def __init__(self, cin, cout, k, g):
        super().__init__()
        self.block = nn.Sequential(nn.Conv1d(cin, cout, k, padding=k // 2), nn.GroupNorm(g, cout), nn.Mish())

    def forward(self, x):
        return self.block(x)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, cond_dim, k, g):
        super().__init__()
        self.blocks = nn.ModuleList([Conv1dBlock(cin, cout, k, g), Conv1dBlock(cout, cout, k, g)])
        self.cout = cout
        self.cond_encoder = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * cout))
        self.residual_conv = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, cond):
        h = self.blocks[0](x)
        e = self.cond_encoder(cond).reshape(cond.shape[0], 2, self.cout, 1)
        h = e[:, 0] * h + e[:, 1]
        h = self.blocks[1](h)
        return h + self.residual_conv(x)


class PosEmb(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
        a = t[:, None] * freqs[None, :]
        return torch.cat([a.sin(), a.cos()], dim=-1)


class Down(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv = nn.Conv1d(d, d, 3, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv = nn.ConvTranspose1d(d, d, 4, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Unet(nn.Module):
    def __init__(self, input_dim, gc, dsed, dims, k, g):
        super().__init__()
        self.diffusion_step_encoder = nn.Sequential(PosEmb(dsed), nn.Linear(dsed, 4 * dsed), nn.Mish(), nn.Linear(4 * dsed, dsed))
        cd = dsed + gc
        alld = [input_dim] + dims
        io = list(zip(alld[:-1], alld[1:]))
        self.down_modules = nn.ModuleList([
            nn.ModuleList([ResBlock(a, b, cd, k, g), ResBlock(b, b, cd, k, g), Down(b) if i < len(io) - 1 else nn.Identity()])
            for i, (a, b) in enumerate(io)])
        self.mid_modules = nn.ModuleList([ResBlock(dims[-1], dims[-1], cd, k, g), ResBlock(dims[-1], dims[-1], cd, k, g)])
        self.up_modules = nn.ModuleList([
            nn.ModuleList([ResBlock(2 * b, a, cd, k, g), ResBlock(a, a, cd, k, g), Up(a)]) for (a, b) in reversed(io[1:])])
        self.final_conv = nn.Sequential(Conv1dBlock(dims[0], dims[0], k, g), nn.Conv1d(dims[0], input_dim, 1))

    def forward(self, sample, t, gcond):
        x = sample.transpose(1, 2)
        cond = torch.cat([self.diffusion_step_encoder(t.to(sample.dtype)), gcond], dim=-1)
        skips = []
        for r1, r2, down in self.down_modules:
            x = r2(r1(x, cond), cond)
            skips.append(x)
            x = down(x)
        for m in self.mid_modules:
            x = m(x, cond)
        for r1, r2, up in self.up_modules:
            x = torch.cat([x, skips.pop()], dim=1)
            x = up(r2(r1(x, cond), cond))
        return self.final_conv(x).transpose(1, 2)


def key_seed(key):
    return sum(ord(c) for c in key) % 1000


def fill(net):
    with torch.no_grad():
        for key, p in net.state_dict().items():
            n = p.numel()
            p.copy_((0.3 * torch.sin(torch.arange(n) * 0.37 + key_seed(key) * 0.01)).reshape(p.shape))


net = Unet(2, 3, 8, [8, 16], 3, 4)
fill(net)
x = torch.sin(torch.arange(2 * 8 * 2) * 0.5).reshape(2, 8, 2)
g = torch.cos(torch.arange(2 * 3) * 0.7).reshape(2, 3)
t = torch.tensor([3, 71])
y = net(x, t, g)
print("keys", len(net.state_dict()), "params", sum(p.numel() for p in net.parameters()))
print(", ".join(repr(v) for v in y.flatten().tolist()))
