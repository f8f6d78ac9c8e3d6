using System.Text.Json.Nodes;
using DpAg.Plots;
using DpAg.Site;

namespace DpAg.Tests.Site;

public class ResultsSiteTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"dpag-site-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static JsonObject Output(string html) =>
        new() { ["output_type"] = "display_data", ["metadata"] = new JsonObject(), ["data"] = new JsonObject { ["text/html"] = html } };

    private static JsonObject Stream(string text) => new() { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = text };

    private static JsonObject Code(string source, string start, string end, params JsonObject[] outputs) => new()
    {
        ["cell_type"] = "code", ["source"] = source, ["execution_count"] = 1, ["outputs"] = new JsonArray(outputs),
        ["metadata"] = new JsonObject { ["execution"] = new JsonObject { ["iopub.execute_input"] = start, ["shell.execute_reply"] = end } },
    };

    /// <summary>An executed notebook as nbconvert writes one: the kernel's connection script, Kit.Setup()'s plotly.js, a chart.</summary>
    private string WriteNotebook()
    {
        string folder = Path.Combine(_dir, "notebooks");
        Directory.CreateDirectory(folder);
        var chart = OfflinePlotly.ChartHtml(Plotly.NET.CSharp.Chart.Point<double, double, string>(x: new[] { 1.0 }, y: new[] { 2.0 }));
        var doc = new JsonObject
        {
            ["cells"] = new JsonArray(
                new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = "# 42 · A test notebook\n\nShows **one** chart of $x$ and [a link](x.md).\n\nMore." },
                Code("#r \"x.dll\"", "2026-11-30T10:00:00.000000Z", "2026-11-30T10:00:01.000000Z",
                    Output("<div id='dotnet-interactive-this-cell-1'></div><script>async function probeAddresses(a) {} fetch('http://127.0.0.1:2048/discovery')</script>")),
                Code("Kit.Setup()", "2026-11-30T10:00:01.000000Z", "2026-11-30T10:00:02.000000Z",
                    Output(OfflinePlotly.ScriptHtml()), Stream("Budget: ci (tiny, for the test suite)\n")),
                Code("chart", "2026-11-30T10:00:02.000000Z", "2026-11-30T10:01:05.500000Z", Output(chart))),
            ["metadata"] = new JsonObject(),
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        File.WriteAllText(Path.Combine(folder, "42-test.ipynb"), doc.ToJsonString());
        return folder;
    }

    [Fact]
    public void TheSiteOpensOfflineWithAnIndexThatDescribesEachNotebook()
    {
        string notebooks = WriteNotebook();
        string report = Path.Combine(_dir, "report");
        Directory.CreateDirectory(report);
        File.WriteAllText(Path.Combine(report, "report.md"), "# DP vs DP-AG\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n![loss](loss.png)\n");
        File.WriteAllBytes(Path.Combine(report, "loss.png"), [0x89, 0x50, 0x4E, 0x47]);
        string site = Path.Combine(_dir, "site");

        var result = ResultsSite.Build(new SiteOptions(notebooks, [report], site));

        var page = Assert.Single(result.Notebooks);
        Assert.Equal("42 · A test notebook", page.Title);
        Assert.Equal("Shows one chart of x and a link.", page.Summary);
        Assert.Equal("ci", page.Budget);
        Assert.Equal(new DateTime(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc), page.Started);
        Assert.Equal(65.5, page.Duration!.Value.TotalSeconds, 3);
        Assert.Equal(1, page.Charts);
        string index = File.ReadAllText(result.Index);
        Assert.Contains("href=\"notebooks/42-test.html\"", index);
        Assert.Contains("Shows one chart of x and a link.", index);
        Assert.Contains("<td>ci</td>", index);
        Assert.Contains("2026-11-30 10:00", index);
        Assert.Contains("href=\"reports/report/index.html\"", index);

        string html = File.ReadAllText(Path.Combine(site, "notebooks", "42-test.html"));
        // plotly.js moved to one shared file beside the pages; the chart and its deferred call stay.
        Assert.Contains($"src=\"../assets/{ResultsSite.PlotlyAsset}\"", html);
        Assert.True(html.Length < 1_000_000, $"the page is {html.Length} characters: the 3.6 MB bundle should live in assets/");
        Assert.Equal(OfflinePlotly.BundleScript, File.ReadAllText(Path.Combine(site, "assets", ResultsSite.PlotlyAsset)));
        Assert.Contains("Plotly chart will be drawn inside this DIV", html);
        // The live kernel's connection script is gone, and nothing loads from the network.
        Assert.DoesNotContain("probeAddresses", html);
        Assert.DoesNotMatch("<script[^>]+src=\"https?:", html);
        Assert.DoesNotMatch("<link[^>]+href=\"https?:", html);
        Assert.DoesNotContain("src=\"\"", html);

        string reportPage = File.ReadAllText(Path.Combine(site, "reports", "report", "index.html"));
        Assert.Contains("<table", reportPage);
        Assert.Contains("src=\"loss.png\"", reportPage);
        Assert.True(File.Exists(Path.Combine(site, "reports", "report", "loss.png")));
    }

    [Fact]
    public void WithoutMathJaxThePagesCarryNoMathJaxReference()
    {
        string notebooks = WriteNotebook();
        var result = ResultsSite.Build(new SiteOptions(notebooks, [], Path.Combine(_dir, "site"), MathJax: Path.Combine(_dir, "none"), RequireJs: null));
        string html = File.ReadAllText(Path.Combine(_dir, "site", "notebooks", "42-test.html"));
        Assert.DoesNotContain("MathJax.js", html);
        Assert.DoesNotContain("text/x-mathjax-config", html);
        Assert.Contains(result.Notes, n => n.Contains("MathJax not found", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("word ")]
    [InlineData("x")]
    public void ALongIntroductionIsCutToAShortSummary(string unit)
    {
        string intro = "# T\n\n" + string.Concat(Enumerable.Repeat(unit, 400));
        var doc = new JsonObject { ["cells"] = new JsonArray(new JsonObject { ["cell_type"] = "markdown", ["source"] = intro }) };
        var page = ResultsSite.Describe("t", doc);
        Assert.EndsWith(" ...", page.Summary);
        Assert.InRange(page.Summary.Length, 250, 301);
        Assert.Equal("unknown", page.Budget);
        Assert.Null(page.Started);
    }

    [Fact]
    public void MissingNotebooksAreAnErrorThatSaysWhatToRun()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => ResultsSite.Build(new SiteOptions(Path.Combine(_dir, "nothing"), [], Path.Combine(_dir, "site"))));
        Assert.Contains("scripts/main.sh", e.Message);
    }
}
