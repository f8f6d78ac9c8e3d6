"""Side-by-side timing, PyTorch side: training steps (forward, backward, AdamW) of DP, DP-AG (the kit's way: VJP
without a second-order graph) and DP-AG the released code's way (create_graph=True, then detach), with the same
shapes, dtype (float32), batch, thread count and interleaved rounds as `dpag bench` (lib/DpAg.Benchmarks/KitBenchmarks.cs).

Usage: /usr/bin/python3 bench/reference/bench.py --config '{"down_dims":[64,128,256],"step_embed_dim":64}' \
           --batch-size 64 --steps 3 --rounds 5 --threads 2 [--device cpu|cuda]
Prints one JSON object: {"torch": version, "threads": n, "device": ..., "results": [{"name", "median", "min", "max", "unit"}]}.
With --serve (what `dpag bench` uses) it prints a ready line and then runs one round per "round" line on stdin, so
that the kit's rounds and PyTorch's alternate and machine noise hits both alike.
The result names are the kit's, so `dpag bench` can pair them.
With --measure-memory VARIANT (0 DP, 1 DP-AG, 2 DP-AG the released way) it builds only that policy, runs --steps
training steps and prints {"before": bytes, "peak": bytes}: the resident size before the model was built and the
process's peak (VmHWM), as `dpag bench` measures the kit in a fresh process.
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
from procmem import resident_bytes  # noqa: E402


class TrainBench:
    """The three policies, their AdamW optimisers and one synthetic batch, built like KitBenchmarks.TrainSteps."""

    def __init__(self, cfg, batch_size, steps, device, only=None):
        self.cfg, self.steps, self.device = cfg, steps, device
        self.sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
        self.variants = [
            ("train step DP", False, lambda p, o, a, n, k: ref.dp_loss(p, o, a, n, k)["loss"]),
            ("train step DP-AG (kit)", True, lambda p, o, a, n, k: ref.dpag_loss(p, o, a, n, k)["loss"]),
            ("train step DP-AG (released code's way)", True,
             lambda p, o, a, n, k: ref.dpag_loss(p, o, a, n, k, released_way=True)["loss"]),
        ]
        if only is not None:
            self.variants = [self.variants[only]]
        self.policies, self.optims = [], []
        for _, dpag, _ in self.variants:
            torch.manual_seed(0)
            p = ref.Policy(cfg, dpag).to(device).train()
            self.policies.append(p)
            self.optims.append(torch.optim.AdamW(p.parameters(), lr=1e-4))
        torch.manual_seed(1)
        self.obs = (torch.rand(batch_size, cfg.obs_steps, cfg.obs_dim) * 2 - 1).to(device)      # (B, To, Do)
        self.action = (torch.rand(batch_size, cfg.horizon, cfg.action_dim) * 2 - 1).to(device)  # (B, T, Da)

    @property
    def names(self):
        return [v[0] for v in self.variants]

    def run_round(self):
        """One round: `steps` training steps of each variant in turn; milliseconds per step, per variant."""
        out = []
        b = self.action.shape[0]
        for v, (_, _, loss_fn) in enumerate(self.variants):
            start = time.perf_counter()
            for s in range(self.steps):
                g = torch.Generator(device=self.device).manual_seed(s)
                noise = torch.randn(self.action.shape, generator=g, device=self.device)
                k = torch.randint(0, self.cfg.num_train_timesteps, (b,), generator=g, device=self.device)
                loss = loss_fn(self.policies[v], self.obs, self.action, noise, k)
                self.optims[v].zero_grad()
                loss.backward()
                self.optims[v].step()
                self.sync()
            out.append((time.perf_counter() - start) * 1000 / self.steps)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="{}", help="policy shape as JSON (dpag_reference.Config keys)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--serve", action="store_true",
                    help="print a ready line, then run one round per 'round' line read on stdin (for interleaving with the kit)")
    ap.add_argument("--measure-memory", type=int, choices=[0, 1, 2], default=None,
                    help="build only this variant (0 DP, 1 DP-AG, 2 released way), train --steps steps, print resident sizes")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.measure_memory is not None:
        before = resident_bytes("VmRSS")
        bench = TrainBench(ref.Config(json.loads(args.config)), args.batch_size, args.steps, torch.device(args.device),
                           only=args.measure_memory)
        bench.run_round()
        print(json.dumps({"before": before, "peak": resident_bytes("VmHWM"), "name": bench.names[0]}))
        return
    bench = TrainBench(ref.Config(json.loads(args.config)), args.batch_size, args.steps, torch.device(args.device))
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": args.device,
            "batch_size": args.batch_size, "steps": args.steps, "names": bench.names}
    if args.serve:
        print(json.dumps(info), flush=True)
        for line in sys.stdin:
            if line.strip() != "round":
                break
            print(json.dumps({"ms": bench.run_round()}), flush=True)
        return
    bench.run_round()                                              # warm-up round
    samples = list(zip(*[bench.run_round() for _ in range(args.rounds)]))
    info["rounds"] = args.rounds
    info["results"] = [{"name": n, "median": statistics.median(x), "min": min(x), "max": max(x), "unit": "ms"}
                       for n, x in zip(bench.names, samples)]
    print(json.dumps(info))


if __name__ == "__main__":
    main()
