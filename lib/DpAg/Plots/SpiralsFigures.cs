using DpAg.IO;
using DpAg.Spirals;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace DpAg.Plots;

/// <summary>
/// Figures of the irregular-spirals experiment: trajectories and latent paths of the Base Flow and the VJP-Guided Flow
/// side by side, as interactive Plotly charts (notebooks, HTML) and ScottPlot plots (PNG).
/// </summary>
public static class SpiralsFigures
{
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

    /// <summary>Output space: per model panel, the clean spiral (dashed), observed prefix (dots), held-out points (crosses)
    /// and the model's prediction on the regular grid (line), one colour per test trajectory.</summary>
    public static GenericChart TrajectoriesChart(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        var panels = f.Models.Select((m, p) =>
        {
            var traces = new List<GenericChart>();
            for (int i = 0; i < m.Outputs.Length; i++)
            {
                string c = Palette[i % Palette.Length];
                bool legend = p == 0;
                traces.Add(CSharpChart.Line<double, double, string>(x: f.Clean[i].Select(v => v[0]), y: f.Clean[i].Select(v => v[1]),
                    Name: $"truth {i}", ShowLegend: legend, LineColor: Color.fromHex(c), LineDash: StyleParam.DrawingStyle.Dash, LineWidth: 1.0));
                traces.Add(CSharpChart.Point<double, double, string>(x: f.Observed[i].Select(v => v[1]), y: f.Observed[i].Select(v => v[2]),
                    Name: $"observed {i}", ShowLegend: legend, MarkerColor: Color.fromHex(c)));
                traces.Add(CSharpChart.Point<double, double, string>(x: f.HeldOut[i].Select(v => v[1]), y: f.HeldOut[i].Select(v => v[2]),
                    Name: $"held out {i}", ShowLegend: legend, MarkerColor: Color.fromHex(c), MarkerSymbol: StyleParam.MarkerSymbol.X));
                traces.Add(CSharpChart.Line<double, double, string>(x: m.Outputs[i].Select(v => v[0]), y: m.Outputs[i].Select(v => v[1]),
                    Name: $"{m.Model} {i}", ShowLegend: true, LineColor: Color.fromHex(c), LineWidth: 2.5));
            }
            return CSharpChart.Combine(traces);
        }).ToList();
        return Grid(panels, $"Irregular spirals, test trajectories (seed {f.Seed}): {string.Join(" | ", f.Models.Select(m => m.Model))}");
    }

    /// <summary>Latent space: per model panel, the latent path on the regular grid projected on its first two principal
    /// components (fit per model), one colour per test trajectory; the marker shows z(0).</summary>
    public static GenericChart LatentsChart(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        var panels = f.Models.Select(m =>
        {
            var traces = new List<GenericChart>();
            for (int i = 0; i < m.LatentPca.Length; i++)
            {
                string c = Palette[i % Palette.Length];
                traces.Add(CSharpChart.Line<double, double, string>(x: m.LatentPca[i].Select(v => v[0]), y: m.LatentPca[i].Select(v => v[1]),
                    Name: $"{m.Model} latent {i}", ShowLegend: true, LineColor: Color.fromHex(c), LineWidth: 2.0));
                traces.Add(CSharpChart.Point<double, double, string>(x: new[] { m.LatentPca[i][0][0] }, y: new[] { m.LatentPca[i][0][1] },
                    Name: $"start {i}", ShowLegend: false, MarkerColor: Color.fromHex(c)));
            }
            return CSharpChart.Combine(traces);
        }).ToList();
        return Grid(panels, $"Latent paths, PC1 vs PC2 (seed {f.Seed}): {string.Join(" | ", f.Models.Select(m => m.Model))}");
    }

    /// <summary>The trajectories figure as one ScottPlot plot: the models' panels side by side (shifted along x).</summary>
    public static ScottPlot.Plot TrajectoriesPlot(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        var plot = new ScottPlot.Plot();
        double shift = 0;
        foreach (var m in f.Models)
        {
            double s = shift;
            for (int i = 0; i < m.Outputs.Length; i++)
            {
                var c = ScottPlot.Color.FromHex(Palette[i % Palette.Length]);
                var truth = plot.Add.Scatter(f.Clean[i].Select(v => v[0] + s).ToArray(), f.Clean[i].Select(v => v[1]).ToArray(), c);
                truth.MarkerSize = 0; truth.LineWidth = 1; truth.LinePattern = ScottPlot.LinePattern.Dashed;
                var obs = plot.Add.ScatterPoints(f.Observed[i].Select(v => v[1] + s).ToArray(), f.Observed[i].Select(v => v[2]).ToArray(), c);
                obs.MarkerSize = 5;
                var held = plot.Add.ScatterPoints(f.HeldOut[i].Select(v => v[1] + s).ToArray(), f.HeldOut[i].Select(v => v[2]).ToArray(), c);
                held.MarkerSize = 6; held.MarkerShape = ScottPlot.MarkerShape.Cross;
                var pred = plot.Add.Scatter(m.Outputs[i].Select(v => v[0] + s).ToArray(), m.Outputs[i].Select(v => v[1]).ToArray(), c);
                pred.MarkerSize = 0; pred.LineWidth = 2.5f;
            }
            var label = plot.Add.Text(m.Model, s - 0.6, 1.25);
            label.LabelFontSize = 16;
            shift += 2.6;
        }
        plot.Title($"Irregular spirals (seed {f.Seed}): dashed truth, dots observed prefix, crosses held out, lines predictions");
        plot.Axes.SquareUnits();
        return plot;
    }

    /// <summary>The latent figure as one ScottPlot plot: PC1 vs PC2 of each model's latent paths, panels side by side.</summary>
    public static ScottPlot.Plot LatentsPlot(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        var plot = new ScottPlot.Plot();
        double shift = 0;
        foreach (var m in f.Models)
        {
            var all = m.LatentPca.SelectMany(p => p).ToArray();
            double minX = all.Min(v => v[0]), maxX = all.Max(v => v[0]), maxY = all.Max(v => v[1]);
            double s = shift - minX;
            for (int i = 0; i < m.LatentPca.Length; i++)
            {
                var c = ScottPlot.Color.FromHex(Palette[i % Palette.Length]);
                var path = plot.Add.Scatter(m.LatentPca[i].Select(v => v[0] + s).ToArray(), m.LatentPca[i].Select(v => v[1]).ToArray(), c);
                path.MarkerSize = 0; path.LineWidth = 2;
                var start = plot.Add.ScatterPoints(new[] { m.LatentPca[i][0][0] + s }, new[] { m.LatentPca[i][0][1] }, c);
                start.MarkerSize = 8;
            }
            var label = plot.Add.Text(m.Model, shift, maxY * 1.15 + 0.05);
            label.LabelFontSize = 16;
            shift += (maxX - minX) * 1.25 + 1e-6;
        }
        plot.Title($"Latent paths, PC1 vs PC2 per model (seed {f.Seed}); dot = z(0)");
        return plot;
    }

    /// <summary>Writes trajectories.html, latents.html (Plotly, plotly.js from a CDN), trajectories.png and latents.png
    /// (ScottPlot) into <paramref name="directory"/>, atomically.</summary>
    public static void WriteAll(SpiralsReport report, string directory)
    {
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "trajectories.html"), GenericChart.toEmbeddedHTML(TrajectoriesChart(report)));
        AtomicFile.WriteAllText(Path.Combine(directory, "latents.html"), GenericChart.toEmbeddedHTML(LatentsChart(report)));
        AtomicFile.WriteAllBytes(Path.Combine(directory, "trajectories.png"), TrajectoriesPlot(report).GetImageBytes(1400, 700, ScottPlot.ImageFormat.Png));
        AtomicFile.WriteAllBytes(Path.Combine(directory, "latents.png"), LatentsPlot(report).GetImageBytes(1400, 700, ScottPlot.ImageFormat.Png));
    }

    private static GenericChart Grid(IReadOnlyList<GenericChart> panels, string title)
    {
        var grid = CSharpChart.Grid(panels, 1, panels.Count);
        return grid.WithTitle(title);
    }
}
