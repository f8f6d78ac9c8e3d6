using System.Text.Json;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;

namespace DpAg.Evaluation;

/// <summary>How a trained policy is sampled for an evaluation; null fields keep the policy's own.</summary>
/// <param name="Sampler">DDPM or DDIM (null: the policy's).</param>
/// <param name="InferenceSteps">Reverse steps (null: the policy's).</param>
/// <param name="NoiseScale">Multiplies the network's output before each reverse step (1: as the released codes sample;
/// 0.4: undoes the released DP-AG's 1/0.4 target).</param>
public sealed record SamplingSettings(SamplerKind? Sampler = null, int? InferenceSteps = null, double NoiseScale = 1.0);

/// <summary>An evaluated checkpoint: the result and what was evaluated.</summary>
/// <param name="Spec">The run's policy.</param>
/// <param name="Checkpoint">The checkpoint's step and folder.</param>
/// <param name="CheckpointName">latest, best or the step asked for.</param>
/// <param name="Sampler">The sampler's type name.</param>
/// <param name="InferenceSteps">Reverse steps used.</param>
/// <param name="NoiseScale">Noise scale used.</param>
/// <param name="Result">The protocol's result.</param>
public sealed record CheckpointEvalResult(PolicySpec Spec, CheckpointInfo Checkpoint, string CheckpointName, string Sampler, int InferenceSteps,
    double NoiseScale, PushTEvalResult Result)
{
    /// <summary>The content of <c>eval.json</c> (the format <c>dpag eval</c> writes and <see cref="EvalSummary"/> reads).</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        policy = Spec.Name, checkpoint = CheckpointName, checkpoint_step = Checkpoint.Step, sampler = Sampler,
        inference_steps = InferenceSteps, noise_scale = NoiseScale,
        episodes = Result.Episodes.Count, mean_score = Result.MeanScore, mean_max_coverage = Result.MeanMaxCoverage,
        success_rate = Result.SuccessRate, mean_agent_jerk = Result.MeanAgentJerk, mean_action_jerk = Result.MeanActionJerk,
        seconds = Result.Elapsed.TotalSeconds,
        per_episode = Result.Episodes.Select(e => new { e.Seed, e.Steps, e.MaxReward, e.MaxCoverage, e.Success, e.AgentJerk, e.ActionJerk }),
    }, new JsonSerializerOptions { WriteIndented = true });
}

/// <summary>
/// The one evaluation path of a run folder's checkpoint (EMA weights) in the simulator, used by <c>dpag eval</c> and by
/// studies (<see cref="DpAg.Studies.StudyRunner"/>): load, set the sampling, run the protocol in lockstep.
/// </summary>
public static class CheckpointEvaluation
{
    /// <summary>
    /// Evaluates checkpoint <paramref name="checkpoint"/> (latest, best or a kept step) of <paramref name="runDir"/> with
    /// <paramref name="sampling"/> on <paramref name="config"/>'s episodes; <paramref name="seed"/> seeds the sampler's noise.
    /// </summary>
    public static CheckpointEvalResult Evaluate(string runDir, string checkpoint, torch.Device? device, SamplingSettings sampling, PushTEvalConfig config,
        long seed = 0, IProgress<(int Finished, long Steps)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        ArgumentNullException.ThrowIfNull(config);
        var (policy, spec, info) = PolicyRuns.LoadTrained(runDir, device, checkpoint);
        using var _ = policy;
        if (sampling.Sampler is { } kind) policy.Sampler = spec.Policy.CreateScheduler(kind);
        if (sampling.InferenceSteps is { } n) policy.InferenceSteps = n;
        policy.InferenceNoiseScale = sampling.NoiseScale;
        var result = LockstepRunner.Evaluate(new PolicyActor(policy, device, seed), config, progress);
        return new CheckpointEvalResult(spec, info, checkpoint, policy.Sampler.GetType().Name,
            policy.InferenceSteps > 0 ? policy.InferenceSteps : spec.Policy.NumInferenceSteps, policy.InferenceNoiseScale, result);
    }

    /// <summary>Writes <c>eval.json</c> (and the recorded GIFs) of <paramref name="result"/> into <paramref name="outDir"/>.</summary>
    public static void Save(CheckpointEvalResult result, string outDir, string evalFile = "eval.json")
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(outDir);
        foreach (var e in result.Result.Episodes.Where(e => e.Gif is not null))
            AtomicFile.WriteAllBytes(Path.Combine(outDir, $"episode_{e.Seed}.gif"), e.Gif!);
        AtomicFile.WriteAllText(Path.Combine(outDir, evalFile), result.ToJson());
    }
}
