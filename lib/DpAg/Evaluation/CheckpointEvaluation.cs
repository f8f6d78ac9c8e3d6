using System.Text.Json;
using DpAg.Diffusion;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;

namespace DpAg.Evaluation;

/// <summary>An evaluated checkpoint: the result and what was evaluated.</summary>
/// <param name="Spec">The run's policy.</param>
/// <param name="Checkpoint">The checkpoint's step and folder.</param>
/// <param name="CheckpointName">latest, best or the step asked for.</param>
/// <param name="Inference">How the policy was sampled.</param>
/// <param name="Result">The protocol's result.</param>
public sealed record CheckpointEvalResult(PolicySpec Spec, CheckpointInfo Checkpoint, string CheckpointName, InferenceOptions Inference, PushTEvalResult Result)
{
    /// <summary>The content of <c>eval.json</c> (the format <c>dpag eval</c> writes and <see cref="EvalSummary"/> reads).</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        // The sampler is named by its scheduler's type, as eval.json has always written it.
        policy = Spec.Name, checkpoint = CheckpointName, checkpoint_step = Checkpoint.Step,
        sampler = Inference.Sampler == SamplerKind.Ddim ? nameof(DdimScheduler) : nameof(DdpmScheduler),
        inference_steps = Inference.Steps, noise_scale = Inference.NoiseScale,
        episodes = Result.Episodes.Count, mean_score = Result.MeanScore, mean_max_coverage = Result.MeanMaxCoverage,
        success_rate = Result.SuccessRate, mean_agent_jerk = Result.MeanAgentJerk, mean_action_jerk = Result.MeanActionJerk,
        seconds = Result.Elapsed.TotalSeconds,
        per_episode = Result.Episodes.Select(e => new { e.Seed, e.Steps, e.MaxReward, e.MaxCoverage, e.Success, e.AgentJerk, e.ActionJerk }),
    }, new JsonSerializerOptions { WriteIndented = true });
}

/// <summary>
/// The one evaluation path of a run folder's checkpoint (EMA weights) in the simulator, used by <c>dpag eval</c> and by
/// studies (<see cref="DpAg.Studies.StudyRunner"/>): load, run the protocol with the given sampling.
/// </summary>
public static class CheckpointEvaluation
{
    /// <summary>
    /// Evaluates checkpoint <paramref name="checkpoint"/> (latest, best or a kept step) of <paramref name="runDir"/> with
    /// <paramref name="inference"/> (null: the policy's <see cref="DiffusionPolicyBase.DefaultInference"/>) on
    /// <paramref name="config"/>'s episodes; <paramref name="seed"/> seeds the sampler's noise.
    /// </summary>
    public static CheckpointEvalResult Evaluate(string runDir, string checkpoint, torch.Device? device, InferenceOptions? inference, PushTEvalConfig config,
        long seed = 0, IProgress<(int Finished, long Steps)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var (policy, spec, info) = PolicyRuns.LoadTrained(runDir, device, checkpoint);
        using var _ = policy;
        var options = inference ?? policy.DefaultInference;
        var result = PushTRunner.Evaluate(new PolicyActor(policy, device, seed, options), config, progress);
        return new CheckpointEvalResult(spec, info, checkpoint, options, result);
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
