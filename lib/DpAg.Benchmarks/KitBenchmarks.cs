using DpAg.Optim;
using System.Diagnostics;
using DpAg.Data;
using DpAg.Envs;
using DpAg.Evaluation;
using DpAg.Numpy;
using DpAg.Policies;
using DpAg.Runtime;
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
    /// <param name="label">Appended to each result's name in brackets (e.g. the network size); null for none.</param>
    public static IReadOnlyList<BenchResult> TrainSteps(DiffusionPolicyConfig size, int batchSize, int stepsPerRound, int rounds, Device device, Action<int>? afterRound = null, string? label = null)
    {
        var normalizer = SyntheticNormalizer(size);
        string suffix = label is null ? "" : $" [{label}]";
        var variants = new (string Name, Func<DiffusionPolicyBase> Make)[]
        {
            ("train step DP" + suffix, () => new DiffusionPolicy(size, normalizer)),
            ("train step DP-AG (kit)" + suffix, () => new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = size }, normalizer)),
            ("train step DP-AG (released code's way)" + suffix, () => new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = size, EmulateReleasedVjpCost = true }, normalizer)),
        };
        var policies = variants.Select(v => { torch.manual_seed(0); var p = v.Make(); p.to(device); p.train(); return p; }).ToList();
        var optimizers = policies.Select(p => new AdamW(p.parameters(), lr: 1e-4)).ToList();
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
                    optimizers[v].ZeroGrad();
                    loss.backward();
                    optimizers[v].Step();
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
                    var inference = new InferenceOptions(samplers[i].Kind, samplers[i].Steps);
                    var watch = Stopwatch.StartNew();
                    using (var scope = torch.NewDisposeScope()) policy.PredictActionChunk(obs, new torch.Generator(1, device), inference);
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

    /// <summary>
    /// Wall time of the evaluation protocol (<paramref name="episodes"/> episodes of at most <paramref name="maxSteps"/>
    /// steps, lockstep) for an untrained <paramref name="size"/> DP with DDIM <paramref name="ddimSteps"/> (an untrained
    /// policy never finishes early, so every episode runs all its steps: the protocol's worst case), and for a policy
    /// that holds its position (the simulator and protocol alone).
    /// </summary>
    public static IReadOnlyList<BenchResult> EvaluationTime(DiffusionPolicyConfig size, int episodes, int maxSteps, int ddimSteps, Device device)
    {
        var config = PushTEvalConfig.For(size) with { Episodes = episodes, MaxSteps = maxSteps };
        var hold = PushTRunner.Evaluate(new HoldPositionPolicy(size.ActionSteps), config);
        torch.manual_seed(0);
        using var policy = new DiffusionPolicy(size, SyntheticNormalizer(size));
        policy.to(device);
        policy.eval();
        var run = PushTRunner.Evaluate(new PolicyActor(policy, device, seed: 0, InferenceOptions.Ddim(ddimSteps)), config);
        string what = $"{episodes} episodes x {run.TotalSteps / Math.Max(1, episodes)} steps";
        return
        [
            Single($"evaluation {what}, DDIM {ddimSteps} (untrained policy)", run.Elapsed.TotalSeconds, "s"),
            Single($"evaluation {what}, holding position (simulator and protocol only)", hold.Elapsed.TotalSeconds, "s"),
        ];
    }

    /// <summary>
    /// Target coverage and wall time of one trained policy (a run folder) evaluated with each sampler on the same
    /// <paramref name="episodes"/> test seeds: the quality side of the latency table.
    /// </summary>
    public static IReadOnlyList<SamplerCoverage> SamplerCoverages(string runDir, (SamplerKind Kind, int Steps)[] samplers, int episodes, Device device, IProgress<string>? progress = null)
    {
        // The checkpoint chosen on validation seeds when the run kept one, else the latest.
        string checkpoint = ValidationLog.ReadBest(runDir) is null ? "latest" : "best";
        var spec = PolicySpec.Load(Path.Combine(runDir, PolicySpec.FileName));
        var config = PushTEvalConfig.For(spec.Policy) with { Episodes = episodes };
        var results = new List<SamplerCoverage>();
        // A policy trained on a scaled target (the released DP-AG: noise / 0.4) is also sampled with the output rescaled.
        double targetScale = spec is DpAgSpec ag ? ag.Config.Loss.DenoisingTargetScale : 1.0;
        var runsToDo = samplers.Select(s => (s.Kind, s.Steps, Scale: 1.0)).ToList();
        if (targetScale != 1.0)
            runsToDo.AddRange(samplers.Select(s => (s.Kind, s.Steps, Scale: 1.0 / targetScale)));
        foreach (var (kind, steps, scale) in runsToDo)
        {
            var evaluated = CheckpointEvaluation.Evaluate(runDir, checkpoint, device, new InferenceOptions(kind, steps) { NoiseScale = scale }, config);
            var eval = evaluated.Result;
            string name = $"{kind.ToString().ToUpperInvariant()} {steps}" + (scale == 1.0 ? "" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $", output x{scale:0.##}"));
            var row = new SamplerCoverage(name, spec.Name, evaluated.Checkpoint.Step, episodes,
                eval.MeanScore, eval.MeanMaxCoverage, eval.SuccessRate, eval.Elapsed.TotalSeconds);
            progress?.Report($"{row.Sampler}: score {row.Score:F3}, {row.Seconds:F0} s");
            results.Add(row);
        }
        return results;
    }

    /// <summary>
    /// Resident memory of training one variant (0 DP, 1 DP-AG, 2 DP-AG the released way) for <paramref name="steps"/>
    /// steps in this process: the size before the model is built and the process peak. Meant for a fresh process
    /// (<c>dpag bench</c> starts one per measurement), where nothing else has raised the peak.
    /// </summary>
    public static (long BeforeBytes, long PeakBytes) TrainingMemory(DiffusionPolicyConfig size, int variant, int batchSize, int steps, Device device)
    {
        if (variant is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(variant), variant, "0 DP, 1 DP-AG, 2 DP-AG the released way.");
        long before = ProcessMemory.CurrentBytes ?? 0;
        var normalizer = SyntheticNormalizer(size);
        torch.manual_seed(0);
        using DiffusionPolicyBase policy = variant == 0
            ? new DiffusionPolicy(size, normalizer)
            : new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = size, EmulateReleasedVjpCost = variant == 2 }, normalizer);
        policy.to(device);
        policy.train();
        var optimizer = new AdamW(policy.parameters(), lr: 1e-4);
        var batch = SyntheticBatch(size, batchSize, device);
        for (int s = 0; s < steps; s++)
        {
            using var scope = torch.NewDisposeScope();
            var loss = policy.ComputeLoss(batch with { Generator = new torch.Generator((ulong)s, device) }).Loss;
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step();
        }
        return (before, ProcessMemory.PeakBytes ?? 0);
    }

    /// <summary>A result measured once (median = min = max).</summary>
    public static BenchResult Single(string name, double value, string unit) => new(name, value, value, value, unit);

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
            ? new Dictionary<string, Tensor> { ["obs"] = torch.rand([batch, size.ObsSteps, size.LowDimObsDim], device: device).Times(2).Minus(1) }
            : new Dictionary<string, Tensor>
            {
                ["image"] = torch.rand([batch, size.ObsSteps, 3, size.ImageEncoder.ImageSize, size.ImageEncoder.ImageSize], device: device),
                ["agent_pos"] = torch.rand([batch, size.ObsSteps, 2], device: device).Times(2).Minus(1),
            };
        return new PolicyBatch(obs, torch.rand([batch, size.Horizon, size.ActionDim], device: device).Times(2).Minus(1));
    }
}

/// <summary>One sampler's evaluation of a trained policy (<see cref="KitBenchmarks.SamplerCoverages"/>).</summary>
/// <param name="Sampler">"DDPM 100", "DDIM 8", ...</param>
/// <param name="Policy">The run's policy name.</param>
/// <param name="CheckpointStep">Training step of the evaluated checkpoint.</param>
/// <param name="Episodes">Test episodes (seeds 100000...).</param>
/// <param name="Score">Target coverage: mean over episodes of the max reward (the papers' number).</param>
/// <param name="MeanMaxCoverage">Mean over episodes of the max raw coverage.</param>
/// <param name="SuccessRate">Fraction of episodes reaching coverage 0.95.</param>
/// <param name="Seconds">Wall time of the whole evaluation.</param>
public sealed record SamplerCoverage(string Sampler, string Policy, long CheckpointStep, int Episodes, double Score,
    double MeanMaxCoverage, double SuccessRate, double Seconds);
