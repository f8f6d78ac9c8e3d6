using DpAg.Evaluation;
using DpAg.Plots;
using DpAg.Training;
using Microsoft.DotNet.Interactive;

namespace DpAg.Notebook;

/// <summary>Trains in chunks and redraws the loss curves in the cell's output after each chunk (a live curve).</summary>
public static class LiveTraining
{
    /// <summary>
    /// Runs <paramref name="trainer"/> to the end in <paramref name="updates"/> chunks, updating one displayed figure of
    /// the moving-average loss terms; returns the final result. The same trainer can be resumed later.
    /// </summary>
    public static TrainResult Run(Trainer trainer, string title, int updates = 10)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (updates < 1) throw new ArgumentException($"updates must be positive; got {updates}.");
        var shown = Kernel.display(Figure(trainer, title));
        TrainResult? result = null;
        long chunk = Math.Max(1, trainer.TotalSteps / updates);
        while (trainer.CompletedSteps < trainer.TotalSteps)
        {
            result = trainer.Run(stopAfterSteps: Math.Min(trainer.TotalSteps, trainer.CompletedSteps + chunk));
            shown.Update(Figure(trainer, title));
        }
        return result ?? trainer.Run();
    }

    private static ScottPlot.Plot Figure(Trainer trainer, string title)
    {
        var plot = new ScottPlot.Plot();
        if (File.Exists(trainer.MetricsCsvPath))
        {
            var run = new RunSummary(Path.GetDirectoryName(trainer.MetricsCsvPath)!, trainer.Policy.Name, MetricsLog.ReadCsv(trainer.MetricsCsvPath), null);
            foreach (var column in new[] { "denoise", "contrastive", "kl" })
            {
                var (steps, values) = run.Curve(column);
                if (steps.Length == 0) continue;
                var line = plot.Add.Scatter(steps, values);
                line.MarkerSize = 0;
                line.LegendText = column;
            }
            plot.ShowLegend();
        }
        plot.Axes.Bottom.Label.Text = "training step";
        plot.Axes.Left.Label.Text = "loss term (moving average)";
        plot.Title($"{title}: step {trainer.CompletedSteps}/{trainer.TotalSteps}");
        return plot;
    }
}
