"""Side-by-side timing, PyTorch side: training steps (forward, backward, AdamW) of DP, DP-AG (the kit's way: VJP
without a second-order graph) and DP-AG the released code's way (create_graph=True, then detach), with the same
shapes, dtype (float32), batch, thread count and interleaved rounds as `dpag bench` (lib/DpAg/Benchmarks/KitBenchmarks.cs).

Usage: /usr/bin/python3 bench/reference/bench.py --config '{"down_dims":[64,128,256],"step_embed_dim":64}' \
           --batch-size 64 --steps 3 --rounds 5 --threads 2 [--device cpu|cuda]
Prints one JSON object: {"torch": version, "threads": n, "device": ..., "results": [{"name", "median", "min", "max", "unit"}]}.
The result names are the kit's, so `dpag bench` can pair them.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dpag_reference as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="{}", help="policy shape as JSON (dpag_reference.Config keys)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = ref.Config(json.loads(args.config))
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)

    variants = [
        ("train step DP", False, lambda p, o, a, n, k: ref.dp_loss(p, o, a, n, k)["loss"]),
        ("train step DP-AG (kit)", True, lambda p, o, a, n, k: ref.dpag_loss(p, o, a, n, k)["loss"]),
        ("train step DP-AG (released code's way)", True, lambda p, o, a, n, k: ref.dpag_loss(p, o, a, n, k, released_way=True)["loss"]),
    ]
    policies, optims = [], []
    for _, dpag, _ in variants:
        torch.manual_seed(0)
        p = ref.Policy(cfg, dpag).to(device).train()
        policies.append(p)
        optims.append(torch.optim.AdamW(p.parameters(), lr=1e-4))
    torch.manual_seed(1)
    b = args.batch_size
    obs = (torch.rand(b, cfg.obs_steps, cfg.obs_dim) * 2 - 1).to(device)
    action = (torch.rand(b, cfg.horizon, cfg.action_dim) * 2 - 1).to(device)
    samples = [[] for _ in variants]
    for r in range(-1, args.rounds):                              # round -1 warms up
        for v, (_, _, loss_fn) in enumerate(variants):
            start = time.perf_counter()
            for s in range(args.steps):
                g = torch.Generator(device=device).manual_seed(s)
                noise = torch.randn(action.shape, generator=g, device=device)
                k = torch.randint(0, cfg.num_train_timesteps, (b,), generator=g, device=device)
                loss = loss_fn(policies[v], obs, action, noise, k)
                optims[v].zero_grad()
                loss.backward()
                optims[v].step()
                sync()
            if r >= 0:
                samples[v].append((time.perf_counter() - start) * 1000 / args.steps)
    results = [{"name": name, "median": statistics.median(x), "min": min(x), "max": max(x), "unit": "ms"}
               for (name, _, _), x in zip(variants, samples)]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device),
                      "batch_size": b, "rounds": args.rounds, "steps": args.steps, "results": results}))


if __name__ == "__main__":
    main()
