using DpAg.Envs;

namespace DpAg.Studies;

/// <summary>
/// A metric a study compares: per test episode (<c>pusht.score</c>, ...: paired over training and test seeds) or per
/// run (<c>convergence.steps</c>: paired over training seeds).
/// </summary>
/// <param name="Key">The name in study files and tables.</param>
/// <param name="Environment">pusht or dynamic for per-episode metrics; null for per-run ones.</param>
/// <param name="HigherIsBetter">The direction that counts as better.</param>
/// <param name="DefaultScale">How comparisons measure it by default.</param>
/// <param name="Description">What it is.</param>
public sealed record StudyMetric(string Key, string? Environment, bool HigherIsBetter, EffectScale DefaultScale, string Description)
{
    /// <summary>Whether the metric has one value per test episode.</summary>
    public bool PerEpisode => Environment is not null;

    /// <summary>The per-episode field: score, success, agent_jerk or action_jerk.</summary>
    public string Field => Key[(Key.IndexOf('.') + 1)..];
}

/// <summary>The metrics and protocol summaries a study knows.</summary>
public static class StudyMetrics
{
    /// <summary>The evaluation environments: classic Push-T and Dynamic Push-T (<see cref="PushTConfig.Dynamic"/>).</summary>
    public static IReadOnlyList<string> Environments { get; } = ["pusht", "dynamic"];

    /// <summary>
    /// The protocol summaries over a run's checkpoints: <c>last</c> = the mean of the last kept checkpoints (episode by
    /// episode), <c>max</c> = the checkpoint with the highest mean test score (optimistic: chosen on the test seeds),
    /// <c>best</c> = the checkpoint chosen on validation seeds.
    /// </summary>
    public static IReadOnlyList<string> Summaries { get; } = ["last", "max", "best"];

    /// <summary>Every metric.</summary>
    public static IReadOnlyList<StudyMetric> All { get; } =
    [
        .. Environments.SelectMany(env => new StudyMetric[]
        {
            new($"{env}.score", env, true, EffectScale.Absolute, "target coverage: mean over episodes of the max reward"),
            new($"{env}.success", env, true, EffectScale.Absolute, "success rate (max coverage >= 0.95)"),
            new($"{env}.agent_jerk", env, false, EffectScale.Relative, "mean jerk of the agent path (px/s^3)"),
            new($"{env}.action_jerk", env, false, EffectScale.Relative, "mean jerk of the executed actions (px/s^3)"),
        }),
        new("convergence.steps", null, false, EffectScale.Relative, "optimiser steps to reach the validation threshold"),
        new("convergence.minutes", null, false, EffectScale.Relative, "training minutes to reach the validation threshold"),
    ];

    /// <summary>The metric keys.</summary>
    public static IEnumerable<string> Keys => All.Select(m => m.Key);

    /// <summary>The metric called <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">Unknown (the message lists the known ones).</exception>
    public static StudyMetric Get(string key, string where = "metric") => All.FirstOrDefault(m => m.Key == key)
        ?? throw new ArgumentException($"{where}: unknown metric '{key}'. Known: {string.Join(", ", Keys)}.");

    /// <summary>The environment settings of an environment name.</summary>
    public static PushTConfig Env(string name) => name switch
    {
        "pusht" => PushTConfig.Classic,
        "dynamic" => PushTConfig.Dynamic,
        _ => throw new ArgumentException($"Unknown environment '{name}'. Known: {string.Join(", ", Environments)}."),
    };
}
