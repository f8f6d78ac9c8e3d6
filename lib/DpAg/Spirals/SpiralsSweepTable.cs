using System.Globalization;
using System.Text;

namespace DpAg.Spirals;

/// <summary>The sweep as Markdown: setup, numerical floors, the per-cell table of paired effects, the verdict.</summary>
public static class SpiralsSweepTable
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>The whole report (docs/results/spirals/report.md is this text for the real sweep).</summary>
    public static string ToMarkdown(SpiralsSweepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = report.Config;
        var e = c.Experiment;
        var g = e.Guidance;
        var md = new StringBuilder();
        md.AppendLine("# Irregular spirals: Base Flow vs VJP-Guided Flow, paired sweep").AppendLine();
        md.AppendLine("Reconstruction and verdict rule: docs/spirals.md. Effects are guided / base ratios (geometric mean over paired seeds, 95 % t-interval); below 1 means the guided flow is lower.").AppendLine();
        md.AppendLine(Ci, $"- sweep: widths {string.Join(", ", c.Widths)}; training spirals {string.Join(", ", c.TrainSizes)}; budgets {string.Join(", ", c.Budgets)} steps; paired seeds {string.Join(", ", c.Seeds)} ({c.Cells().Count} cells, {c.Cells().Count * c.Seeds.Length * 2} trained models)");
        md.AppendLine(Ci, $"- data: {e.Data.TestCount} test spirals; {e.Data.Observed} observed + {e.Data.Interpolation} interpolation stamps in [0, {e.Data.PrefixEnd}], {e.Data.Extrapolation} extrapolation stamps after; noise std {e.Data.NoiseStd}; {e.Data.Turns} turns");
        md.AppendLine(Ci, $"- models: latent {e.LatentDim}; solver {e.Solver.Describe()}; batch {e.BatchSize}, lr {e.LearningRate} (cosine to 10 %), clip {e.GradClip}");
        md.AppendLine(Ci, $"- guidance: target {g.Target}, sign {g.Sign:+0;-0}, gamma {g.Gamma}, normalisation {(g.Normalise ? "Released" : "Paper")}, detached {g.Detach}; contrastive weight {e.ContrastiveWeight}");
        md.AppendLine(Ci, $"- wall time: {report.WallSeconds:F0} s ({c.Workers} workers)").AppendLine();

        md.AppendLine("## Numerical floor").AppendLine();
        md.AppendLine("MSE at the held-out stamps of the true dynamics integrated by the solver from the true state (seed " + c.Seeds[0].ToString(Ci) + " test set), next to the models' own solver error (rollout vs a 4x finer step, mean over all trained models).").AppendLine();
        md.AppendLine("| solver | MSE floor |");
        md.AppendLine("| --- | ---: |");
        md.AppendLine(Ci, $"| {e.Solver.Describe()} (this sweep) | {report.SolverFloor:G3} |");
        md.AppendLine(Ci, $"| {OdeSolverConfig.EulerPerGap.Describe()} (the kit's first experiment) | {report.EulerPerGapFloor:G3} |");
        var models = report.Cells.SelectMany(x => x.Rows).Where(r => r.Model != SpiralModels.Trivial).ToList();
        md.AppendLine(Ci, $"| trained models, own solver error (mean / max) | {models.Average(r => r.SolverError):G3} / {models.Max(r => r.SolverError):G3} |").AppendLine();

        md.AppendLine("## Held-out MSE and smoothness per cell").AppendLine();
        md.AppendLine(Ci, $"MSE against the clean test spirals at the held-out stamps (mean over seeds). Curvature: mean squared second difference on a regular grid of {e.GridPoints} points (output: decoded path, truth {report.TruthOutputCurvature:G3}; latent: curvature / mean squared step, scale-free).").AppendLine();
        md.AppendLine("| cell | trivial MSE | base MSE | guided MSE | MSE ratio [95 % CI] | verdict | output curvature ratio | latent curvature ratio |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
        foreach (var cell in report.Cells)
            md.AppendLine(Ci, $"| {cell.Cell.Label} | {cell.Of(SpiralModels.Trivial).HeldOutMse.Mean:G3} | {cell.Of(SpiralModels.Base).HeldOutMse.Mean:G3} | {cell.Of(SpiralModels.Guided).HeldOutMse.Mean:G3} | {cell.Mse.RatioText()} | {SpiralsVerdict.Word(cell.Verdict)} | {cell.OutputCurvature.RatioText()} | {cell.LatentCurvatureRatio.RatioText()} |");
        md.AppendLine(Ci, $"| **all cells** (per-seed mean over cells) | | | | **{report.Mse.RatioText()}** | **{report.VerdictWord}** | {report.OutputCurvature.RatioText()} | {report.LatentCurvatureRatio.RatioText()} |").AppendLine();

        md.AppendLine("## Verdict").AppendLine();
        md.AppendLine(VerdictLine(report)).AppendLine();
        md.AppendLine(Reading(report)).AppendLine();

        md.AppendLine("## Figures").AppendLine();
        md.AppendLine(Ci, $"Written next to this report by `dpag spirals` (the figures' cell: {c.FigureCell.Label}, seed {c.Seeds[0]}).").AppendLine();
        md.AppendLine("![paired effects](effects.png)").AppendLine();
        md.AppendLine("![test spirals: truth, observed prefix, held-out points, predictions](trajectories.png)").AppendLine();
        md.AppendLine("![latent paths, first two principal components](latents.png)").AppendLine();

        md.AppendLine("## Per seed").AppendLine();
        md.AppendLine("| cell | seed | model | held-out MSE | interp. | extrap. | output curvature | latent curv./step | solver error | final train loss | train s |");
        md.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var cell in report.Cells)
            foreach (var r in cell.Rows.OrderBy(r => r.Seed))
                md.AppendLine(Ci, $"| {cell.Cell.Label} | {r.Seed} | {r.Model} | {G(r.HeldOutMse)} | {G(r.InterpMse)} | {G(r.ExtrapMse)} | {G(r.OutputCurvature)} | {G(r.LatentCurvatureRatio)} | {G(r.SolverError)} | {G(r.FinalTrainLoss)} | {G(r.TrainSeconds)} |");
        return md.ToString();
    }

    /// <summary>"Verdict: inconclusive. Held-out MSE ratio guided / base 0.98 [0.93, 1.03] over 5 paired seeds (paper 0.547)."</summary>
    public static string VerdictLine(SpiralsSweepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return string.Create(Ci, $"Verdict: {report.VerdictWord}. Held-out MSE ratio guided / base {report.Mse.RatioText()} over {report.Mse.Pairs} paired seeds (all cells; paper {SpiralsVerdict.PaperRatio:F3}, meaningful below {report.Config.MeaningfulRatio:F2}).");
    }

    /// <summary>What the cells say beyond the overall verdict, and what would change it.</summary>
    public static string Reading(SpiralsSweepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var by = report.Cells.GroupBy(c => c.Verdict).ToDictionary(x => x.Key, x => x.Select(c => c.Cell.Label).ToList());
        string List(Verdict v) => by.TryGetValue(v, out var l) ? $"{l.Count} ({string.Join("; ", l)})" : "0";
        var (lo, hi) = (report.Mse.AsRatio().Low, report.Mse.AsRatio().High);
        string change = report.Verdict switch
        {
            Verdict.Reproduced => "A sweep in which the interval reached 1 (more seeds or other cells) would weaken it; the size is to be compared with the paper's 0.547.",
            Verdict.NotReproduced => string.Create(Ci, $"The interval's lower end {lo:F3} is above the paper's 0.547: the paper's size is excluded at these settings. Another reconstruction (a different guidance target, gamma, or the contrastive term) could still change it; more seeds would only narrow the interval."),
            _ => string.Create(Ci, $"The interval [{lo:F3}, {hi:F3}] holds both the paper's 0.547 or a meaningful gain and no gain; more paired seeds would narrow it."),
        };
        return $"Cells: reproduced {List(Verdict.Reproduced)}; not reproduced {List(Verdict.NotReproduced)}; inconclusive {List(Verdict.Inconclusive)}. " +
            $"Cell verdicts are {report.Cells.Count} separate tests at 95 % each, so a stray cell is expected by chance; the overall line is the verdict. " + change;
    }

    private static string G(double x) => double.IsNaN(x) ? "-" : x.ToString("G3", Ci);
}
