namespace DpAg.Spirals;

/// <summary>The model names used in every table and figure.</summary>
public static class SpiralModels
{
    /// <summary>The Base Flow.</summary>
    public const string Base = "Base Flow";

    /// <summary>The VJP-Guided Flow.</summary>
    public const string Guided = "VJP-Guided Flow";

    /// <summary>The trivial baseline: linear interpolation of the observed prefix, last value held after it.</summary>
    public const string Trivial = "Trivial (prefix interp., hold last)";

    /// <summary>The paper's reported MSE per model (docs/method.md): 0.0095 base, 0.0052 guided.</summary>
    public static IReadOnlyDictionary<string, double> PaperMse { get; } = new Dictionary<string, double> { [Base] = 0.0095, [Guided] = 0.0052 };
}

/// <summary>One model trained and evaluated on one seed. MSEs are against the noise-free test trajectories, mean over
/// held-out points and both coordinates. Smoothness on a regular grid of the test set (see <see cref="SpiralMetrics"/>).</summary>
/// <param name="Model">Model name (<see cref="SpiralModels"/>).</param>
/// <param name="Seed">Seed of data and initialisation.</param>
/// <param name="InterpMse">MSE at the held-out stamps inside the observed window.</param>
/// <param name="ExtrapMse">MSE at the stamps after the observed window.</param>
/// <param name="HeldOutMse">MSE over all held-out stamps (interpolation and extrapolation).</param>
/// <param name="LatentStep">Mean squared latent step on the grid, mean ||z_{i+1} - z_i||^2 (NaN for the trivial baseline).</param>
/// <param name="LatentCurvature">Mean squared second difference, mean ||z_{i+1} - 2 z_i + z_{i-1}||^2.</param>
/// <param name="LatentCurvatureRatio">LatentCurvature / LatentStep: scale-free (a latent rescaled by c keeps it).</param>
/// <param name="OutputCurvature">Mean squared second difference of the decoded grid trajectory (output space).</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="FinalTrainLoss">Mean training loss over the last 10 % of steps.</param>
/// <param name="StepsToLoss">First step at which the 25-step moving average of the training loss reaches
/// <see cref="SpiralsConfig.ConvergenceLoss"/> (NaN if never): the paper's "fewer epochs" claim. It is the total loss, so
/// with a contrastive weight the InfoNCE term is included and the level is usually not reached.</param>
/// <param name="SolverError">MSE at the held-out stamps between the model's rollout with its solver and with a step four
/// times smaller: the trained model's own integration error (NaN for the trivial baseline).</param>
public sealed record SpiralsRow(string Model, int Seed, double InterpMse, double ExtrapMse, double HeldOutMse,
    double LatentStep, double LatentCurvature, double LatentCurvatureRatio, double OutputCurvature, double TrainSeconds, double FinalTrainLoss,
    double StepsToLoss, double SolverError);

/// <summary>Mean and sample standard deviation over seeds.</summary>
/// <param name="Mean">Mean.</param>
/// <param name="Std">Sample standard deviation (0 for one seed).</param>
public readonly record struct MeanStd(double Mean, double Std);

/// <summary>Per-model mean and std over seeds of every column of <see cref="SpiralsRow"/>.</summary>
public sealed record SpiralsSummary(string Model, int Seeds, MeanStd InterpMse, MeanStd ExtrapMse, MeanStd HeldOutMse,
    MeanStd LatentStep, MeanStd LatentCurvature, MeanStd LatentCurvatureRatio, MeanStd OutputCurvature, MeanStd TrainSeconds, MeanStd StepsToLoss);

/// <summary>One model's view of the figure trajectories (first seed).</summary>
/// <param name="Model">Model name.</param>
/// <param name="Outputs">[trajectory][grid point] = (x, y).</param>
/// <param name="Latents">[trajectory][grid point] = z, D numbers.</param>
/// <param name="LatentPca">[trajectory][grid point] = the first two principal components of the latents (fit over all
/// figure trajectories of this model).</param>
/// <param name="LossCurve">Training loss per step.</param>
public sealed record SpiralsModelTrace(string Model, double[][][] Outputs, double[][][] Latents, double[][][] LatentPca, double[] LossCurve);

/// <summary>What the figures need: the grid, the test trajectories (clean and observed) and each model's trace.</summary>
/// <param name="Seed">The seed these traces come from.</param>
/// <param name="Grid">Regular grid on (0, 1].</param>
/// <param name="Clean">[trajectory][grid point] = noise-free (x, y).</param>
/// <param name="Observed">[trajectory][k] = observed (t, x, y) of the prefix.</param>
/// <param name="HeldOut">[trajectory][j] = held-out noisy (t, x, y), interpolation and extrapolation.</param>
/// <param name="PrefixEnd">End of the observed window.</param>
/// <param name="Models">Base first, then guided.</param>
public sealed record SpiralsFigureData(int Seed, double[] Grid, double[][][] Clean, double[][][] Observed, double[][][] HeldOut, double PrefixEnd,
    IReadOnlyList<SpiralsModelTrace> Models);

/// <summary>The result of <see cref="SpiralsExperiment.Run"/>.</summary>
/// <param name="Config">The configuration that ran.</param>
/// <param name="Rows">Per model and seed (trivial baseline included).</param>
/// <param name="Summary">Per model over seeds.</param>
/// <param name="Figures">Traces of the first seed.</param>
/// <param name="WallSeconds">Wall time of the whole run.</param>
public sealed record SpiralsReport(SpiralsConfig Config, IReadOnlyList<SpiralsRow> Rows, IReadOnlyList<SpiralsSummary> Summary,
    SpiralsFigureData Figures, double WallSeconds)
{
    /// <summary>The summary of <paramref name="model"/>.</summary>
    public SpiralsSummary Of(string model) => Summary.Single(s => s.Model == model);
}
