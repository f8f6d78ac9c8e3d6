using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace DpAg.Studies;

/// <summary>Interactive (Plotly) views of a study's table for notebooks; the report draws the same as PNG (<see cref="StudyFigures"/>).</summary>
public static class StudyCharts
{
    /// <summary>
    /// A forest plot: each variant's paired effect against <paramref name="against"/> on the metrics ending with
    /// <paramref name="metricSuffix"/> (protocol summary <paramref name="summary"/>), with its 95 % bootstrap interval.
    /// </summary>
    public static GenericChart Effects(StudyTable table, string against, string metricSuffix = ".score", string summary = "last")
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.Comparisons.Where(c => c.Against == against && c.Summary == summary && c.Metric.EndsWith(metricSuffix, StringComparison.Ordinal)).ToList();
        if (rows.Count == 0) throw new ArgumentException($"No comparisons against {against} on *{metricSuffix} ({summary}) yet.");
        return Forest(rows, r => $"{r.Variant} ({r.Metric})", $"Paired effect against {against} ({summary}, 95 % bootstrap interval)");
    }

    /// <summary>
    /// A forest plot of every ablation: each variant's paired effect on target coverage (<paramref name="summary"/>)
    /// against the variant it changes (<c>ablation_of</c>), with its 95 % bootstrap interval.
    /// </summary>
    public static GenericChart Ablations(StudyTable table, string baseline, string summary = "last")
    {
        ArgumentNullException.ThrowIfNull(table);
        var rows = table.Comparisons.Where(c => c.Against != baseline && c.Summary == summary && c.Metric.EndsWith(".score", StringComparison.Ordinal)).ToList();
        if (rows.Count == 0) throw new ArgumentException($"No ablation has a finished training seed paired with the variant it changes yet ({summary}).");
        return Forest(rows, r => $"{r.Variant} vs {r.Against} ({r.Metric})", $"Ablations: paired effect against the variant each changes ({summary}, 95 % bootstrap interval)");
    }

    private static GenericChart Forest(IReadOnlyList<StudyComparisonRow> rows, Func<StudyComparisonRow, string> label, string title)
    {
        var labels = rows.Select(label).ToArray();
        var traces = rows.Select((r, i) => CSharpChart.Line<double, string, string>(x: new[] { r.Lower, r.Upper }, y: new[] { labels[i], labels[i] }, ShowLegend: false)).ToList();
        traces.Add(CSharpChart.Point<double, string, string>(x: rows.Select(r => r.Estimate).ToArray(), y: labels, Name: "paired effect",
            MultiText: rows.Select(r => $"{PairedEffect.Signed(r.Estimate)} [{PairedEffect.Signed(r.Lower)}, {PairedEffect.Signed(r.Upper)}], {r.Seeds} seeds x {r.Episodes} episodes: {r.Reading}").ToArray()));
        return Plotly.NET.Chart.withTitle(title, null).Invoke(CSharpChart.Combine(traces));
    }
}
