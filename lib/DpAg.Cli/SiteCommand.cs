using System.CommandLine;
using DpAg.Site;

namespace DpAg.Cli;

/// <summary><c>dpag site</c>: the executed notebooks and the reports as an offline HTML site with an index page.</summary>
internal static class SiteCommand
{
    public static Command Create()
    {
        var notebooks = new Option<string>("--notebooks") { Description = "Folder of executed notebooks.", DefaultValueFactory = _ => "artifacts/notebooks" };
        var reports = new Option<string[]>("--reports")
        {
            Description = "Folders holding a report.md (default: every folder under artifacts/ with one, except runs/, notebooks/ and site/).",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--output") { Description = "Site folder (replaced as a whole).", DefaultValueFactory = _ => "artifacts/site" };
        var mathJax = new Option<string>("--mathjax")
        {
            Description = "A MathJax 2.7 folder (holding MathJax.js) to copy beside the pages; without one, formulas show as TeX.",
            DefaultValueFactory = _ => SiteOptions.DebianMathJax,
        };
        var command = new Command("site", "Export the executed notebooks and the run/study reports to HTML with an index page; opens offline from a file browser.")
        {
            notebooks, reports, output, mathJax,
        };
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var folders = parse.GetValue(reports) is { Length: > 0 } given ? given : DefaultReports("artifacts");
            var result = ResultsSite.Build(new SiteOptions(parse.GetValue(notebooks)!, folders, parse.GetValue(output)!, MathJax: parse.GetValue(mathJax)));
            foreach (var note in result.Notes) Console.WriteLine($"note: {note}");
            Console.WriteLine($"site: {result.Index} ({result.Notebooks.Count} notebooks, {result.Reports.Count} reports)");
            return 0;
        }));
        return command;
    }

    /// <summary>Every folder under <paramref name="artifacts"/> (three levels deep) with a report.md, outside the run store and the outputs.</summary>
    internal static string[] DefaultReports(string artifacts)
    {
        if (!Directory.Exists(artifacts)) return [];
        string[] skip = ["runs", "notebooks", "site"];
        return Directory.EnumerateFiles(artifacts, "report.md", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 3 })
            .Select(f => Path.GetDirectoryName(f)!)
            .Where(d => !skip.Contains(Path.GetRelativePath(artifacts, d).Split(Path.DirectorySeparatorChar)[0]))
            .Order(StringComparer.Ordinal)
            .ToArray();
    }
}
