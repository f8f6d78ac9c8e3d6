using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DpAg.NotebookTests;

/// <summary>What a page showed in the browser: its charts, its images, its console and what it tried to fetch.</summary>
public sealed record PageReport(
    string Page,
    int Charts,
    IReadOnlyList<string> BlankCharts,
    int Images,
    IReadOnlyList<string> BrokenImages,
    IReadOnlyList<string> ConsoleErrors,
    IReadOnlyList<string> NetworkRequests,
    string Screenshot)
{
    /// <summary>Every problem in one list (empty when the page is as a reader should see it).</summary>
    public IReadOnlyList<string> Problems =>
        BlankCharts.Select(c => $"blank chart: {c}")
            .Concat(BrokenImages.Select(i => $"image that did not decode: {i}"))
            .Concat(ConsoleErrors.Select(e => $"console error: {e}"))
            .Concat(NetworkRequests.Select(r => $"reached for the network: {r}"))
            .ToList();
}

/// <summary>Opens a page in a fresh tab, waits until its charts and images are done (or a deadline), and reports.</summary>
public static class PageCheck
{
    /// <summary>
    /// Finds every Plotly.NET chart container (the div holding Plotly.NET's marker comment) and every image, and says
    /// for each whether it drew: the chart has plotly's SVG, at least one trace in its data and one drawn trace layer
    /// (SVG trace group, heatmap image or WebGL canvas); the image finished loading with a natural width above zero.
    /// </summary>
    private const string StateScript = """
        (() => {
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_COMMENT);
          const charts = [];
          while (walker.nextNode()) {
            if (walker.currentNode.nodeValue.includes('Plotly chart will be drawn inside this DIV')) charts.push(walker.currentNode.parentElement);
          }
          const chartState = charts.map((el, i) => {
            const svg = el.querySelector('svg.main-svg');
            const traces = Array.isArray(el.data) ? el.data.length : 0;
            const drawn = el.querySelectorAll('.plot .trace, .cartesianlayer .trace, .hm, .heatmaplayer image, .gl-container canvas, .pielayer .trace').length;
            const title = (el.querySelector('.gtitle') || {}).textContent || '';
            return { id: el.id || ('chart ' + (i + 1)), title, ok: !!svg && traces >= 1 && drawn >= 1, svg: !!svg, traces, drawn };
          });
          const images = Array.from(document.images).map((img, i) => ({
            name: (img.alt || img.src.slice(0, 40)) + ' #' + (i + 1), done: img.complete, ok: img.complete && img.naturalWidth > 0 }));
          return JSON.stringify({ ready: document.readyState === 'complete', charts: chartState, images });
        })()
        """;

    public static async Task<PageReport> OpenAsync(Chromium browser, string file, string screenshot, TimeSpan deadline)
    {
        var target = await browser.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        string targetId = (string)target["targetId"]!;
        var attached = await browser.SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = targetId, ["flatten"] = true });
        string session = (string)attached["sessionId"]!;
        var errors = new List<string>();
        var requests = new List<string>();
        void OnEvent(string method, JsonObject p, string? s)
        {
            if (s != session) return;
            lock (errors)
            {
                if (method == "Runtime.consoleAPICalled" && (string?)p["type"] is "error" or "assert")
                    errors.Add(string.Join(" ", p["args"]?.AsArray().Select(a => (string?)a?["value"] ?? (string?)a?["description"] ?? "") ?? []));
                else if (method == "Runtime.exceptionThrown")
                    errors.Add((string?)p["exceptionDetails"]?["exception"]?["description"] ?? (string?)p["exceptionDetails"]?["text"] ?? "exception");
                else if (method == "Log.entryAdded" && (string?)p["entry"]?["level"] == "error")
                    errors.Add(((string?)p["entry"]?["text"] + " " + (string?)p["entry"]?["url"]).Trim());
                else if (method == "Network.requestWillBeSent")
                {
                    string url = (string?)p["request"]?["url"] ?? "";
                    if (!url.StartsWith("file:", StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal) && url != "about:blank")
                        requests.Add(url);
                }
            }
        }
        browser.Event += OnEvent;
        try
        {
            foreach (var domain in new[] { "Runtime.enable", "Log.enable", "Page.enable", "Network.enable" })
                await browser.SendAsync(domain, session: session);
            await browser.SendAsync("Emulation.setDeviceMetricsOverride",
                new JsonObject { ["width"] = 1280, ["height"] = 900, ["deviceScaleFactor"] = 1, ["mobile"] = false }, session);
            await browser.SendAsync("Page.navigate", new JsonObject { ["url"] = new Uri(Path.GetFullPath(file)).AbsoluteUri }, session);

            // Poll until the page is loaded and every chart and image is done, or the deadline passes.
            JsonObject state;
            var watch = Stopwatch.StartNew();
            while (true)
            {
                var value = await browser.SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = StateScript, ["returnByValue"] = true }, session);
                state = JsonNode.Parse((string?)value["result"]?["value"] ?? "{}")!.AsObject();
                bool done = (bool?)state["ready"] == true
                            && state["charts"]!.AsArray().All(c => (bool?)c!["ok"] == true)
                            && state["images"]!.AsArray().All(i => (bool?)i!["done"] == true);
                if (done || watch.Elapsed > deadline) break;
                await Task.Delay(250);
            }
            // Let late console messages (a script that fails after drawing) arrive before judging.
            await Task.Delay(300);

            var metrics = await browser.SendAsync("Page.getLayoutMetrics", session: session);
            double height = (double?)metrics["cssContentSize"]?["height"] ?? (double?)metrics["contentSize"]?["height"] ?? 900;
            await browser.SendAsync("Emulation.setDeviceMetricsOverride",
                new JsonObject { ["width"] = 1280, ["height"] = (int)Math.Clamp(Math.Ceiling(height), 600, 16000), ["deviceScaleFactor"] = 1, ["mobile"] = false }, session);
            await Task.Delay(200);
            var shot = await browser.SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, session, TimeSpan.FromSeconds(120));
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            File.WriteAllBytes(screenshot, Convert.FromBase64String((string)shot["data"]!));

            var charts = state["charts"]!.AsArray();
            var images = state["images"]!.AsArray();
            lock (errors)
                return new PageReport(file, charts.Count,
                    charts.Where(c => (bool?)c!["ok"] != true)
                        .Select(c => $"{(string?)c!["id"]} '{(string?)c["title"]}' (svg {(bool?)c["svg"]}, traces {(int?)c["traces"]}, drawn layers {(int?)c["drawn"]})").ToList(),
                    images.Count,
                    images.Where(i => (bool?)i!["ok"] != true).Select(i => (string?)i!["name"] ?? "?").ToList(),
                    errors.ToList(), requests.ToList(), screenshot);
        }
        finally
        {
            browser.Event -= OnEvent;
            await browser.SendAsync("Target.closeTarget", new JsonObject { ["targetId"] = targetId });
        }
    }
}
