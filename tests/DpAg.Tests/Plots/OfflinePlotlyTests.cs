using DpAg.Plots;
using Plotly.NET.CSharp;

namespace DpAg.Tests.Plots;

public class OfflinePlotlyTests
{
    [Fact]
    public void TheBundleIsPlotlyJsFromPlotlyNetWithAmdHiddenAndTheQueueDrained()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", OfflinePlotly.Version);
        string bundle = OfflinePlotly.BundleScript;
        Assert.True(bundle.Length > 1_000_000, $"plotly.js is {bundle.Length} characters; the full library is over 3 MB");
        Assert.Contains($"plotly.js v{OfflinePlotly.Version}", bundle);
        Assert.StartsWith("(function (define, module, exports) {", bundle);
        Assert.Contains("window.dpagPlotlyPending", bundle);
        Assert.DoesNotContain("</script", bundle, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("MIT", OfflinePlotly.LicenseText);
        string html = OfflinePlotly.ScriptHtml();
        Assert.StartsWith($"<script type=\"text/javascript\" {OfflinePlotly.BundleAttribute}=\"{OfflinePlotly.Version}\">", html);
        Assert.EndsWith("</script>", html);
    }

    [Fact]
    public void AChartDrawsWithTheLoadedPlotlyAndNeverReferencesACdn()
    {
        var chart = Chart.Point<double, double, string>(x: new[] { 1.0, 2.0 }, y: new[] { 3.0, 5.0 }, Name: "points");
        string html = OfflinePlotly.ChartHtml(chart);
        Assert.Contains($"{OfflinePlotly.ChartAttribute}=\"plotly\"", html);
        Assert.Contains("Plotly chart will be drawn inside this DIV", html);
        Assert.Contains("\"x\":[1.0,2.0]", html);
        Assert.Matches(@"\}\)\(renderPlotly_[0-9a-f]+, '[0-9a-f-]{36}'\);", html);   // the deferred call replaced the direct one
        Assert.DoesNotMatch(@"\nrenderPlotly_[0-9a-f]+\(\);", html);
        Assert.DoesNotContain("cdn.plot.ly", html);
        Assert.DoesNotContain("require", html);
        Assert.DoesNotContain("http", html.Replace("http://www.w3.org", "", StringComparison.Ordinal));
    }
}
