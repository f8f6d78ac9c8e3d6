using Plotly.NET;

namespace DpAg.Plots;

/// <summary>Small conveniences that Plotly.NET's C# API lacks, so notebook cells stay one-liners.</summary>
public static class ChartExtensions
{
    /// <summary>Sets the chart's title.</summary>
    public static GenericChart WithTitle(this GenericChart chart, string title) => Chart.withTitle(title, null).Invoke(chart);
}
