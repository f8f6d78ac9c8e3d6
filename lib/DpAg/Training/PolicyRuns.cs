using DpAg.Data;
using DpAg.Policies;
using TorchSharp;

namespace DpAg.Training;

/// <summary>
/// A run folder for one policy on a Push-T dataset, laid out like <c>dpag train</c>'s (policy.json, normalizer.json,
/// metrics, checkpoints), so notebooks and the command line produce the same artefacts and <c>dpag eval</c>/<c>dpag report</c>
/// read either.
/// </summary>
public static class PolicyRuns
{
    /// <summary>
    /// Writes <c>policy.json</c> and <c>normalizer.json</c> into <see cref="TrainConfig.RunDir"/> and returns a trainer for
    /// <paramref name="spec"/> on <paramref name="data"/> (an existing run in that folder resumes unless the options say not).
    /// </summary>
    public static Trainer Create(PolicySpec spec, PushTDataset data, TrainConfig config, TrainerOptions? options = null)
    {
        Directory.CreateDirectory(config.RunDir);
        spec.Save(Path.Combine(config.RunDir, PolicySpec.FileName));
        data.Normalizer.Save(Path.Combine(config.RunDir, "normalizer.json"));
        return new Trainer(config, () => spec.Create(data.Normalizer), new DatasetBatchSource(data), options);
    }

    /// <summary>
    /// Prepares <paramref name="runDir"/> (emptied first when <paramref name="fresh"/>) and returns a trainer for
    /// <paramref name="spec"/> on <paramref name="data"/> with Diffusion Policy's recipe scaled to <paramref name="steps"/>.
    /// </summary>
    public static Trainer Create(PolicySpec spec, PushTDataset data, string runDir, long steps, torch.Device? device = null,
        int batchSize = 64, double learningRate = 3e-4, bool fresh = true, TextWriter? console = null, long seed = 42)
    {
        if (fresh && Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        var config = Recipe(steps, batchSize, learningRate, seed) with { RunDir = runDir };
        return Create(spec, data, config, new TrainerOptions { Device = device, ConsoleWriter = console ?? TextWriter.Null });
    }

    /// <summary>Diffusion Policy's recipe scaled to <paramref name="steps"/>: warm-up a tenth of the run, four checkpoints.</summary>
    public static TrainConfig Recipe(long steps, int batchSize = 64, double learningRate = 3e-4, long seed = 42) => new()
    {
        Steps = steps, BatchSize = batchSize, LearningRate = learningRate,
        WarmupSteps = (int)Math.Max(1, steps / 10), CheckpointEvery = Math.Max(1, steps / 4), Seed = seed,
    };

    /// <summary>
    /// The trained policy of a run folder (from <c>dpag train</c> or a notebook): its spec and normaliser, with the EMA
    /// weights of a checkpoint, moved to <paramref name="device"/> and in eval mode. <paramref name="checkpoint"/>:
    /// <c>latest</c> (the newest complete checkpoint), <c>best</c> (the best by validation score, <c>best/</c>), or a
    /// step number whose checkpoint is still kept.
    /// </summary>
    public static (DiffusionPolicyBase Policy, PolicySpec Spec, CheckpointInfo Checkpoint) LoadTrained(string runDir, torch.Device? device = null, string checkpoint = "latest")
    {
        var spec = PolicySpec.Load(Path.Combine(runDir, PolicySpec.FileName));
        var normalizer = LinearNormalizer.Load(Path.Combine(runDir, "normalizer.json"));
        var policy = spec.Create(normalizer);
        try
        {
            var info = checkpoint.ToLowerInvariant() switch
            {
                "latest" => Trainer.LoadPolicy(policy, runDir, ema: true),
                "best" => LoadBest(policy, runDir),
                var step when long.TryParse(step, out long s) => Trainer.LoadPolicy(policy, FindCheckpoint(runDir, s).Path, ema: true),
                _ => throw new ArgumentException($"Checkpoint '{checkpoint}': use latest, best or a step number ({Describe(runDir)})."),
            };
            if (device is not null) policy.to(device);
            policy.eval();
            return (policy, spec, info);
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }

    /// <summary>The complete checkpoints still kept in <paramref name="runDir"/>, oldest first.</summary>
    public static IReadOnlyList<CheckpointInfo> Checkpoints(string runDir) =>
        new CheckpointStore(Path.Combine(runDir, "checkpoints")).List();

    private static CheckpointInfo FindCheckpoint(string runDir, long step) =>
        Checkpoints(runDir).FirstOrDefault(c => c.Step == step)
        ?? throw new ArgumentException($"No kept checkpoint at step {step} in {runDir} ({Describe(runDir)}).");

    private static CheckpointInfo LoadBest(DiffusionPolicyBase policy, string runDir)
    {
        var best = ValidationLog.ReadBest(runDir)
                   ?? throw new FileNotFoundException($"{runDir} has no best checkpoint (best/best.json): train with --eval-every to keep one.");
        string dir = Path.Combine(runDir, ValidationLog.BestFolder);
        policy.load(Path.Combine(dir, best.WeightsFile));
        return new CheckpointInfo(best.Step, Path.GetFullPath(dir));
    }

    private static string Describe(string runDir)
    {
        var kept = Checkpoints(runDir).Select(c => c.Step.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return (kept.Count == 0 ? "no checkpoints kept" : "kept: " + string.Join(", ", kept)) +
               (ValidationLog.ReadBest(runDir) is { } b ? $"; best: step {b.Step}" : "");
    }
}
