using System.Globalization;
using DpAg.Losses;

namespace DpAg.Spirals;

/// <summary>
/// The whole irregular-spirals experiment (docs/method.md, "Reported results"): data, both models, training and evaluation.
/// Presets <see cref="Ci"/> (about half a minute on 2 cores) and <see cref="Real"/> (a few minutes); variants via
/// <c>with { ... }</c>.
/// </summary>
public sealed record SpiralsConfig
{
    /// <summary>Generator constants (its own seed is the run seed).</summary>
    public SpiralDataConfig Data { get; init; } = new();

    /// <summary>Latent size D (the brief: about 8-16).</summary>
    public int LatentDim { get; init; } = 8;

    /// <summary>Hidden width of encoder, vector field and decoder.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>How the latent ODE is integrated (default RK4 on a grid of step at most 1/40; docs/spirals.md,
    /// "Assumptions of the reconstruction", the solver row).
    /// <see cref="OdeSolverConfig.EulerPerGap"/> is the kit's first experiment, whose step was the gap between stamps.</summary>
    public OdeSolverConfig Solver { get; init; } = OdeSolverConfig.Rk4Grid;

    /// <summary>Optimiser steps per model and seed.</summary>
    public int Steps { get; init; } = 1500;

    /// <summary>Trajectories per batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam learning rate (cosine-decayed to 10 % over the run).</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Global gradient-norm clip.</summary>
    public double GradClip { get; init; } = 1.0;

    /// <summary>Seeds; each seed draws its own data set and initialisation. At least 3 for the resolution note.</summary>
    public int[] Seeds { get; init; } = [0, 1, 2];

    /// <summary>The VJP-Guided Flow's correction.</summary>
    public FlowGuidanceConfig Guidance { get; init; } = FlowGuidanceConfig.Paper;

    /// <summary>Weight of the InfoNCE term between unguided (anchors) and guided (candidates) outputs of the guided
    /// model; 0 turns it off (the kit's default: the paper's spirals figure does not say it is used).</summary>
    public double ContrastiveWeight { get; init; }

    /// <summary>InfoNCE constants for the contrastive term (released-code preset by default).</summary>
    public ContrastiveConfig Contrastive { get; init; } = ContrastiveConfig.ReleasedCode;

    /// <summary>Training-loss level for the steps-to-converge column (25-step moving average; noise floor 0.0009).</summary>
    public double ConvergenceLoss { get; init; } = 0.01;

    /// <summary>Points of the regular grid on (0, 1] used for smoothness metrics and figures.</summary>
    public int GridPoints { get; init; } = 100;

    /// <summary>Test trajectories kept (first seed) for the figures.</summary>
    public int FigureTrajectories { get; init; } = 4;

    /// <summary>The CI budget: small data, few steps, 3 seeds (about 30 s on 2 cores).</summary>
    public static SpiralsConfig Ci { get; } = new()
    {
        Data = new SpiralDataConfig { TrainCount = 128, TestCount = 64 },
        Steps = 120,
        BatchSize = 32,
    };

    /// <summary>The real budget: 512 training trajectories, 1500 steps per model and seed, 3 seeds.</summary>
    public static SpiralsConfig Real { get; } = new();

    /// <summary>The preset named <paramref name="budget"/> ("ci" or "real").</summary>
    public static SpiralsConfig FromBudget(string budget) => budget?.Trim().ToLowerInvariant() switch
    {
        "ci" => Ci,
        "real" => Real,
        _ => throw new ArgumentException($"budget = '{budget}' is invalid: use 'ci' or 'real'.", nameof(budget)),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public SpiralsConfig Validate()
    {
        ArgumentNullException.ThrowIfNull(Data);
        Data.Validate();
        Guidance?.Validate();
        Contrastive?.Validate();
        if (LatentDim < 2) throw Bad(nameof(LatentDim), LatentDim, "use at least 2 (figures show 2 components)");
        if (Hidden < 1) throw Bad(nameof(Hidden), Hidden, "use a positive width such as 64");
        if (Solver is null) throw Bad(nameof(Solver), "null", "use OdeSolverConfig.Rk4Grid");
        Solver.Validate();
        if (Steps < 1) throw Bad(nameof(Steps), Steps, "use at least 1 step");
        if (BatchSize < 2) throw Bad(nameof(BatchSize), BatchSize, "use a batch of at least 2 (InfoNCE needs negatives)");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw Bad(nameof(LearningRate), LearningRate, "use a positive rate such as 3e-3");
        if (!(GradClip > 0)) throw Bad(nameof(GradClip), GradClip, "use a positive clip such as 1");
        if (Seeds is null || Seeds.Length == 0) throw Bad(nameof(Seeds), "[]", "give at least one seed (3 for the resolution note)");
        if (Seeds.Distinct().Count() != Seeds.Length) throw Bad(nameof(Seeds), string.Join(",", Seeds), "use distinct seeds");
        if (Guidance is null) throw Bad(nameof(Guidance), "null", "use FlowGuidanceConfig.Paper or another preset");
        if (!(ContrastiveWeight >= 0) || !double.IsFinite(ContrastiveWeight)) throw Bad(nameof(ContrastiveWeight), ContrastiveWeight, "use 0 (off) or a positive weight");
        if (!(ConvergenceLoss > 0)) throw Bad(nameof(ConvergenceLoss), ConvergenceLoss, "use a positive loss level such as 0.01");
        if (GridPoints < 3) throw Bad(nameof(GridPoints), GridPoints, "use at least 3 grid points (curvature needs second differences)");
        if (FigureTrajectories < 1 || FigureTrajectories > Data.TestCount) throw Bad(nameof(FigureTrajectories), FigureTrajectories, $"use 1..{Data.TestCount} (the test set size)");
        return this;
    }

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"SpiralsConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}
