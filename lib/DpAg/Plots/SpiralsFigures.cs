using System.Globalization;
using DpAg.IO;
using Microsoft.FSharp.Core;
using DpAg.Spirals;
using Plotly.NET;
using Plotly.NET.CSharp;
using SkiaSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace DpAg.Plots;

/// <summary>
/// Figures of the irregular-spirals experiment: trajectories and latent paths of the Base Flow and the VJP-Guided Flow
/// side by side (one panel per model, equal units on both axes), and the sweep's paired effects, as interactive Plotly
/// charts (notebooks, HTML) and ScottPlot plots (PNG). Roles are told apart by style, trajectories by colour: truth =
/// thin dashed line, observed prefix = filled dots, held out = open crosses, prediction = thick solid line.
/// </summary>
public static class SpiralsFigures
{
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"];
    private const int PanelPixels = 520;

    /// <summary>Output space, one panel per model (see the class remarks for the styles).</summary>
    public static GenericChart TrajectoriesChart(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        double r = OutputExtent(f);
        var panels = f.Models.Select((m, p) =>
        {
            var traces = new List<GenericChart>();
            for (int i = 0; i < m.Outputs.Length; i++)
            {
                var c = Color.fromHex(Palette[i % Palette.Length]);
                bool legend = p == 0 && i == 0;
                traces.Add(CSharpChart.Line<double, double, string>(x: f.Clean[i].Select(v => v[0]), y: f.Clean[i].Select(v => v[1]),
                    Name: "truth", ShowLegend: legend, LineColor: c, LineDash: StyleParam.DrawingStyle.Dash, LineWidth: 1.0));
                traces.Add(CSharpChart.Point<double, double, string>(x: f.Observed[i].Select(v => v[1]), y: f.Observed[i].Select(v => v[2]),
                    Name: "observed prefix", ShowLegend: legend, MarkerColor: c, MarkerSymbol: StyleParam.MarkerSymbol.Circle));
                traces.Add(CSharpChart.Point<double, double, string>(x: f.HeldOut[i].Select(v => v[1]), y: f.HeldOut[i].Select(v => v[2]),
                    Name: "held out", ShowLegend: legend, MarkerColor: c, MarkerSymbol: StyleParam.MarkerSymbol.X));
                traces.Add(CSharpChart.Line<double, double, string>(x: m.Outputs[i].Select(v => v[0]), y: m.Outputs[i].Select(v => v[1]),
                    Name: "prediction", ShowLegend: legend, LineColor: c, LineWidth: 2.5));
            }
            return CSharpChart.Combine(traces);
        }).ToList();
        return SquarePanels(panels, f.Models.Select(m => m.Model).ToList(), (-r, r), (-r, r), $"Test spirals, seed {f.Seed}");
    }

    /// <summary>Latent space, one panel per model: the latent path on the regular grid projected on its first two
    /// principal components (fit per model), one colour per test trajectory; the dot marks z(0).</summary>
    public static GenericChart LatentsChart(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        var panels = f.Models.Select((m, p) =>
        {
            var traces = new List<GenericChart>();
            for (int i = 0; i < m.LatentPca.Length; i++)
            {
                var c = Color.fromHex(Palette[i % Palette.Length]);
                traces.Add(CSharpChart.Line<double, double, string>(x: m.LatentPca[i].Select(v => v[0]), y: m.LatentPca[i].Select(v => v[1]),
                    Name: "latent path", ShowLegend: p == 0 && i == 0, LineColor: c, LineWidth: 2.0));
                traces.Add(CSharpChart.Point<double, double, string>(x: new[] { m.LatentPca[i][0][0] }, y: new[] { m.LatentPca[i][0][1] },
                    Name: "z(0)", ShowLegend: p == 0 && i == 0, MarkerColor: c));
            }
            return CSharpChart.Combine(traces);
        }).ToList();
        var all = f.Models.SelectMany(m => m.LatentPca.SelectMany(x => x)).ToList();
        var (x, y) = SquareRanges(all.Min(v => v[0]), all.Max(v => v[0]), all.Min(v => v[1]), all.Max(v => v[1]));
        return SquarePanels(panels, f.Models.Select(m => $"{m.Model}: PC1 vs PC2").ToList(), x, y, $"Latent paths, seed {f.Seed}");
    }

    /// <summary>The sweep's paired effects: per cell and overall, the guided / base ratio of held-out MSE with its 95 %
    /// interval (log axis), next to no effect (1) and the paper's 0.547.</summary>
    public static GenericChart EffectsChart(SpiralsSweepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var rows = EffectRows(report);
        var traces = new List<GenericChart>();
        for (int i = 0; i < rows.Count; i++)
        {
            var (label, e) = rows[i];
            var (ratio, lo, hi) = e.AsRatio();
            var c = Color.fromHex(i == rows.Count - 1 ? "#000000" : "#1f77b4");
            traces.Add(CSharpChart.Line<double, string, string>(x: new[] { Clamp(lo), Clamp(hi) }, y: new[] { label, label }, Name: label, ShowLegend: false, LineColor: c, LineWidth: 2.0));
            traces.Add(CSharpChart.Point<double, string, string>(x: new[] { ratio }, y: new[] { label }, Name: label, ShowLegend: false, MarkerColor: c,
                Text: $"{label}: {e.RatioText()}"));
        }
        var ends = new[] { rows[0].Label, rows[^1].Label };
        traces.Add(CSharpChart.Line<double, string, string>(x: new[] { 1.0, 1.0 }, y: ends, Name: "no effect (1)", LineColor: Color.fromHex("#7f7f7f"), LineDash: StyleParam.DrawingStyle.Dash));
        traces.Add(CSharpChart.Line<double, string, string>(x: new[] { SpiralsVerdict.PaperRatio, SpiralsVerdict.PaperRatio }, y: ends,
            Name: "paper (0.547)", LineColor: Color.fromHex("#d62728"), LineDash: StyleParam.DrawingStyle.Dot));
        return CSharpChart.Combine(traces)
            .WithXAxisStyle<double, double, string>(TitleText: "held-out MSE ratio, guided / base (95 % interval)", AxisType: StyleParam.AxisType.Log)
            .WithSize(1000, 160 + 36 * rows.Count)
            .WithTitle($"Paired effects: verdict {report.VerdictWord}");
    }

    /// <summary>The trajectories figure as a PNG: one ScottPlot panel per model, equal units, a short title each.</summary>
    public static byte[] TrajectoriesPng(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        double r = OutputExtent(f);
        var plots = f.Models.Select(m =>
        {
            var plot = new ScottPlot.Plot();
            for (int i = 0; i < m.Outputs.Length; i++)
            {
                var c = ScottPlot.Color.FromHex(Palette[i % Palette.Length]);
                bool legend = i == 0;
                var truth = plot.Add.Scatter(f.Clean[i].Select(v => v[0]).ToArray(), f.Clean[i].Select(v => v[1]).ToArray(), c);
                truth.MarkerSize = 0; truth.LineWidth = 1; truth.LinePattern = ScottPlot.LinePattern.Dashed;
                var obs = plot.Add.ScatterPoints(f.Observed[i].Select(v => v[1]).ToArray(), f.Observed[i].Select(v => v[2]).ToArray(), c);
                obs.MarkerSize = 6; obs.MarkerShape = ScottPlot.MarkerShape.FilledCircle;
                var held = plot.Add.ScatterPoints(f.HeldOut[i].Select(v => v[1]).ToArray(), f.HeldOut[i].Select(v => v[2]).ToArray(), c);
                held.MarkerSize = 8; held.MarkerShape = ScottPlot.MarkerShape.Eks;
                var pred = plot.Add.Scatter(m.Outputs[i].Select(v => v[0]).ToArray(), m.Outputs[i].Select(v => v[1]).ToArray(), c);
                pred.MarkerSize = 0; pred.LineWidth = 2.5f;
                if (legend)
                {
                    truth.LegendText = "truth"; obs.LegendText = "observed prefix"; held.LegendText = "held out"; pred.LegendText = "prediction";
                }
            }
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
            plot.Title($"{m.Model} (seed {f.Seed})");
            plot.Axes.SetLimits(-r, r, -r, r);
            plot.Axes.SquareUnits();
            return plot;
        }).ToList();
        return SideBySide(plots);
    }

    /// <summary>The latent figure as a PNG: PC1 vs PC2 per model, equal units, a short title each; the dot marks z(0).</summary>
    public static byte[] LatentsPng(SpiralsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f = report.Figures;
        var plots = f.Models.Select(m =>
        {
            var plot = new ScottPlot.Plot();
            for (int i = 0; i < m.LatentPca.Length; i++)
            {
                var c = ScottPlot.Color.FromHex(Palette[i % Palette.Length]);
                var path = plot.Add.Scatter(m.LatentPca[i].Select(v => v[0]).ToArray(), m.LatentPca[i].Select(v => v[1]).ToArray(), c);
                path.MarkerSize = 0; path.LineWidth = 2;
                var start = plot.Add.ScatterPoints(new[] { m.LatentPca[i][0][0] }, new[] { m.LatentPca[i][0][1] }, c);
                start.MarkerSize = 9;
            }
            plot.Title($"{m.Model}: latent PC1 vs PC2");
            plot.Axes.SquareUnits();
            return plot;
        }).ToList();
        return SideBySide(plots);
    }

    /// <summary>The effects figure as a PNG (see <see cref="EffectsChart"/>).</summary>
    public static byte[] EffectsPng(SpiralsSweepReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var rows = EffectRows(report);
        var plot = new ScottPlot.Plot();
        var ticks = new List<ScottPlot.Tick>();
        for (int i = 0; i < rows.Count; i++)
        {
            var (label, e) = rows[i];
            var (ratio, lo, hi) = e.AsRatio();
            var c = i == rows.Count - 1 ? ScottPlot.Colors.Black : ScottPlot.Color.FromHex("#1f77b4");
            var bar = plot.Add.Line(Math.Log10(Clamp(lo)), -i, Math.Log10(Clamp(hi)), -i);
            bar.Color = c; bar.LineWidth = 2;
            var dot = plot.Add.ScatterPoints(new[] { Math.Log10(ratio) }, new double[] { -i }, c);
            dot.MarkerSize = 9;
            ticks.Add(new ScottPlot.Tick(-i, label));
        }
        var none = plot.Add.VerticalLine(0, 1, ScottPlot.Colors.Gray, ScottPlot.LinePattern.Dashed);
        none.LegendText = "no effect (ratio 1)";
        var paper = plot.Add.VerticalLine(Math.Log10(SpiralsVerdict.PaperRatio), 1, ScottPlot.Color.FromHex("#d62728"), ScottPlot.LinePattern.Dotted);
        paper.LegendText = "paper (0.547)";
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        var xTicks = new[] { 0.25, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0 }.Select(v => new ScottPlot.Tick(Math.Log10(v), v.ToString("G3", CultureInfo.InvariantCulture))).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xTicks);
        plot.XLabel("held-out MSE ratio, guided / base (log scale, 95 % interval)");
        plot.Title($"Paired effects: verdict {report.VerdictWord}");
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.Axes.SetLimitsY(-(rows.Count - 1) - 0.6, 0.6);
        return plot.GetImageBytes(1200, 160 + 40 * rows.Count, ScottPlot.ImageFormat.Png);
    }

    /// <summary>Writes trajectories, latents (the figure cell's first seed) and effects as .html (Plotly, plotly.js from
    /// a CDN) and .png (ScottPlot) into <paramref name="directory"/>, atomically.</summary>
    public static void WriteAll(SpiralsSweepReport report, string directory)
    {
        ArgumentNullException.ThrowIfNull(report);
        WriteAll(report.Figures, directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "effects.html"), GenericChart.toEmbeddedHTML(EffectsChart(report)));
        AtomicFile.WriteAllBytes(Path.Combine(directory, "effects.png"), EffectsPng(report));
    }

    /// <summary>Writes trajectories.html, latents.html (Plotly, plotly.js from a CDN), trajectories.png and latents.png
    /// (ScottPlot) into <paramref name="directory"/>, atomically.</summary>
    public static void WriteAll(SpiralsReport report, string directory)
    {
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "trajectories.html"), GenericChart.toEmbeddedHTML(TrajectoriesChart(report)));
        AtomicFile.WriteAllText(Path.Combine(directory, "latents.html"), GenericChart.toEmbeddedHTML(LatentsChart(report)));
        AtomicFile.WriteAllBytes(Path.Combine(directory, "trajectories.png"), TrajectoriesPng(report));
        AtomicFile.WriteAllBytes(Path.Combine(directory, "latents.png"), LatentsPng(report));
    }

    private static List<(string Label, PairedEffect Effect)> EffectRows(SpiralsSweepReport report) =>
        report.Cells.Select(c => (c.Cell.Label, c.Mse)).Append(("all cells", report.Mse)).ToList();

    /// <summary>Keeps an infinite interval end (one seed) drawable.</summary>
    private static double Clamp(double ratio) => Math.Clamp(ratio, 0.05, 20);

    private static double OutputExtent(SpiralsFigureData f)
    {
        double r = f.Clean.SelectMany(p => p).Concat(f.Models.SelectMany(m => m.Outputs.SelectMany(p => p)))
            .Concat(f.Observed.SelectMany(p => p).Concat(f.HeldOut.SelectMany(p => p)).Select(v => new[] { v[1], v[2] }))
            .Max(v => Math.Max(Math.Abs(v[0]), Math.Abs(v[1])));
        return Math.Min(3.0, r * 1.08);
    }

    private static ((double, double) X, (double, double) Y) SquareRanges(double x0, double x1, double y0, double y1)
    {
        double half = Math.Max(x1 - x0, y1 - y0) * 0.55 + 1e-9;
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
        return ((cx - half, cx + half), (cy - half, cy + half));
    }

    /// <summary>Panels in one row; each panel square in pixels with equal x and y spans, so units are equal.</summary>
    private static GenericChart SquarePanels(IReadOnlyList<GenericChart> panels, IReadOnlyList<string> titles, (double, double) x, (double, double) y, string title)
    {
        var styled = panels.Select((p, i) => p
            .WithXAxisStyle<double, double, string>(TitleText: titles[i], MinMax: Tuple.Create(x.Item1, x.Item2))
            .WithYAxisStyle<double, double, string>(MinMax: Tuple.Create(y.Item1, y.Item2))).ToList();
        var grid = CSharpChart.Grid(styled, 1, styled.Count);
        for (int i = 0; i < styled.Count; i++)
        {
            // Equal units: each panel's y axis is anchored to its x axis with ratio 1 (Plotly's scaleanchor).
            var axis = new Plotly.NET.LayoutObjects.LinearAxis();
            axis.SetProperty("scaleanchor", i == 0 ? "x" : $"x{i + 1}");
            axis.SetProperty("scaleratio", 1.0);
            grid = Plotly.NET.Chart.withYAxis(axis, FSharpOption<StyleParam.SubPlotId>.Some(StyleParam.SubPlotId.NewYAxis(i + 1))).Invoke(grid);
        }
        return grid.WithSize(PanelPixels * styled.Count + 160, PanelPixels + 140).WithTitle(title);
    }

    /// <summary>Renders plots side by side (PanelPixels square each) into one PNG.</summary>
    private static byte[] SideBySide(IReadOnlyList<ScottPlot.Plot> plots)
    {
        int w = PanelPixels + 80, h = PanelPixels + 60;
        using var surface = SKSurface.Create(new SKImageInfo(w * plots.Count, h));
        surface.Canvas.Clear(SKColors.White);
        for (int i = 0; i < plots.Count; i++)
        {
            // Each plot renders into its own image (a plot clears the whole canvas it is given), then is placed.
            using var panel = SKBitmap.Decode(plots[i].GetImageBytes(w, h, ScottPlot.ImageFormat.Png));
            surface.Canvas.DrawBitmap(panel, i * w, 0);
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
