using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DpAg.IO;
using DpAg.Plots;

namespace DpAg.Site;

/// <summary>What the results site is built from and where it goes.</summary>
/// <param name="Notebooks">Folder of executed notebooks (<c>*.ipynb</c> with outputs), e.g. artifacts/notebooks.</param>
/// <param name="Reports">Folders holding a <c>report.md</c> (and the figures it links), e.g. artifacts/report.</param>
/// <param name="Output">The site folder, replaced as a whole (e.g. artifacts/site).</param>
/// <param name="Jupyter">The jupyter command (nbconvert does the HTML); default /usr/bin/jupyter, else jupyter on PATH.</param>
/// <param name="MathJax">A MathJax 2.7 folder copied beside the pages (Debian's libjs-mathjax by default); null: math shows as TeX.</param>
/// <param name="RequireJs">require.min.js copied beside the pages (Debian's libjs-requirejs by default); null: left out.</param>
public sealed record SiteOptions(
    string Notebooks,
    IReadOnlyList<string> Reports,
    string Output,
    string? Jupyter = null,
    string? MathJax = SiteOptions.DebianMathJax,
    string? RequireJs = SiteOptions.DebianRequireJs)
{
    public const string DebianMathJax = "/usr/share/javascript/mathjax";
    public const string DebianRequireJs = "/usr/share/javascript/requirejs/require.min.js";
}

/// <summary>One notebook page of the site, with what the index says about it.</summary>
public sealed record NotebookPage(string Name, string Page, string Title, string Summary, string Budget, DateTime? Started, TimeSpan? Duration,
    int Charts, int Errors);

/// <summary>One report page of the site.</summary>
public sealed record ReportPage(string Name, string Page, string Title);

/// <summary>What was built.</summary>
public sealed record SiteResult(string Index, IReadOnlyList<NotebookPage> Notebooks, IReadOnlyList<ReportPage> Reports, IReadOnlyList<string> Notes);

/// <summary>
/// The results site: every executed notebook and every report as HTML, with an index page, in one folder that opens
/// from a file browser with no server and no network: links are relative, and the scripts the pages need (the
/// plotly.js the kit carries, MathJax, require.js) are copied into <c>assets/</c> beside them.
/// </summary>
public static partial class ResultsSite
{
    /// <summary>The asset file holding the kit's plotly.js bundle (see <see cref="OfflinePlotly.BundleScript"/>).</summary>
    public static string PlotlyAsset => $"dpag-plotly-{OfflinePlotly.Version}.js";

    /// <summary>MathJax configuration the pages load: SVG output needs no web fonts (fonts from file:// pages are blocked as cross-origin).</summary>
    public const string MathJaxConfig = "TeX-AMS_SVG-full,Safe";

    /// <summary>Builds the site; throws with the file and the fix when a notebook cannot be read or nbconvert fails.</summary>
    public static SiteResult Build(SiteOptions options)
    {
        if (!Directory.Exists(options.Notebooks))
            throw new DirectoryNotFoundException($"No executed notebooks at {options.Notebooks}: run scripts/main.sh (or the notebook tests) first.");
        var notebooks = Directory.GetFiles(options.Notebooks, "*.ipynb").Order(StringComparer.Ordinal).ToList();
        if (notebooks.Count == 0)
            throw new FileNotFoundException($"No executed notebooks (*.ipynb) in {options.Notebooks}: run scripts/main.sh (or the notebook tests) first.");
        var notes = new List<string>();
        var pages = new List<NotebookPage>();
        var reports = new List<ReportPage>();
        string output = Path.GetFullPath(options.Output);
        AtomicFile.WriteDirectory(output, site =>
        {
            string assets = Path.Combine(site, "assets");
            Directory.CreateDirectory(assets);
            bool mathJax = CopyMathJax(options.MathJax, Path.Combine(assets, "mathjax"), notes);
            bool requireJs = options.RequireJs is not null && File.Exists(options.RequireJs);
            if (requireJs) File.Copy(options.RequireJs!, Path.Combine(assets, "require.min.js"));
            else notes.Add($"require.js not found ({options.RequireJs ?? "none given"}); pages load without it (the kit's charts do not need it).");
            File.WriteAllText(Path.Combine(assets, PlotlyAsset), OfflinePlotly.BundleScript);
            File.WriteAllText(Path.Combine(assets, PlotlyAsset + ".LICENSE.txt"), OfflinePlotly.LicenseText);

            // Notebooks: cleaned copies (no kernel-connection script) converted in one nbconvert run.
            string work = Path.Combine(site, ".work");
            Directory.CreateDirectory(work);
            foreach (var file in notebooks)
            {
                JsonNode doc;
                try { doc = JsonNode.Parse(File.ReadAllText(file)) ?? throw new InvalidDataException("empty"); }
                catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
                {
                    throw new InvalidDataException($"{file} is not a notebook (JSON): {e.Message}. Re-run the notebook (scripts/main.sh) to rewrite it.", e);
                }
                StripKernelConnection(doc);
                string name = Path.GetFileNameWithoutExtension(file);
                File.WriteAllText(Path.Combine(work, name + ".ipynb"), doc.ToJsonString());
                pages.Add(Describe(name, doc));
            }
            string notebookDir = Path.Combine(site, "notebooks");
            Directory.CreateDirectory(notebookDir);
            NbConvert(options, pages.Select(p => Path.Combine(work, p.Name + ".ipynb")).ToList(), notebookDir, "../assets", mathJax, requireJs);
            foreach (var page in pages) FinishPage(Path.Combine(notebookDir, page.Name + ".html"), "../assets", mathJax);

            // Reports: report.md as a one-cell notebook through the same template, figures copied beside.
            foreach (var folder in options.Reports.Where(f => File.Exists(Path.Combine(f, "report.md"))))
            {
                string name = ReportName(folder, reports);
                string target = Path.Combine(site, "reports", name);
                Directory.CreateDirectory(target);
                foreach (var figure in Directory.GetFiles(folder).Where(f => Regex.IsMatch(f, @"\.(png|gif|svg|jpe?g|csv|json)$", RegexOptions.IgnoreCase)))
                    File.Copy(figure, Path.Combine(target, Path.GetFileName(figure)));
                string markdown = File.ReadAllText(Path.Combine(folder, "report.md"));
                var cell = new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = markdown };
                var doc = new JsonObject { ["cells"] = new JsonArray(cell), ["metadata"] = new JsonObject(), ["nbformat"] = 4, ["nbformat_minor"] = 5 };
                string source = Path.Combine(work, "report-" + name + ".ipynb");
                File.WriteAllText(source, doc.ToJsonString());
                NbConvert(options, [source], target, "../../assets", mathJax, requireJs);
                string page = Path.Combine(target, "index.html");
                File.Move(Path.Combine(target, Path.GetFileNameWithoutExtension(source) + ".html"), page);
                FinishPage(page, "../../assets", mathJax);
                reports.Add(new ReportPage(name, $"reports/{name}/index.html", Heading(markdown) ?? name));
            }
            Directory.Delete(work, recursive: true);
            File.WriteAllText(Path.Combine(site, "index.html"), IndexHtml(pages, reports, notes));
        });
        return new SiteResult(Path.Combine(output, "index.html"), pages, reports, notes);
    }

    /// <summary>
    /// Drops the outputs that only a live kernel uses: dotnet-interactive's HTTP API bootstrapper, which every Jupyter
    /// session shows under its first cell and which, in a static page, probes 127.0.0.1 and fetches require.js from a CDN.
    /// </summary>
    internal static int StripKernelConnection(JsonNode doc)
    {
        int removed = 0;
        foreach (var cell in doc["cells"]?.AsArray() ?? [])
        {
            if (cell?["outputs"] is not JsonArray outputs) continue;
            for (int i = outputs.Count - 1; i >= 0; i--)
            {
                string html = Text(outputs[i]?["data"]?["text/html"]);
                if (html.Contains("dotnet-interactive-this-cell", StringComparison.Ordinal) && html.Contains("probeAddresses", StringComparison.Ordinal))
                {
                    outputs.RemoveAt(i);
                    removed++;
                }
            }
        }
        return removed;
    }

    internal static NotebookPage Describe(string name, JsonNode doc)
    {
        var cells = doc["cells"]?.AsArray().OfType<JsonNode>().ToList() ?? [];
        string intro = cells.Where(c => (string?)c["cell_type"] == "markdown").Select(c => Text(c["source"])).FirstOrDefault() ?? "";
        string title = Heading(intro) ?? name;
        string summary = FirstParagraph(intro);
        var outputs = cells.SelectMany(c => c["outputs"]?.AsArray().OfType<JsonNode>() ?? []).ToList();
        string streams = string.Concat(outputs.Where(o => (string?)o["output_type"] == "stream").Select(o => Text(o["text"])));
        var budget = BudgetLine().Match(streams);
        DateTime? Stamp(JsonNode? cell, string key) =>
            DateTime.TryParse((string?)cell?["metadata"]?["execution"]?[key], CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;
        var code = cells.Where(c => (string?)c["cell_type"] == "code").ToList();
        DateTime? start = code.Select(c => Stamp(c, "iopub.execute_input")).FirstOrDefault(t => t is not null);
        DateTime? end = code.Select(c => Stamp(c, "shell.execute_reply")).LastOrDefault(t => t is not null);
        int charts = outputs.Count(o => Text(o["data"]?["text/html"]).Contains("Plotly chart will be drawn inside this DIV", StringComparison.Ordinal));
        int errors = outputs.Count(o => (string?)o["output_type"] == "error");
        return new NotebookPage(name, $"notebooks/{name}.html", title, summary, budget.Success ? budget.Groups[1].Value : "unknown",
            start, start is not null && end is not null ? end - start : null, charts, errors);
    }

    [GeneratedRegex(@"Budget: (\w+)")]
    private static partial Regex BudgetLine();

    private static string? Heading(string markdown) =>
        markdown.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim();

    /// <summary>The first paragraph after the title, as plain text (markup and TeX delimiters dropped), at most ~300 characters.</summary>
    private static string FirstParagraph(string markdown)
    {
        var lines = markdown.Split('\n').Select(l => l.Trim()).SkipWhile(l => l.Length == 0 || l.StartsWith('#')).TakeWhile(l => l.Length > 0);
        string text = string.Join(" ", lines);
        text = Regex.Replace(text, @"\[([^\]]*)\]\([^)]*\)", "$1");
        text = Regex.Replace(text, @"[*_`$]", "");
        if (text.Length <= 300) return text;
        int cut = text.LastIndexOf(' ', 297);
        return text[..(cut > 0 ? cut : 297)] + " ...";
    }

    private static string ReportName(string folder, List<ReportPage> taken)
    {
        string baseName = Regex.Replace(Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar)), "[^A-Za-z0-9._-]", "-");
        string name = baseName;
        for (int i = 2; taken.Any(r => r.Name == name); i++) name = $"{baseName}-{i}";
        return name;
    }

    private static bool CopyMathJax(string? source, string target, List<string> notes)
    {
        if (source is null || !File.Exists(Path.Combine(source, "MathJax.js")))
        {
            notes.Add($"MathJax not found ({source ?? "none given"}; Debian: apt-get install libjs-mathjax); formulas show as TeX.");
            return false;
        }
        // What the SVG configuration loads: the loader, its config, extensions, the TeX input, the element jax and the
        // SVG output with its TeX font (the other fonts and the unpacked sources stay behind: 4 of 54 MB).
        Directory.CreateDirectory(target);
        File.Copy(Path.Combine(source, "MathJax.js"), Path.Combine(target, "MathJax.js"));
        foreach (var dir in new[] { "extensions", "jax/input/TeX", "jax/element", "localization/en" })
            CopyTree(Path.Combine(source, dir), Path.Combine(target, dir));
        CopyTree(Path.Combine(source, "config"), Path.Combine(target, "config"), f => Path.GetFileName(f).StartsWith("TeX-AMS_SVG", StringComparison.Ordinal) || Path.GetFileName(f) == "Safe.js");
        string svg = Path.Combine(source, "jax/output/SVG");
        CopyTree(svg, Path.Combine(target, "jax/output/SVG"),
            f => !Path.GetRelativePath(svg, f).StartsWith("fonts", StringComparison.Ordinal) || Path.GetRelativePath(svg, f).StartsWith(Path.Combine("fonts", "TeX"), StringComparison.Ordinal));
        return true;
    }

    private static void CopyTree(string source, string target, Func<string, bool>? keep = null)
    {
        if (!Directory.Exists(source)) return;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            if (keep is not null && !keep(file)) continue;
            string to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
    }

    private static void NbConvert(SiteOptions options, IReadOnlyList<string> notebooks, string outputDir, string assets, bool mathJax, bool requireJs)
    {
        string jupyter = options.Jupyter ?? (File.Exists("/usr/bin/jupyter") ? "/usr/bin/jupyter" : "jupyter");
        var start = new ProcessStartInfo(jupyter) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "nbconvert", "--to", "html", "--output-dir", outputDir,
                     $"--HTMLExporter.mathjax_url={(mathJax ? $"{assets}/mathjax/MathJax.js?config={MathJaxConfig}" : "")}",
                     $"--HTMLExporter.require_js_url={(requireJs ? $"{assets}/require.min.js" : "")}" })
            start.ArgumentList.Add(arg);
        foreach (var notebook in notebooks) start.ArgumentList.Add(notebook);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot run '{jupyter}' for nbconvert: {e.Message}. Run scripts/setup.sh (it installs Jupyter).", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"jupyter nbconvert --to html failed (exit {process.ExitCode}) on {string.Join(", ", notebooks.Select(Path.GetFileName))}:\n{stderr.Result}");
        }
    }

    /// <summary>Moves the inline plotly.js bundle into the shared asset and drops what would reach for the network.</summary>
    internal static void FinishPage(string page, string assets, bool mathJax)
    {
        string html = File.ReadAllText(page);
        html = InlineBundle().Replace(html, m => m.Groups["version"].Value == OfflinePlotly.Version
            ? $"<script type=\"text/javascript\" {OfflinePlotly.BundleAttribute}=\"{OfflinePlotly.Version}\" src=\"{assets}/{PlotlyAsset}\"></script>"
            : m.Value);
        // nbconvert writes a script element even for an empty URL; an empty src would load the page itself as a script.
        html = EmptyScript().Replace(html, "");
        if (!mathJax) html = MathJaxConfigBlock().Replace(html, "");
        File.WriteAllText(page, html);
    }

    [GeneratedRegex("<script type=\"text/javascript\" data-dpag-plotly=\"(?<version>[^\"]+)\">.*?</script>", RegexOptions.Singleline)]
    private static partial Regex InlineBundle();

    [GeneratedRegex("<script[^>]*\\ssrc=\"\"[^>]*>\\s*</script>")]
    private static partial Regex EmptyScript();

    [GeneratedRegex("<script type=\"text/x-mathjax-config\">.*?</script>", RegexOptions.Singleline)]
    private static partial Regex MathJaxConfigBlock();

    private static string IndexHtml(IReadOnlyList<NotebookPage> pages, IReadOnlyList<ReportPage> reports, IReadOnlyList<string> notes)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>DP-AG kit: results</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
            table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ddd; padding: .45em .6em; text-align: left; vertical-align: top; }
            th { background: #f4f4f4; } td.num { text-align: right; white-space: nowrap; } .err { color: #b00; font-weight: bold; } .small { color: #666; font-size: .9em; }
            </style></head><body>
            <h1>DP-AG kit: results</h1>
            """);
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"small\">Built {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by <code>dpag site</code>. ")
            .Append("Every page works offline, straight from the folder (no server, no network).</p>\n");
        html.Append("<h2>Notebooks</h2>\n<table><tr><th>Notebook</th><th>What it shows</th><th>Budget</th><th>Ran (UTC)</th><th>Time</th><th>Charts</th></tr>\n");
        foreach (var p in pages)
        {
            string when = p.Started is { } s ? s.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "-";
            string took = p.Duration is { } d ? d.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture) + " s" : "-";
            string errors = p.Errors > 0 ? $" <span class=\"err\">{p.Errors} failed cell{(p.Errors == 1 ? "" : "s")}</span>" : "";
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td><a href=\"{E(p.Page)}\">{E(p.Title)}</a><br><span class=\"small\">{E(p.Name)}.ipynb</span>{errors}</td><td>{E(p.Summary)}</td>" +
                $"<td>{E(p.Budget)}</td><td class=\"num\">{when}</td><td class=\"num\">{took}</td><td class=\"num\">{p.Charts}</td></tr>\n");
        }
        html.Append("</table>\n");
        html.Append("<h2>Reports</h2>\n");
        if (reports.Count == 0) html.Append("<p class=\"small\">No reports yet (scripts/main.sh writes artifacts/report; <code>dpag study --report</code> writes a study's).</p>\n");
        else
        {
            html.Append("<ul>\n");
            foreach (var r in reports) html.Append(CultureInfo.InvariantCulture, $"<li><a href=\"{E(r.Page)}\">{E(r.Title)}</a> <span class=\"small\">({E(r.Name)})</span></li>\n");
            html.Append("</ul>\n");
        }
        if (notes.Count > 0)
        {
            html.Append("<h2>Notes</h2>\n<ul>\n");
            foreach (var n in notes) html.Append(CultureInfo.InvariantCulture, $"<li class=\"small\">{E(n)}</li>\n");
            html.Append("</ul>\n");
        }
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static string Text(JsonNode? node) => node switch
    {
        JsonArray array => string.Concat(array.Select(n => (string?)n)),
        JsonValue value => value.TryGetValue<string>(out var s) ? s : "",
        _ => "",
    };
}
