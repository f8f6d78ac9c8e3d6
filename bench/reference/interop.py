"""PyTorch side of the kit's state-dict interop (dpag export-torch / import-torch; tests/DpAg.Tests/Interop).

Usage: /usr/bin/python3 bench/reference/interop.py MODE DIR
  from-kit  DIR/policy.pt is a file the kit exported. Loads it with plain torch.load into a module laid out as
            Diffusion Policy's DiffusionUnetLowdimPolicy (strict: every name and shape must match; a posterior is
            added when the file has posterior.* entries, as DP-AG has), runs it on DIR/inputs.safetensors and writes
            DIR/outputs.safetensors, and saves the loaded weights again with PyTorch's own torch.save as DIR/resaved.pt.
  to-kit    Builds that module with seeded random weights and a random normaliser, saves DIR/ema.pt with
            torch.save(policy.state_dict()) (and DIR/ckpt.pt, a checkpoint-shaped dict holding it under
            state_dicts['ema_model']), runs it on DIR/inputs.safetensors and writes DIR/outputs.safetensors.
  compare   Prints whether DIR/a.pt and DIR/b.pt hold the same names with bit-identical tensors.
DIR/config.json is the policy shape (dpag_reference.Config, plus "dpag": true for a posterior in to-kit).
Inputs: sample (B, T, Da) noisy actions, k (B,) int64 steps, obs (B, To, Do) raw observations. Outputs: eps, the
U-Net's prediction conditioned on the normalised observations flattened, and for DP-AG logvar, the posterior's
clamped log-variance of the normalised observations.
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpag_reference as ref  # noqa: E402


class ModuleAttrMixin(nn.Module):
    """Diffusion Policy's mixin: an empty parameter named _dummy_variable."""

    def __init__(self):
        super().__init__()
        self._dummy_variable = nn.Parameter()


class LinearNormalizer(nn.Module):
    """Diffusion Policy's LinearNormalizer layout: params_dict.<field>.scale|offset|input_stats.min|max|mean|std."""

    def __init__(self, dims):
        super().__init__()
        self.params_dict = nn.ParameterDict()
        for field, d in dims.items():
            z = lambda: nn.Parameter(torch.zeros(d), requires_grad=False)  # noqa: E731
            self.params_dict[field] = nn.ParameterDict({
                "scale": z(), "offset": z(),
                "input_stats": nn.ParameterDict({"min": z(), "max": z(), "mean": z(), "std": z()})})

    def normalize(self, field, x):
        p = self.params_dict[field]
        return x * p["scale"] + p["offset"]


class LowdimPolicy(ModuleAttrMixin):
    """The parameter layout of DiffusionUnetLowdimPolicy (obs_as_global_cond), with DP-AG's posterior when asked."""

    def __init__(self, cfg, dpag):
        super().__init__()
        self.model = ref.ConditionalUnet1D(cfg.action_dim, cfg.obs_steps * cfg.obs_dim, cfg.step_embed_dim, cfg.down_dims,
                                           cfg.kernel_size, cfg.n_groups, cfg.cond_predict_scale)
        self.mask_generator = ModuleAttrMixin()
        self.normalizer = LinearNormalizer({"obs": cfg.obs_dim, "action": cfg.action_dim})
        if dpag:
            self.posterior = ref.GaussianPosterior(cfg.obs_dim)

    def outputs(self, inputs):
        with torch.no_grad():
            nobs = self.normalizer.normalize("obs", inputs["obs"])
            out = {"eps": self.model(inputs["sample"], inputs["k"], nobs.flatten(1))}
            if hasattr(self, "posterior"):
                out["logvar"] = self.posterior(nobs)[1]
        return out


def read(folder):
    with open(os.path.join(folder, "config.json")) as f:
        raw = json.load(f)
    return ref.Config(raw), bool(raw.get("dpag", False)), ref.load_tensors(os.path.join(folder, "inputs.safetensors"))


def from_kit(folder):
    cfg, _, inputs = read(folder)
    state = torch.load(os.path.join(folder, "policy.pt"))
    policy = LowdimPolicy(cfg, dpag=any(k.startswith("posterior.") for k in state))
    policy.load_state_dict(state, strict=True)
    ref.save_tensors(os.path.join(folder, "outputs.safetensors"), policy.outputs(inputs))
    torch.save(policy.state_dict(), os.path.join(folder, "resaved.pt"))
    print(json.dumps({"torch": torch.__version__, "entries": len(state)}))


def to_kit(folder):
    cfg, dpag, inputs = read(folder)
    torch.manual_seed(0)
    policy = LowdimPolicy(cfg, dpag)
    with torch.no_grad():
        for name, p in policy.named_parameters():
            if name.startswith(("model.", "posterior.")):
                p.add_(0.1 * torch.randn_like(p))          # group norms too, so that every weight shows in the output
        for field, d in (("obs", cfg.obs_dim), ("action", cfg.action_dim)):
            lo, hi = 100 * torch.rand(d), 300 + 200 * torch.rand(d)
            p = policy.normalizer.params_dict[field]
            p["scale"].copy_(2 / (hi - lo))
            p["offset"].copy_(-1 - 2 * lo / (hi - lo))
            for key, value in (("min", lo), ("max", hi), ("mean", (lo + hi) / 2), ("std", (hi - lo) / 4)):
                p["input_stats"][key].copy_(value)
    state = policy.state_dict()
    torch.save(state, os.path.join(folder, "ema.pt"))
    torch.save({"cfg": {"name": "interop_test"}, "state_dicts": {"model": state, "ema_model": state}, "pickles": {}},
               os.path.join(folder, "ckpt.pt"))
    ref.save_tensors(os.path.join(folder, "outputs.safetensors"), policy.outputs(inputs))
    print(json.dumps({"torch": torch.__version__, "entries": len(state)}))


def compare(folder):
    a = torch.load(os.path.join(folder, "a.pt"))
    b = torch.load(os.path.join(folder, "b.pt"))
    different = [k for k in a if k in b and (a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or not torch.equal(a[k], b[k]))]
    print(json.dumps({"only_a": sorted(set(a) - set(b)), "only_b": sorted(set(b) - set(a)), "different": different, "entries": len(a)}))


if __name__ == "__main__":
    torch.set_num_threads(1)
    {"from-kit": from_kit, "to-kit": to_kit, "compare": compare}[sys.argv[1]](sys.argv[2])
