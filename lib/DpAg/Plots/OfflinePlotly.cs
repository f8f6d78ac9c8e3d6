using System.Text.RegularExpressions;
using Microsoft.FSharp.Core;
using Plotly.NET;

namespace DpAg.Plots;

/// <summary>
/// Plotly charts that draw without the internet. Plotly.NET ships plotly.js inside its own assembly (the copy its
/// "Full" HTML mode inlines); the kit loads that copy once per notebook (<see cref="ScriptHtml"/>, emitted by
/// <c>Kit.Setup()</c>) and writes each chart as a div plus a script that draws as soon as plotly.js is there
/// (<see cref="ChartHtml"/>), instead of Plotly.NET.Interactive's loader, which fetches require.js and plotly.js
/// from CDNs and leaves a blank chart offline or behind a firewall.
/// </summary>
public static partial class OfflinePlotly
{
    /// <summary>The plotly.js version bundled in Plotly.NET (part of the resource name and of the site's asset name).</summary>
    public static string Version { get; } = FindVersion();

    /// <summary>Marks the one script element that carries the bundle, so the results site can move it into a shared file.</summary>
    public const string BundleAttribute = "data-dpag-plotly";

    /// <summary>Marks each chart's container, so tests and the browser check can find them.</summary>
    public const string ChartAttribute = "data-dpag-chart";

    private static readonly Lazy<string> BundleText = new(LoadBundle);

    /// <summary>plotly.js's licence notices (MIT, and those of the libraries it bundles), shipped beside the site's copy.</summary>
    public static string LicenseText => ReadResource(ResourceName() + ".LICENSE.txt");

    /// <summary>
    /// The bundle as one self-contained script body: plotly.js, run with <c>define</c>, <c>module</c> and
    /// <c>exports</c> hidden so it always sets <c>window.Plotly</c> (Jupyter pages load require.js, and an anonymous
    /// AMD define there would leave Plotly unreachable), then draws the charts that were waiting for it.
    /// </summary>
    public static string BundleScript => BundleText.Value;

    /// <summary>The script element a notebook shows once (in <c>Kit.Setup()</c>'s output) before its first chart.</summary>
    public static string ScriptHtml() =>
        $"<script type=\"text/javascript\" {BundleAttribute}=\"{Version}\">{BundleScript}</script>";

    /// <summary>
    /// A chart as HTML: Plotly.NET's own div and drawing function (no plotly.js reference), called now when plotly.js
    /// is loaded, otherwise queued for the bundle script; until then the div says what it waits for.
    /// </summary>
    public static string ChartHtml(GenericChart chart)
    {
        var options = DisplayOptions.init(null, null, null, null, null, null, FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.NoReference));
        string html = GenericChart.toChartHTML(GenericChart.setDisplayOptions(options, chart));
        var call = RenderCall().Match(html);
        var div = DivOpen().Match(html);
        if (!call.Success || !div.Success)
            throw new InvalidOperationException("Plotly.NET's chart HTML no longer has the div and renderPlotly_ call this kit wraps " +
                                                "(Plotly.NET was upgraded?); update DpAg.Plots.OfflinePlotly.ChartHtml.");
        string id = div.Groups["id"].Value, render = call.Groups["fn"].Value;
        string deferred =
            $"(function(draw, id) {{ function run() {{ var el = document.getElementById(id); if (el) {{ var w = el.querySelector('.dpag-plotly-wait'); if (w) w.remove(); }} draw(); }} " +
            $"if (window.Plotly) {{ run(); }} else {{ (window.dpagPlotlyPending = window.dpagPlotlyPending || []).push(run); }} }})({render}, '{id}');";
        html = html[..call.Index] + deferred + html[(call.Index + call.Length)..];
        const string marker = "<!-- Plotly chart will be drawn inside this DIV -->";
        html = html.Replace(marker, marker +
            "<span class=\"dpag-plotly-wait\" style=\"color:#888\">This chart draws once plotly.js is loaded: run the cell with DpAg.Notebook.Kit.Setup().</span>",
            StringComparison.Ordinal);
        return html.Replace($"<div id=\"{id}\">", $"<div id=\"{id}\" {ChartAttribute}=\"plotly\">", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?<![\w.])(?<fn>renderPlotly_[0-9a-f]+)\(\);")]
    private static partial Regex RenderCall();

    [GeneratedRegex("<div id=\"(?<id>[0-9a-f-]{36})\">")]
    private static partial Regex DivOpen();

    private static string ResourceName() =>
        typeof(GenericChart).Assembly.GetManifestResourceNames()
            .SingleOrDefault(n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
        ?? throw new InvalidOperationException("Plotly.NET.dll carries no plotly-*.min.js resource (Plotly.NET was upgraded?); " +
                                               "DpAg.Plots.OfflinePlotly needs a bundled plotly.js to draw charts offline.");

    private static string ReadResource(string name)
    {
        using var stream = typeof(GenericChart).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"Plotly.NET.dll carries no resource {name}.");
        return new StreamReader(stream).ReadToEnd();
    }

    private static string FindVersion()
    {
        string name = ResourceName();
        return name["Plotly.NET.plotly-".Length..^".min.js".Length];
    }

    private static string LoadBundle()
    {
        string plotly = ReadResource(ResourceName());
        // Inline in HTML, "</script" would end the element early; plotly.min.js has none today, but say so if that changes.
        if (plotly.Contains("</script", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("The bundled plotly.js contains \"</script\" and cannot be inlined; DpAg.Plots.OfflinePlotly needs an escape for it.");
        return "(function (define, module, exports) {\n" + plotly +
               "\n}).call(window);\n" +
               "(function () { var pending = window.dpagPlotlyPending || []; window.dpagPlotlyPending = []; pending.forEach(function (run) { run(); }); })();";
    }
}
