namespace DpAg.Envs.Expert;

/// <summary>
/// Settings of <see cref="PushTExpert"/>. The defaults were tuned by hand on data-collection seeds 0..99 (docs data/README.md)
/// for a high success rate within the protocol's 300 steps at a few tens of milliseconds of planning per push.
/// </summary>
public sealed record PushTExpertConfig
{
    /// <summary>Spacing (px) of candidate contact points along the T's outline (480 px long). Default 10.</summary>
    public double ContactSpacing { get; init; } = 10;

    /// <summary>Gap (px) between the agent's disc and the T at the pre-contact point. Default 2.</summary>
    public double ContactGap { get; init; } = 2;

    /// <summary>Extra clearance (px) beyond the agent radius that approach paths keep from the T. Default 5.</summary>
    public double Clearance { get; init; } = 5;

    /// <summary>Push directions tried per contact point, as angles (rad) from the inward normal. Default {0, -0.35, +0.35}.</summary>
    public IReadOnlyList<double> PushAngles { get; init; } = [0, -0.35, 0.35];

    /// <summary>Most env steps of one simulated push. Default 10.</summary>
    public int MaxPushSteps { get; init; } = 10;

    /// <summary>Fastest push speed (px per env step) far from the goal. Default 10.</summary>
    public double MaxPushSpeed { get; init; } = 10;

    /// <summary>Slowest push speed (px per env step) close to the goal. Default 1.</summary>
    public double MinPushSpeed { get; init; } = 1;

    /// <summary>Push speed per px of pose error (mean keypoint distance): speed = clamp(gain * error, min, max). Default 0.25.</summary>
    public double PushSpeedGain { get; init; } = 0.25;

    /// <summary>Cost per px of approach travel when scoring a push (cost units are px of mean keypoint error). Default 0.03.</summary>
    public double TravelWeight { get; init; } = 0.03;

    /// <summary>Weight of (1 - coverage) in the pose cost, added to the mean keypoint distance (px). Default 40.</summary>
    public double CoverageWeight { get; init; } = 40;

    /// <summary>Largest distance (px) between the agent and an approach target (10 Hz cursor-like motion). Default 40.</summary>
    public double MaxLead { get; init; } = 40;

    /// <summary>Agent-to-pre-contact distance (px) below which the approach ends and the push starts. Default 2.</summary>
    public double ArrivalTolerance { get; init; } = 2;

    /// <summary>Grid cell (px) of the approach path planner. Default 8.</summary>
    public double GridCell { get; init; } = 8;

    /// <summary>Margin (px) from the world edge that agent targets keep. Default 20.</summary>
    public double ArenaMargin { get; init; } = 20;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public void Validate()
    {
        static void Positive(double v, string name, string hint)
        {
            if (!(v > 0) || !double.IsFinite(v))
                throw new ArgumentException($"PushTExpertConfig.{name} must be a positive finite number; got {v}. {hint}", name);
        }
        Positive(ContactSpacing, nameof(ContactSpacing), "Use about 10 px.");
        Positive(ContactGap, nameof(ContactGap), "Use about 2 px.");
        Positive(Clearance, nameof(Clearance), "Use about 5 px.");
        Positive(MaxPushSpeed, nameof(MaxPushSpeed), "Use about 10 px per step.");
        Positive(MinPushSpeed, nameof(MinPushSpeed), "Use about 1 px per step.");
        Positive(PushSpeedGain, nameof(PushSpeedGain), "Use about 0.25.");
        Positive(MaxLead, nameof(MaxLead), "Use 40-60 px.");
        Positive(ArrivalTolerance, nameof(ArrivalTolerance), "Use about 2 px.");
        Positive(GridCell, nameof(GridCell), "Use about 8 px.");
        if (MinPushSpeed > MaxPushSpeed)
            throw new ArgumentException($"PushTExpertConfig.MinPushSpeed ({MinPushSpeed}) exceeds MaxPushSpeed ({MaxPushSpeed}); make it smaller.", nameof(MinPushSpeed));
        if (MaxPushSteps < 1 || MaxPushSteps > 100)
            throw new ArgumentException($"PushTExpertConfig.MaxPushSteps must be in [1, 100]; got {MaxPushSteps}. Use about 10.", nameof(MaxPushSteps));
        if (PushAngles is null || PushAngles.Count == 0 || PushAngles.Any(a => !double.IsFinite(a) || Math.Abs(a) >= Math.PI / 2))
            throw new ArgumentException($"PushTExpertConfig.PushAngles must hold at least one finite angle in (-pi/2, pi/2); got [{string.Join(", ", PushAngles ?? [])}].", nameof(PushAngles));
        if (!(TravelWeight >= 0)) throw new ArgumentException($"PushTExpertConfig.TravelWeight must be >= 0; got {TravelWeight}.", nameof(TravelWeight));
        if (!(CoverageWeight >= 0)) throw new ArgumentException($"PushTExpertConfig.CoverageWeight must be >= 0; got {CoverageWeight}.", nameof(CoverageWeight));
        if (!(ArenaMargin >= 0 && ArenaMargin < 200)) throw new ArgumentException($"PushTExpertConfig.ArenaMargin must be in [0, 200) px; got {ArenaMargin}. Use about 20.", nameof(ArenaMargin));
    }
}
