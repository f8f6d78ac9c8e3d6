using DpAg.Evaluation;

namespace DpAg.Plots;

/// <summary>Static figures (ScottPlot PNG) comparing runs: loss curves per term and evaluation scores.</summary>
public static class RunFigures
{
    /// <summary>One line per run for the metric column (moving average), e.g. "denoise".</summary>
    public static ScottPlot.Plot LossCurves(IReadOnlyList<RunSummary> runs, string column, string title)
    {
        var plot = new ScottPlot.Plot();
        foreach (var run in runs)
        {
            var (steps, values) = run.Curve(column);
            if (steps.Length == 0) continue;
            var line = plot.Add.Scatter(steps, values);
            line.MarkerSize = 0;
            line.LegendText = run.Policy;
        }
        plot.Axes.Bottom.Label.Text = "training step";
        plot.Axes.Left.Label.Text = $"{column} (moving average)";
        plot.Title(title);
        plot.ShowLegend();
        return plot;
    }

    /// <summary>
    /// Learning curves from evaluation during training: validation score (the papers' target coverage) per run against
    /// training steps, or against training minutes when <paramref name="againstMinutes"/>.
    /// </summary>
    public static ScottPlot.Plot LearningCurves(IReadOnlyList<RunSummary> runs, bool againstMinutes, string title)
    {
        var plot = new ScottPlot.Plot();
        foreach (var run in runs.Where(r => r.Validation.Count > 0))
        {
            var xs = run.Validation.Select(v => againstMinutes ? v.TrainMinutes : v.Step).ToArray();
            var ys = run.Validation.Select(v => v.Score).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = run.Policy;
            line.MarkerSize = 5;
        }
        plot.Axes.Bottom.Label.Text = againstMinutes ? "training minutes" : "training step";
        plot.Axes.Left.Label.Text = "validation score (target coverage)";
        plot.Axes.SetLimitsY(0, 1);
        plot.Title(title);
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        return plot;
    }

    /// <summary>Writes the two learning-curve PNGs of one run folder (steps and minutes) into it.</summary>
    public static void SaveLearningCurves(string runDir, int width = 800, int height = 450)
    {
        var run = RunSummary.Load(runDir);
        if (run.Validation.Count == 0) return;
        foreach (var (minutes, file) in new[] { (false, "learning_curve_steps.png"), (true, "learning_curve_minutes.png") })
            IO.AtomicFile.WriteAllBytes(Path.Combine(runDir, file),
                LearningCurves([run], minutes, $"{run.Policy}: validation score during training").GetImage(width, height).GetImageBytes(ScottPlot.ImageFormat.Png));
    }

    /// <summary>Bars of mean max coverage and success rate per run.</summary>
    public static ScottPlot.Plot Scores(IReadOnlyList<RunSummary> runs, string title)
    {
        var plot = new ScottPlot.Plot();
        var evaluated = runs.Where(r => r.Eval is not null).ToList();
        var bars = new List<ScottPlot.Bar>();
        for (int i = 0; i < evaluated.Count; i++)
        {
            bars.Add(new ScottPlot.Bar { Position = 3 * i, Value = evaluated[i].Eval!.MeanMaxCoverage, FillColor = ScottPlot.Colors.SteelBlue });
            bars.Add(new ScottPlot.Bar { Position = 3 * i + 1, Value = evaluated[i].Eval!.SuccessRate, FillColor = ScottPlot.Colors.Orange });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(evaluated.Select((_, i) => 3.0 * i + 0.5).ToArray(), evaluated.Select(r => r.Policy).ToArray());
        plot.Axes.Left.Label.Text = "coverage (blue) / success rate (orange)";
        plot.Axes.SetLimitsY(0, 1);
        plot.Title(title);
        return plot;
    }
}
