using System.Globalization;
using System.Text;

namespace DpAg.Spirals;

/// <summary>The experiment's results as a Markdown table (per model, mean +- std over seeds, next to the paper).</summary>
public static class SpiralsTable
{
    /// <summary>Markdown: the summary table, the per-seed rows and a one-line reading of the paper's effect.</summary>
    public static string ToMarkdown(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var ci = CultureInfo.InvariantCulture;
        var c = report.Config;
        var g = c.Guidance;
        var md = new StringBuilder();
        md.AppendLine("# Irregular spirals: Base Flow vs VJP-Guided Flow").AppendLine();
        md.AppendLine(ci, $"- seeds: {string.Join(", ", c.Seeds)}; train/test trajectories: {c.Data.TrainCount}/{c.Data.TestCount}; stamps: {c.Data.Observed} observed + {c.Data.Interpolation} interp. in [0, {c.Data.PrefixEnd}] + {c.Data.Extrapolation} extrap.; noise std {c.Data.NoiseStd}");
        md.AppendLine(ci, $"- models: latent {c.LatentDim}, hidden {c.Hidden}, solver {c.Solver.Describe()}; {c.Steps} Adam steps, batch {c.BatchSize}, lr {c.LearningRate}");
        md.AppendLine(ci, $"- guidance: target {g.Target}, sign {g.Sign:+0;-0}, gamma {g.Gamma}, normalisation {(g.Normalise ? "Released" : "Paper")}, detached {g.Detach}; contrastive weight {c.ContrastiveWeight}");
        md.AppendLine(ci, $"- wall time: {report.WallSeconds:F1} s").AppendLine();
        md.AppendLine("MSE against the noise-free held-out trajectories (mean +- std over seeds); smoothness on a regular grid of the test set.").AppendLine();
        md.AppendLine(ci, $"| model | paper MSE | MSE held-out | MSE interp. | MSE extrap. | latent mean sq. step | latent curvature | curvature / step | output curvature | steps to loss {c.ConvergenceLoss} | train s |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var s in report.Summary)
        {
            string paper = SpiralModels.PaperMse.TryGetValue(s.Model, out var p) ? p.ToString("0.0000", ci) : "-";
            md.AppendLine(ci, $"| {s.Model} | {paper} | {F(s.HeldOutMse)} | {F(s.InterpMse)} | {F(s.ExtrapMse)} | {F(s.LatentStep)} | {F(s.LatentCurvature)} | {F(s.LatentCurvatureRatio)} | {F(s.OutputCurvature)} | {F(s.StepsToLoss)} | {(s.Model == SpiralModels.Trivial ? "-" : s.TrainSeconds.Mean.ToString("F1", ci))} |");
        }
        md.AppendLine().AppendLine("Per seed:").AppendLine();
        md.AppendLine("| model | seed | MSE held-out | MSE interp. | MSE extrap. | latent step | latent curvature | curvature / step | output curvature | steps to loss | final train loss |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in report.Rows)
            md.AppendLine(ci, $"| {r.Model} | {r.Seed} | {G(r.HeldOutMse)} | {G(r.InterpMse)} | {G(r.ExtrapMse)} | {G(r.LatentStep)} | {G(r.LatentCurvature)} | {G(r.LatentCurvatureRatio)} | {G(r.OutputCurvature)} | {G(r.StepsToLoss)} | {G(r.FinalTrainLoss)} |");
        md.AppendLine().AppendLine(Verdict(report));
        return md.ToString();
    }

    /// <summary>One sentence: the paired held-out MSE ratio guided / base over the seeds of this one configuration, with
    /// its 95 % interval and the verdict of <see cref="SpiralsVerdict.Decide"/> (docs/spirals.md; a sweep over widths, data
    /// sizes and budgets is <see cref="SpiralsSweep"/>).</summary>
    public static string Verdict(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var ci = CultureInfo.InvariantCulture;
        var b = report.Of(SpiralModels.Base);
        var g = report.Of(SpiralModels.Guided);
        var (mse, _, _) = SpiralsSweep.Effects(report.Rows, report.Config.Seeds);
        string word = SpiralsVerdict.Word(SpiralsVerdict.Decide(mse));
        return string.Create(ci, $"Paper: MSE 0.0095 -> 0.0052 (ratio 0.547). Kit: held-out MSE {b.HeldOutMse.Mean:0.0000} -> {g.HeldOutMse.Mean:0.0000}, paired ratio {mse.RatioText()} over {mse.Pairs} seeds; latent curvature/step {b.LatentCurvatureRatio.Mean:G3} -> {g.LatentCurvatureRatio.Mean:G3}. Verdict at this configuration: {word}.");
    }

    private static string F(MeanStd m) => double.IsNaN(m.Mean) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{m.Mean:G3} +- {m.Std:G2}");

    private static string G(double x) => double.IsNaN(x) ? "-" : x.ToString("G3", CultureInfo.InvariantCulture);
}
