"""Cross-check: the kit's weights and inputs in, PyTorch's outputs, losses and gradients out.

Usage: /usr/bin/python3 bench/reference/crosscheck.py DIR
DIR holds what the kit wrote (tests/DpAg.Tests/Benchmarks/PyTorchCrossCheckTests.cs):
  config.json       the policy shape (see dpag_reference.Config)
  dp.safetensors    DP's state dict;   dpag.safetensors  DP-AG's (released-code preset)
  inputs.safetensors  obs (B, To, Do), action (B, T, Da), noise (B, T, Da), k (B,) int64
It writes DIR/outputs.safetensors: for DP  dp.eps, dp.loss, dp.grad.<param>; for DP-AG (both the kit's way and the
released code's way, which must agree) dpag.eps, dpag.eps_guided, dpag.z_guided, dpag.loss, dpag.denoise,
dpag.contrastive, dpag.kl, dpag.grad.<param>, dpag_released.loss. Float32 throughout, one thread.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpag_reference as ref  # noqa: E402


def main(folder):
    torch.set_num_threads(1)
    with open(os.path.join(folder, "config.json")) as f:
        cfg = ref.Config(json.load(f))
    inputs = ref.load_tensors(os.path.join(folder, "inputs.safetensors"))
    obs, action, noise, k = inputs["obs"], inputs["action"], inputs["noise"], inputs["k"]
    out = {}

    dp = ref.Policy(cfg, dpag=False)
    extra = dp.load_kit_state(ref.load_tensors(os.path.join(folder, "dp.safetensors")))
    r = ref.dp_loss(dp, obs, action, noise, k)
    r["loss"].backward()
    out["dp.eps"] = r["eps"].detach()
    out["dp.loss"] = r["loss"].detach().reshape(1)
    for name, p in dp.named_parameters():
        out["dp.grad." + name] = p.grad

    dpag = ref.Policy(cfg, dpag=True)
    dpag_state = ref.load_tensors(os.path.join(folder, "dpag.safetensors"))
    dpag.load_kit_state(dpag_state)
    r = ref.dpag_loss(dpag, obs, action, noise, k)
    r["loss"].backward()
    for key in ("eps", "eps_guided", "z_guided"):
        out["dpag." + key] = r[key].detach()
    for key in ("loss", "denoise", "contrastive", "kl"):
        out["dpag." + key] = r[key].detach().reshape(1)
    for name, p in dpag.named_parameters():
        out["dpag.grad." + name] = p.grad
    released = ref.Policy(cfg, dpag=True)
    released.load_kit_state(dpag_state)
    out["dpag_released.loss"] = ref.dpag_loss(released, obs, action, noise, k, released_way=True)["loss"].detach().reshape(1)

    ref.save_tensors(os.path.join(folder, "outputs.safetensors"), out)
    print(json.dumps({"torch": torch.__version__, "kit_keys_not_in_reference": extra, "tensors": len(out)}))


if __name__ == "__main__":
    main(sys.argv[1])
