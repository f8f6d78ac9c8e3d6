"""PyTorch reference of the kit's networks and losses, for the cross-check and the side-by-side timing of `dpag bench`.

Written for PyTorch 1.13 (Debian's python3-torch) and newer. What it mirrors, module by module and key by key:
- ConditionalUnet1D (docs/design pusht.md "Training recipe"; lib/DpAg/Nets/ConditionalUnet1D.cs), with the same
  state-dict keys as the kit's policies ("model.down_modules.0.0.blocks.0.block.0.weight", ...), with the
  cond_predict_scale = false option too. tests/DpAg.Tests/Nets/golden/unet_golden.py pins the C# U-Net against it.
- The low-dim observation encoder (identity: the feature is the flattened observation window).
- The DDPM forward process with the squaredcos_cap_v2 schedule (float32 betas, float32 cumprod).
- DP's loss: mean (eps_theta(a^k, z, k) - eps)^2 (lib/DpAg/Policies/DiffusionPolicy.cs).
- DP-AG's loss as the authors' released code computes it (method.md; ActionGuidedConfig.ReleasedCode in the kit):
  identity mu, log sigma^2 = Linear(feature) clamped to [-10, 2], VJP = grad(eps, z, eps) detached and L2-normalised
  per obs step, z_guided = mu + sigma * unit_VJP, eps_guided under no_grad, one-way InfoNCE (positive in the
  denominator, cosine on the flattened chunk, tau 0.8), KL to N(0, I) mean-reduced, target noise / 0.4, weights 1 and 1.
  `released_way=True` builds the VJP with create_graph=True and then detaches it, as the released code does.

Weights and inputs travel as safetensors files (lib/DpAg/IO/TensorExchange.cs writes and reads the same format).
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------------------------
# Tensor exchange: the safetensors layout (8-byte little-endian header length, JSON header, raw little-endian data).
_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
_NAMES = {v: k for k, v in _DTYPES.items()}


def load_tensors(path):
    """Reads a safetensors file into {name: tensor}."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        raw = bytearray(body[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def save_tensors(path, tensors):
    """Writes {name: tensor} as a safetensors file (names sorted, contiguous little-endian data)."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


# ---------------------------------------------------------------------------------------------------------------
# Networks (state-dict keys as in the kit).
class Conv1dBlock(nn.Module):
    def __init__(self, cin, cout, k, g):
        super().__init__()
        self.block = nn.Sequential(nn.Conv1d(cin, cout, k, padding=k // 2), nn.GroupNorm(g, cout), nn.Mish())

    def forward(self, x):
        return self.block(x)


class ConditionalResidualBlock1D(nn.Module):
    def __init__(self, cin, cout, cond_dim, k, g, cond_predict_scale):
        super().__init__()
        self.blocks = nn.ModuleList([Conv1dBlock(cin, cout, k, g), Conv1dBlock(cout, cout, k, g)])
        self.cout = cout
        self.cps = cond_predict_scale
        self.cond_encoder = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * cout if cond_predict_scale else cout))
        self.residual_conv = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, cond):                                   # x (B, C_in, T), cond (B, Dc)
        h = self.blocks[0](x)
        e = self.cond_encoder(cond)
        if self.cps:
            e = e.reshape(e.shape[0], 2, self.cout, 1)
            h = e[:, 0] * h + e[:, 1]
        else:
            h = h + e.unsqueeze(-1)
        h = self.blocks[1](h)
        return h + self.residual_conv(x)


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):                                         # (B,) -> (B, dim)
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, dtype=t.dtype, device=t.device) * -(math.log(10000) / (half - 1)))
        a = t[:, None] * freqs[None, :]
        return torch.cat([a.sin(), a.cos()], dim=-1)


class Downsample1d(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv = nn.Conv1d(d, d, 3, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Upsample1d(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.conv = nn.ConvTranspose1d(d, d, 4, 2, 1)

    def forward(self, x):
        return self.conv(x)


class ConditionalUnet1D(nn.Module):
    def __init__(self, input_dim, global_cond_dim, dsed, down_dims, k, g, cond_predict_scale=True):
        super().__init__()
        self.diffusion_step_encoder = nn.Sequential(
            SinusoidalPosEmb(dsed), nn.Linear(dsed, 4 * dsed), nn.Mish(), nn.Linear(4 * dsed, dsed))
        cd = dsed + global_cond_dim
        alld = [input_dim] + list(down_dims)
        io = list(zip(alld[:-1], alld[1:]))
        R = lambda a, b: ConditionalResidualBlock1D(a, b, cd, k, g, cond_predict_scale)  # noqa: E731
        self.down_modules = nn.ModuleList([
            nn.ModuleList([R(a, b), R(b, b), Downsample1d(b) if i < len(io) - 1 else nn.Identity()])
            for i, (a, b) in enumerate(io)])
        self.mid_modules = nn.ModuleList([R(alld[-1], alld[-1]), R(alld[-1], alld[-1])])
        self.up_modules = nn.ModuleList([
            nn.ModuleList([R(2 * b, a), R(a, a), Upsample1d(a)]) for (a, b) in reversed(io[1:])])
        self.final_conv = nn.Sequential(Conv1dBlock(down_dims[0], down_dims[0], k, g), nn.Conv1d(down_dims[0], input_dim, 1))

    def forward(self, sample, t, gcond):                          # sample (B, T, Da), t (B,), gcond (B, Dg)
        x = sample.transpose(1, 2)
        cond = torch.cat([self.diffusion_step_encoder(t.to(sample.dtype).expand(sample.shape[0])), gcond], dim=-1)
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


class GaussianPosterior(nn.Module):
    """Released code: mu = feature (identity), log sigma^2 = Linear(feature) clamped to [-10, 2]."""

    def __init__(self, f, logvar_min=-10.0, logvar_max=2.0):
        super().__init__()
        self.logvar_head = nn.Linear(f, f)
        self.lo, self.hi = logvar_min, logvar_max

    def forward(self, feature):
        logvar = self.logvar_head(feature).clamp(self.lo, self.hi)
        return feature, logvar, torch.exp(0.5 * logvar)


class Config:
    """The policy shape; the JSON keys are the kit's DiffusionPolicyConfig field names in snake case."""

    def __init__(self, d):
        self.obs_dim = int(d.get("obs_dim", 20))
        self.action_dim = int(d.get("action_dim", 2))
        self.obs_steps = int(d.get("obs_steps", 2))
        self.horizon = int(d.get("horizon", 16))
        self.down_dims = [int(x) for x in d.get("down_dims", [256, 512, 1024])]
        self.step_embed_dim = int(d.get("step_embed_dim", 256))
        self.kernel_size = int(d.get("kernel_size", 5))
        self.n_groups = int(d.get("n_groups", 8))
        self.cond_predict_scale = bool(d.get("cond_predict_scale", True))
        self.num_train_timesteps = int(d.get("num_train_timesteps", 100))


class Policy(nn.Module):
    """DP (dpag=False) or DP-AG released code (dpag=True), low-dim observations: keys model.* and posterior.*."""

    def __init__(self, cfg, dpag):
        super().__init__()
        self.cfg = cfg
        self.model = ConditionalUnet1D(cfg.action_dim, cfg.obs_steps * cfg.obs_dim, cfg.step_embed_dim, cfg.down_dims,
                                       cfg.kernel_size, cfg.n_groups, cfg.cond_predict_scale)
        self.posterior = GaussianPosterior(cfg.obs_dim) if dpag else None
        self.register_buffer("alphas_cumprod", cosine_alphas_cumprod(cfg.num_train_timesteps), persistent=False)

    def load_kit_state(self, tensors):
        """Copies every parameter from the kit's state dict by name; raises when one is missing or misshaped."""
        own = self.state_dict()
        missing = [k for k in own if k not in tensors]
        if missing:
            raise KeyError(f"kit state dict lacks {missing[:5]} (of {len(missing)}); it has {sorted(tensors)[:5]}...")
        with torch.no_grad():
            for k, v in own.items():
                if tuple(tensors[k].shape) != tuple(v.shape):
                    raise ValueError(f"{k}: kit shape {tuple(tensors[k].shape)}, reference {tuple(v.shape)}")
                v.copy_(tensors[k])
        return sorted(k for k in tensors if k not in own)

    def add_noise(self, action, noise, k):                        # a^k = sqrt(abar) a^0 + sqrt(1 - abar) eps
        abar = self.alphas_cumprod[k].reshape(-1, 1, 1)
        return abar.sqrt() * action + (1 - abar).sqrt() * noise


def cosine_alphas_cumprod(n, max_beta=0.999):
    """squaredcos_cap_v2: betas in float64 rounded to float32, then float32 alphas and cumprod (as diffusers)."""
    ab = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    betas = torch.tensor([min(1 - ab((i + 1) / n) / ab(i / n), max_beta) for i in range(n)], dtype=torch.float32)
    return torch.cumprod(1.0 - betas, 0)


# ---------------------------------------------------------------------------------------------------------------
# Losses.
def dp_loss(policy, obs, action, noise, k):
    """DP: obs (B, To, Do), action (B, T, Da), noise like action, k (B,) int64 -> dict(loss, denoise, eps)."""
    noisy = policy.add_noise(action, noise, k)
    eps = policy.model(noisy, k, obs.flatten(1))
    loss = F.mse_loss(eps, noise)
    return {"loss": loss, "denoise": loss.detach(), "eps": eps}


def dpag_loss(policy, obs, action, noise, k, released_way=False, tau=0.8, target_scale=1 / 0.4):
    """DP-AG as the released code computes it; `released_way` pays for create_graph=True as the released code does."""
    noisy = policy.add_noise(action, noise, k)
    feature = obs                                                  # low-dim encoder: identity, (B, To, F)
    mu, logvar, sigma = policy.posterior(feature)
    z = mu if mu.requires_grad else mu.detach().requires_grad_(True)
    eps = policy.model(noisy, k, z.flatten(1))                     # (B, T, Da)
    if released_way:
        vjp = torch.autograd.grad(eps, z, eps, retain_graph=True, create_graph=True)[0].detach()
    else:
        vjp = torch.autograd.grad(eps, z, eps.detach(), retain_graph=True, create_graph=False)[0]
    unit = vjp / vjp.norm(dim=-1, keepdim=True).clamp_min(1e-8)    # per obs step
    z_guided = mu + sigma * unit
    with torch.no_grad():
        eps_guided = policy.model(noisy, k, z_guided.flatten(1))
    denoise = F.mse_loss(eps, noise * target_scale)
    b = eps.shape[0]
    a = F.normalize(eps.reshape(b, -1), dim=-1)
    c = F.normalize(eps_guided.reshape(b, -1), dim=-1)
    contrastive = F.cross_entropy(a @ c.t() / tau, torch.arange(b, device=eps.device))
    kl = (0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar)).mean()
    loss = denoise + contrastive + kl
    return {"loss": loss, "denoise": denoise.detach(), "contrastive": contrastive.detach(), "kl": kl.detach(),
            "eps": eps, "eps_guided": eps_guided, "z_guided": z_guided.detach()}
