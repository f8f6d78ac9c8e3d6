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
        var config = new TrainConfig
        {
            RunDir = runDir, Steps = steps, BatchSize = batchSize, LearningRate = learningRate,
            WarmupSteps = (int)Math.Max(1, steps / 10), CheckpointEvery = Math.Max(1, steps / 4), Seed = seed,
        };
        return Create(spec, data, config, new TrainerOptions { Device = device, ConsoleWriter = console ?? TextWriter.Null });
    }

    /// <summary>
    /// The trained policy of a run folder (from <c>dpag train</c> or a notebook): its spec and normaliser, with the EMA
    /// weights of the latest complete checkpoint, moved to <paramref name="device"/> and in eval mode.
    /// </summary>
    public static (DiffusionPolicyBase Policy, PolicySpec Spec, CheckpointInfo Checkpoint) LoadTrained(string runDir, torch.Device? device = null)
    {
        var spec = PolicySpec.Load(Path.Combine(runDir, PolicySpec.FileName));
        var normalizer = LinearNormalizer.Load(Path.Combine(runDir, "normalizer.json"));
        var policy = spec.Create(normalizer);
        try
        {
            var checkpoint = Trainer.LoadPolicy(policy, runDir, ema: true);
            if (device is not null) policy.to(device);
            policy.eval();
            return (policy, spec, checkpoint);
        }
        catch
        {
            policy.Dispose();
            throw;
        }
    }
}
