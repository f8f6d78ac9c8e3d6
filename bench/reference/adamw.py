"""PyTorch's AdamW on the inputs the kit's AdamW test writes (tests/DpAg.Tests/Training/AdamWTests.cs).

Usage: python3 adamw.py DIR
Reads DIR/inputs.safetensors: p0 (N,), grads (S, N), lrs (S,) float64, hyper (4,) float64 = beta1, beta2, eps, wd.
Writes DIR/outputs.safetensors: p.<step> after every 100th step and after the last one, float32.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpag_reference as ref  # noqa: E402


def main(folder):
    inputs = ref.load_tensors(os.path.join(folder, "inputs.safetensors"))
    beta1, beta2, eps, wd = inputs["hyper"].tolist()
    p = torch.nn.Parameter(inputs["p0"].clone())
    opt = torch.optim.AdamW([p], lr=1.0, betas=(beta1, beta2), eps=eps, weight_decay=wd, foreach=False)
    grads, lrs = inputs["grads"], inputs["lrs"].tolist()
    out = {}
    for s in range(grads.shape[0]):
        for group in opt.param_groups:
            group["lr"] = lrs[s]
        p.grad = grads[s].clone()
        opt.step()
        if (s + 1) % 100 == 0 or s + 1 == grads.shape[0]:
            out["p.%d" % (s + 1)] = p.detach().clone()
    ref.save_tensors(os.path.join(folder, "outputs.safetensors"), out)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1])
