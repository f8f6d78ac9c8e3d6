using System.CommandLine;
using System.Globalization;
using DpAg.Evaluation;

namespace DpAg.Cli;

/// <summary>
/// <c>dpag train --budget NAME</c>: the option values of a <see cref="TrainBudget"/> (the recipes the main job and the
/// notebooks use too), as a run file would hold them. A --config file and the command line override any of them.
/// </summary>
internal static class Budgets
{
    /// <summary>The budget names.</summary>
    public static IEnumerable<string> Names => TrainBudget.All.Select(b => b.Name);

    /// <summary>The values of budget <paramref name="name"/> (null: no budget).</summary>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static ConfigFile? Get(string? name, IEnumerable<Option> known)
    {
        if (string.IsNullOrEmpty(name)) return null;
        var b = TrainBudget.Get(name);
        string I(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        string json = "{" + string.Join(", ",
            $"\"size\": \"{b.Size}\"", $"\"dataset\": \"{b.Dataset}\"", $"\"steps\": {b.Train.Steps}", $"\"batch-size\": {b.Train.BatchSize}",
            $"\"lr\": {I(b.Train.LearningRate)}", $"\"warmup\": {b.Train.WarmupSteps}", $"\"checkpoint-every\": {b.Train.CheckpointEvery}",
            $"\"keep-checkpoints\": {b.Train.KeepLastCheckpoints}", $"\"eval-every\": {b.EvalEvery}", $"\"eval-episodes\": {b.EvalEpisodes}",
            $"\"eval-sampler\": \"{b.EvalSampler.ToString().ToLowerInvariant()}\"", $"\"eval-inference-steps\": {b.EvalInferenceSteps}",
            $"\"seed\": {b.Train.Seed}") + "}";
        return ConfigFile.FromJson($"--budget {b.Name}", json, known);
    }
}
