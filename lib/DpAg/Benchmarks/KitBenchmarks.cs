using System.Diagnostics;
using DpAg.Data;
using DpAg.Envs;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Benchmarks;

/// <summary>One measured quantity: its median over rounds, in the unit given.</summary>
public sealed record BenchResult(string Name, double Median, double Min, double Max, string Unit);

/// <summary>
/// Side-by-side measurements of the kit, all in one process so that ratios compare like with like: training-step
/// time of DP and DP-AG (and DP-AG computed the released code's way), action-chunk latency per sampler, and simulator
/// speed. Rounds are interleaved (A, B, C, A, B, C, ...) so that machine noise hits every variant alike.
/// </summary>
public static class KitBenchmarks
{
    /// <summary>Milliseconds per training step (forward, backward, AdamW) for each policy variant.</summary>
    /// <param name="size">Policy shape.</param>
    /// <param name="batchSize">Training batch size.</param>
    /// <param name="stepsPerRound">Steps of each variant per round.</param>
    /// <param name="rounds">Measured rounds (one more warms up).</param>
    /// <param name="device">Where to run.</param>
    /// <param name="afterRound">Called after each round with its index (-1 for the warm-up round): the place to run a
    /// round of another implementation (the PyTorch reference) so that its rounds alternate with the kit's.</param>
    public static IReadOnlyList<BenchResult> TrainSteps(DiffusionPolicyConfig size, int batchSize, int stepsPerRound, int rounds, Device device, Action<int>? afterRound = null)
    {
        var normalizer = SyntheticNormalizer(size);
        var variants = new (string Name, Func<DiffusionPolicyBase> Make)[]
        {
            ("train step DP", () => new DiffusionPolicy(size, normalizer)),
            ("train step DP-AG (kit)", () => new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = size }, normalizer)),
            ("train step DP-AG (released code's way)", () => new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = size, EmulateReleasedVjpCost = true }, normalizer)),
        };
        var policies = variants.Select(v => { torch.manual_seed(0); var p = v.Make(); p.to(device); p.train(); return p; }).ToList();
        var optimizers = policies.Select(p => torch.optim.AdamW(p.parameters(), lr: 1e-4)).ToList();
        var batch = SyntheticBatch(size, batchSize, device);
        var samples = variants.Select(_ => new List<double>()).ToList();
        for (int r = -1; r < rounds; r++) // round -1 warms up
        {
            for (int v = 0; v < variants.Length; v++)
            {
                var watch = Stopwatch.StartNew();
                for (int s = 0; s < stepsPerRound; s++)
                {
                    using var scope = torch.NewDisposeScope();
                    var loss = policies[v].ComputeLoss(batch with { Generator = new torch.Generator((ulong)s, device) }).Loss;
                    optimizers[v].zero_grad();
                    loss.backward();
                    optimizers[v].step();
                    if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
                }
                if (r >= 0) samples[v].Add(watch.Elapsed.TotalMilliseconds / stepsPerRound);
            }
            afterRound?.Invoke(r);
        }
        foreach (var p in policies) p.Dispose();
        return variants.Select((v, i) => Summarize(v.Name, samples[i], "ms")).ToList();
    }

    /// <summary>Milliseconds per action chunk for each (sampler, steps, batch) combination.</summary>
    public static IReadOnlyList<BenchResult> SamplingLatency(DiffusionPolicyConfig size, int[] batchSizes, (SamplerKind Kind, int Steps)[] samplers, int rounds, Device device)
    {
        torch.manual_seed(0);
        using var policy = new DiffusionPolicy(size, SyntheticNormalizer(size));
        policy.to(device); policy.eval();
        var results = new List<BenchResult>();
        foreach (int b in batchSizes)
        {
            var obs = SyntheticBatch(size, b, device).Obs;
            var samples = samplers.Select(_ => new List<double>()).ToList();
            for (int r = -1; r < rounds; r++)
                for (int i = 0; i < samplers.Length; i++)
                {
                    policy.Sampler = size.CreateScheduler(samplers[i].Kind, samplers[i].Steps);
                    policy.InferenceSteps = samplers[i].Steps;
                    var watch = Stopwatch.StartNew();
                    using (var scope = torch.NewDisposeScope()) policy.PredictActionChunk(obs, new torch.Generator(1, device));
                    if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
                    if (r >= 0) samples[i].Add(watch.Elapsed.TotalMilliseconds);
                }
            results.AddRange(samplers.Select((s, i) => Summarize($"chunk {s.Kind.ToString().ToUpperInvariant()} {s.Steps} steps, batch {b}", samples[i], "ms")));
        }
        return results;
    }

    /// <summary>Push-T env steps per second on one core (pushing the T: random targets near the block).</summary>
    public static BenchResult SimulatorSpeed(int steps, int rounds)
    {
        var samples = new List<double>();
        using var env = new PushTEnv(PushTConfig.Classic);
        var rng = new NumpyRandomState(0);
        for (int r = 0; r < rounds; r++)
        {
            env.Reset(r);
            var watch = Stopwatch.StartNew();
            for (int s = 0; s < steps; s++)
            {
                var (bx, by, _) = env.BlockPose;
                env.StepPhysics(bx + 80 * (rng.Rand() - 0.5), by + 80 * (rng.Rand() - 0.5));
            }
            samples.Add(steps / watch.Elapsed.TotalSeconds);
        }
        return Summarize("simulator env steps per second (one core)", samples, "steps/s");
    }

    /// <summary>Median, min and max of <paramref name="values"/> (at least one).</summary>
    public static BenchResult Summarize(string name, IReadOnlyList<double> values, string unit)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException($"No samples for '{name}'.", nameof(values));
        var sorted = values.Order().ToList();
        double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        return new BenchResult(name, median, sorted[0], sorted[^1], unit);
    }

    private static LinearNormalizer SyntheticNormalizer(DiffusionPolicyConfig size)
    {
        var n = new LinearNormalizer();
        n["action"] = NormalizerField.FitLimits([0f, 0f, 512f, 512f], 2);
        n["obs"] = NormalizerField.FitLimits(Enumerable.Repeat(0f, size.LowDimObsDim).Concat(Enumerable.Repeat(512f, size.LowDimObsDim)).ToArray(), size.LowDimObsDim);
        n["agent_pos"] = NormalizerField.FitLimits([0f, 0f, 512f, 512f], 2);
        n["image"] = NormalizerField.ImageRange();
        return n;
    }

    private static PolicyBatch SyntheticBatch(DiffusionPolicyConfig size, int batch, Device device)
    {
        torch.manual_seed(1);
        var obs = size.Observation == ObservationKind.LowDim
            ? new Dictionary<string, Tensor> { ["obs"] = torch.rand([batch, size.ObsSteps, size.LowDimObsDim], device: device) * 2 - 1 }
            : new Dictionary<string, Tensor>
            {
                ["image"] = torch.rand([batch, size.ObsSteps, 3, size.ImageEncoder.ImageSize, size.ImageEncoder.ImageSize], device: device),
                ["agent_pos"] = torch.rand([batch, size.ObsSteps, 2], device: device) * 2 - 1,
            };
        return new PolicyBatch(obs, torch.rand([batch, size.Horizon, size.ActionDim], device: device) * 2 - 1);
    }
}
