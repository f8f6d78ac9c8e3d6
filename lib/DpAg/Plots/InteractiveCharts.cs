using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace DpAg.Plots;

/// <summary>One frame of an animated scatter: a label for the slider and the points.</summary>
public sealed record ScatterFrame(string Label, double[] X, double[] Y);

/// <summary>Interactive Plotly.NET charts that notebooks need more than once (zoom, hover, sliders).</summary>
public static class InteractiveCharts
{
    /// <summary>
    /// A scatter whose frames are switched by a slider (one trace per frame, only the chosen one visible): e.g. the
    /// samples of a reverse diffusion process at each denoising step.
    /// </summary>
    public static GenericChart ScatterSlider(IReadOnlyList<ScatterFrame> frames, string title, string sliderPrefix = "step ",
        (double Min, double Max)? xRange = null, (double Min, double Max)? yRange = null)
    {
        if (frames.Count == 0) throw new ArgumentException("ScatterSlider needs at least one frame.");
        var traces = frames.Select((f, i) => CSharpChart.Point<double, double, string>(x: f.X, y: f.Y, Name: f.Label)
            .WithTraceInfo(Visible: i == 0 ? StyleParam.Visible.True : StyleParam.Visible.False, ShowLegend: false)).ToList();
        var steps = frames.Select((f, i) =>
        {
            var visible = Enumerable.Range(0, frames.Count).Select(j => j == i).ToArray();
            return SliderStep.init(
                Args: Some<IEnumerable<Tuple<string, object>>>([Tuple.Create("visible", (object)visible)]),
                Execute: null, Label: Some(f.Label), Method: Some(StyleParam.Method.Update), Name: null,
                TemplateItemName: null, Value: null, Visible: null);
        }).ToList();
        var slider = Slider.init(
            Active: Some(0), ActiveBgColor: null, BgColor: null, BorderColor: null, BorderWidth: null,
            CurrentValue: Some(SliderCurrentValue.init(Prefix: Some(sliderPrefix), Font: null, Offset: null, Suffix: null, Visible: null, XAnchor: null)),
            Font: null, Len: null, LenMode: null, MinorTickLen: null, Name: null, Padding: null,
            Steps: Some<IEnumerable<SliderStep>>(steps), TemplateItemName: null, TickColor: null, TickLen: null, TickWidth: null,
            Transition: null, Visible: null, X: null, XAnchor: null, Y: null, YAnchor: null);
        var chart = CSharpChart.Combine(traces);
        chart = Plotly.NET.Chart.withSlider(slider, null).Invoke(chart);
        chart = Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
        if (xRange is { } xr) chart = chart.WithXAxisStyle<double, double, string>(MinMax: Tuple.Create(xr.Min, xr.Max));
        if (yRange is { } yr) chart = chart.WithYAxisStyle<double, double, string>(MinMax: Tuple.Create(yr.Min, yr.Max));
        return chart;
    }

    private static FSharpOption<T> Some<T>(T value) => FSharpOption<T>.Some(value);
}
