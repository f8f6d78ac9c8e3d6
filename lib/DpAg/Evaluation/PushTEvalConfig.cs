using DpAg.Envs;

namespace DpAg.Evaluation;

/// <summary>The Push-T evaluation protocol (docs/pusht.md "Evaluation protocol"); defaults are the reference values.</summary>
public sealed record PushTEvalConfig
{
    /// <summary>
    /// The protocol for a policy of this shape: its observation and action steps, and image observations when it uses
    /// images, in <paramref name="env"/> (default <see cref="PushTConfig.Classic"/>).
    /// </summary>
    public static PushTEvalConfig For(DpAg.Policies.DiffusionPolicyConfig policy, PushTConfig? env = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new PushTEvalConfig
        {
            ObsSteps = policy.ObsSteps, ActionSteps = policy.ActionSteps,
            Env = (env ?? PushTConfig.Classic) with { ImageObservations = policy.Observation == DpAg.Policies.ObservationKind.Image },
        };
    }

    /// <summary>Number of test episodes (50).</summary>
    public int Episodes { get; init; } = 50;

    /// <summary>Seed of the first episode; episode i uses FirstSeed + i (100000).</summary>
    public long FirstSeed { get; init; } = 100000;

    /// <summary>Most env steps per episode (300).</summary>
    public int MaxSteps { get; init; } = 300;

    /// <summary>Observation steps To given to the policy (2).</summary>
    public int ObsSteps { get; init; } = 2;

    /// <summary>Actions executed per policy call Ta (8).</summary>
    public int ActionSteps { get; init; } = 8;

    /// <summary>Environment settings; the legacy reset is the protocol's (default <see cref="PushTConfig.Classic"/>).</summary>
    public PushTConfig Env { get; init; } = new();

    /// <summary>Episodes run in parallel (default: processor count; 1 for sequential).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Record a GIF for the first N episodes (default 0).</summary>
    public int GifEpisodes { get; init; }

    /// <summary>Side of the GIF frames in pixels (default 256; frames are drawn at 512 and resized).</summary>
    public int GifSize { get; init; } = 256;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public void Validate()
    {
        if (Episodes < 1) throw new ArgumentException($"PushTEvalConfig.Episodes must be >= 1; got {Episodes}. The protocol uses 50.", nameof(Episodes));
        if (FirstSeed < 0 || FirstSeed + Episodes - 1 > uint.MaxValue)
            throw new ArgumentException($"PushTEvalConfig.FirstSeed must keep seeds in [0, 2^32 - 1]; got {FirstSeed}. The protocol uses 100000.", nameof(FirstSeed));
        if (MaxSteps < 1) throw new ArgumentException($"PushTEvalConfig.MaxSteps must be >= 1; got {MaxSteps}. The protocol uses 300.", nameof(MaxSteps));
        if (ObsSteps < 1) throw new ArgumentException($"PushTEvalConfig.ObsSteps must be >= 1; got {ObsSteps}. The protocol uses 2.", nameof(ObsSteps));
        if (ActionSteps < 1) throw new ArgumentException($"PushTEvalConfig.ActionSteps must be >= 1; got {ActionSteps}. The protocol uses 8.", nameof(ActionSteps));
        if (MaxDegreeOfParallelism < 1) throw new ArgumentException($"PushTEvalConfig.MaxDegreeOfParallelism must be >= 1; got {MaxDegreeOfParallelism}.", nameof(MaxDegreeOfParallelism));
        if (GifEpisodes < 0) throw new ArgumentException($"PushTEvalConfig.GifEpisodes must be >= 0; got {GifEpisodes}.", nameof(GifEpisodes));
        if (GifSize < 16 || GifSize > 1024) throw new ArgumentException($"PushTEvalConfig.GifSize must be in [16, 1024]; got {GifSize}.", nameof(GifSize));
        ArgumentNullException.ThrowIfNull(Env);
        Env.Validate();
    }
}

/// <summary>One evaluated episode.</summary>
/// <param name="Seed">Reset seed.</param>
/// <param name="Steps">Env steps executed.</param>
/// <param name="MaxReward">Max over steps of clip(coverage / 0.95, 0, 1): the per-episode score the papers average.</param>
/// <param name="MaxCoverage">Max over steps of the raw coverage.</param>
/// <param name="Success">MaxCoverage &gt;= 0.95.</param>
/// <param name="AgentJerk">Mean jerk of the agent path (see <see cref="PushTRunner.MeanJerk"/>), px/s^3.</param>
/// <param name="ActionJerk">Mean jerk of the executed actions (same definition), px/s^3.</param>
/// <param name="Gif">Roll-out GIF when recorded, else null.</param>
public sealed record PushTEpisodeResult(long Seed, int Steps, double MaxReward, double MaxCoverage, bool Success,
    double AgentJerk, double ActionJerk, byte[]? Gif);

/// <summary>Summary of an evaluation.</summary>
/// <param name="Episodes">Per-episode results, in seed order.</param>
/// <param name="Elapsed">Wall time of the whole evaluation.</param>
public sealed record PushTEvalResult(IReadOnlyList<PushTEpisodeResult> Episodes, TimeSpan Elapsed)
{
    /// <summary>The reported "target coverage": mean over episodes of the max reward.</summary>
    public double MeanScore => Episodes.Average(e => e.MaxReward);

    /// <summary>Mean over episodes of the max raw coverage.</summary>
    public double MeanMaxCoverage => Episodes.Average(e => e.MaxCoverage);

    /// <summary>Fraction of episodes with max coverage &gt;= 0.95.</summary>
    public double SuccessRate => Episodes.Average(e => e.Success ? 1.0 : 0.0);

    /// <summary>Mean over episodes of the agent-path jerk (px/s^3).</summary>
    public double MeanAgentJerk => Episodes.Average(e => e.AgentJerk);

    /// <summary>Mean over episodes of the action jerk (px/s^3).</summary>
    public double MeanActionJerk => Episodes.Average(e => e.ActionJerk);

    /// <summary>Total env steps over all episodes.</summary>
    public long TotalSteps => Episodes.Sum(e => (long)e.Steps);

    /// <inheritdoc/>
    public override string ToString() =>
        $"episodes={Episodes.Count} score={MeanScore:F4} mean_max_coverage={MeanMaxCoverage:F4} success={SuccessRate:P0} " +
        $"agent_jerk={MeanAgentJerk:F1} action_jerk={MeanActionJerk:F1} steps={TotalSteps} elapsed={Elapsed.TotalSeconds:F2}s";
}
