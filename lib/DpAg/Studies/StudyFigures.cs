using DpAg.IO;

namespace DpAg.Studies;

/// <summary>The study's PNG figures (ScottPlot): scores per variant, paired effects with intervals, validation curves.</summary>
public static class StudyFigures
{
    /// <summary>The figure files a report shows, with captions.</summary>
    public static IReadOnlyList<(string File, string Caption)> Files(StudyDefinition study) =>
    [
        .. study.Evaluation.Environments.Select(env => ($"scores_{env}.png", $"Target coverage on {env} per variant (bars: mean over seeds, error: sd, dots: seeds)")),
        ("effects.png", $"Paired effect on target coverage against {study.Baseline} with 95 % bootstrap intervals"),
        .. HasAblations(study)
            ? new[] { ("effects_ablations.png", "Paired effect on target coverage of each ablation against the variant it changes, with 95 % bootstrap intervals") }
            : [],
        ("validation_curves.png", "Validation score during training (mean over seeds)"),
    ];

    /// <summary>Whether some variant is compared with a variant other than the baseline (<c>ablation_of</c>).</summary>
    public static bool HasAblations(StudyDefinition study) => study.Variants.Any(v => v.AblationOf is { } of && of != study.Baseline);

    /// <summary>Writes the figures into <paramref name="folder"/>.</summary>
    public static void Save(StudyDefinition study, IReadOnlyList<CellResult> results, StudyTable table, string folder, int width = 900, int height = 500)
    {
        foreach (var env in study.Evaluation.Environments)
            Png(Scores(study, table, env), Path.Combine(folder, $"scores_{env}.png"), width, height);
        Png(Effects(study, table), Path.Combine(folder, "effects.png"), width, height);
        if (HasAblations(study)) Png(AblationEffects(study, table), Path.Combine(folder, "effects_ablations.png"), width, height);
        Png(ValidationCurves(study, results), Path.Combine(folder, "validation_curves.png"), width, height);
    }

    private static void Png(ScottPlot.Plot plot, string path, int width, int height) =>
        AtomicFile.WriteAllBytes(path, plot.GetImage(width, height).GetImageBytes(ScottPlot.ImageFormat.Png));

    /// <summary>Target coverage (mean of the last checkpoints, study sampler) per variant on one environment.</summary>
    public static ScottPlot.Plot Scores(StudyDefinition study, StudyTable table, string env)
    {
        var plot = new ScottPlot.Plot();
        var names = study.Variants.Select(v => v.Name).ToList();
        var primary = table.Cells.Where(c => c.Environment == env && c.Summary == "last").ToList();
        var bars = new List<ScottPlot.Bar>();
        for (int i = 0; i < names.Count; i++)
        {
            var mine = primary.Where(c => c.Variant == names[i] && c.Primary).ToList();
            if (mine.Count == 0) continue;
            var m = MeanSd.Of(mine.Select(c => c.Score));
            bars.Add(new ScottPlot.Bar { Position = i, Value = m.Mean, Error = m.Sd, FillColor = ScottPlot.Colors.SteelBlue.WithAlpha(0.6) });
            var dots = plot.Add.Scatter(mine.Select(_ => (double)i).ToArray(), mine.Select(c => c.Score).ToArray());
            dots.LineWidth = 0;
            dots.MarkerSize = 6;
            dots.Color = ScottPlot.Colors.Black;
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, names.Count).Select(i => (double)i).ToArray(), names.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Left.Label.Text = "target coverage (mean of the last checkpoints)";
        plot.Axes.SetLimitsY(0, 1);
        plot.Title($"{study.Name}: {env}");
        return plot;
    }

    /// <summary>A forest plot: the paired effect on target coverage (last) against the baseline, per variant and environment.</summary>
    public static ScottPlot.Plot Effects(StudyDefinition study, StudyTable table) =>
        Forest(study, table.Comparisons.Where(c => c.Against == study.Baseline).ToList(), r => r.Variant,
            $"target coverage minus {study.Baseline}'s (95 % bootstrap interval)", $"{study.Name}: paired effects");

    /// <summary>A forest plot: the paired effect on target coverage (last) of each ablation against the variant it changes.</summary>
    public static ScottPlot.Plot AblationEffects(StudyDefinition study, StudyTable table) =>
        Forest(study, table.Comparisons.Where(c => c.Against != study.Baseline).ToList(), r => $"{r.Variant} vs {r.Against}",
            "target coverage minus the reference's (95 % bootstrap interval)", $"{study.Name}: ablations against the variant each changes");

    private static ScottPlot.Plot Forest(StudyDefinition study, IReadOnlyList<StudyComparisonRow> comparisons, Func<StudyComparisonRow, string> name, string xLabel, string title)
    {
        var plot = new ScottPlot.Plot();
        var rows = comparisons.Where(c => c.Summary == "last" && c.Metric.EndsWith(".score", StringComparison.Ordinal)).ToList();
        var labels = new List<string>();
        var colors = new[] { ScottPlot.Colors.SteelBlue, ScottPlot.Colors.OrangeRed };
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            double y = rows.Count - 1 - i;
            var color = colors[study.Evaluation.Environments.ToList().IndexOf(r.Metric.Split('.')[0]) % colors.Length];
            var line = plot.Add.Line(r.Lower, y, r.Upper, y);
            line.LineWidth = 2;
            line.Color = color;
            var point = plot.Add.Scatter(new[] { r.Estimate }, new[] { y });
            point.MarkerSize = 8;
            point.Color = color;
            labels.Add($"{name(r)} ({r.Metric.Split('.')[0]})");
        }
        plot.Add.VerticalLine(0, 1, ScottPlot.Colors.Gray);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray(), labels.ToArray());
        if (rows.Count > 0) plot.Axes.SetLimitsY(-0.7, rows.Count - 0.3);
        plot.Axes.Bottom.Label.Text = xLabel;
        plot.Title(title);
        return plot;
    }

    /// <summary>Validation score against training steps, mean over each variant's trained seeds at the steps all of them have.</summary>
    public static ScottPlot.Plot ValidationCurves(StudyDefinition study, IReadOnlyList<CellResult> results)
    {
        var plot = new ScottPlot.Plot();
        // Variants that share a run (one network sampled two ways) draw one curve.
        foreach (var group in study.Variants.GroupBy(v => string.Join(",", results.Where(r => r.Cell.Id.Variant == v.Name).Select(r => r.Cell.RunDir))))
        {
            var v = group.First();
            var curves = results.Where(r => r.Cell.Id.Variant == v.Name && r.Trained && r.Validation.Count > 0).Select(r => r.Validation).ToList();
            if (curves.Count == 0) continue;
            var steps = curves.Select(c => c.Select(x => x.Step)).Aggregate((a, b) => a.Intersect(b)).Order().ToArray();
            if (steps.Length == 0) continue;
            var mean = steps.Select(s => curves.Average(c => c.First(x => x.Step == s).Score)).ToArray();
            var line = plot.Add.Scatter(steps.Select(s => (double)s).ToArray(), mean);
            line.MarkerSize = 4;
            line.LegendText = string.Join(" = ", group.Select(g => g.Name));
        }
        plot.Add.HorizontalLine(study.Evaluation.ConvergenceThreshold, 1, ScottPlot.Colors.Gray);
        plot.Axes.Bottom.Label.Text = "training step";
        plot.Axes.Left.Label.Text = "validation score (target coverage)";
        plot.Axes.SetLimitsY(0, 1);
        plot.Title($"{study.Name}: validation during training");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        return plot;
    }
}
