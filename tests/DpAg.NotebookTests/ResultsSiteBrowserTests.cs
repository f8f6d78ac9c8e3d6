using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace DpAg.NotebookTests;

/// <summary>
/// The results site as a person sees it: the site is built (<c>dpag site</c>) from the notebooks this run executed,
/// and headless Chromium opens the index and every page from the file system with no network. Every Plotly chart must
/// draw its SVG with a trace, every inline image must decode, the console must stay free of errors and nothing may
/// reach for the network. A screenshot of each page stays in artifacts/test/screenshots/ for people to look at.
/// </summary>
[Collection(RunLastOrderer.Name)]
public class ResultsSiteBrowserTests(ITestOutputHelper output)
{
    private static string Artifacts => Path.Combine(NotebookRunner.RepoRoot, "artifacts");

    [Fact]
    public async Task EveryPageOfTheSiteDrawsInARealBrowser()
    {
        // The notebooks of this run (executed now if no test has yet), staged alone so no earlier run's copy slips in.
        string staged = Path.Combine(Artifacts, "test", "executed-notebooks");
        if (Directory.Exists(staged)) Directory.Delete(staged, recursive: true);
        Directory.CreateDirectory(staged);
        var executed = NotebookRunner.AllNotebookNames().Select(NotebookRunner.ExecutedInThisRun).ToList();
        foreach (var nb in executed) File.Copy(Path.Combine(Artifacts, "notebooks", nb.Name), Path.Combine(staged, nb.Name));

        string site = Path.Combine(Artifacts, "site");
        var (code, stdout, stderr) = RunCli("site", "--notebooks", staged, "--output", site);
        Assert.True(code == 0, $"dpag site failed (exit {code}):\n{stdout}\n{stderr}");
        output.WriteLine(stdout.Trim());

        string shots = Path.Combine(Artifacts, "test", "screenshots");
        if (Directory.Exists(shots)) Directory.Delete(shots, recursive: true);
        var pages = new List<(string File, string Shot, int ExpectedCharts, int ExpectedImages)>
        {
            (Path.Combine(site, "index.html"), Path.Combine(shots, "index.png"), 0, 0),
        };
        foreach (var nb in executed)
        {
            string name = Path.GetFileNameWithoutExtension(nb.Name);
            pages.Add((Path.Combine(site, "notebooks", name + ".html"), Path.Combine(shots, name + ".png"),
                nb.Outputs("text/html").Count(h => h.Contains("Plotly chart will be drawn inside this DIV", StringComparison.Ordinal)),
                nb.Outputs("text/html").Sum(h => CountOf(h, "<img "))));
        }
        foreach (var report in Directory.Exists(Path.Combine(site, "reports")) ? Directory.GetDirectories(Path.Combine(site, "reports")) : [])
            pages.Add((Path.Combine(report, "index.html"), Path.Combine(shots, "report-" + Path.GetFileName(report) + ".png"), 0, 0));

        string index = File.ReadAllText(pages[0].File);
        foreach (var nb in executed)
            Assert.Contains($"href=\"notebooks/{Path.GetFileNameWithoutExtension(nb.Name)}.html\"", index);

        using var browser = Chromium.Launch();
        var failures = new StringBuilder();
        foreach (var (file, shot, expectedCharts, expectedImages) in pages)
        {
            Assert.True(File.Exists(file), $"dpag site did not write {file}.");
            var watch = Stopwatch.StartNew();
            var report = await PageCheck.OpenAsync(browser, file, shot, TimeSpan.FromSeconds(45));
            output.WriteLine($"{Path.GetRelativePath(site, file)}: {report.Charts} charts, {report.Images} images, {report.Problems.Count} problems, " +
                             $"{watch.Elapsed.TotalSeconds:F1} s; screenshot {Path.GetRelativePath(NotebookRunner.RepoRoot, shot)}");
            var problems = report.Problems.ToList();
            if (report.Charts != expectedCharts) problems.Add($"{report.Charts} chart containers on the page, {expectedCharts} in the notebook's outputs");
            if (report.Images < expectedImages) problems.Add($"{report.Images} images on the page, {expectedImages} in the notebook's outputs");
            if (problems.Count > 0)
                failures.AppendLine($"{Path.GetRelativePath(site, file)} (screenshot {shot}):").AppendJoin("\n", problems.Select(p => "  " + p)).AppendLine();
        }
        Assert.True(failures.Length == 0, "Pages of the results site that do not show what they should:\n" + failures);
    }

    private static int CountOf(string text, string what)
    {
        int count = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static (int Code, string Out, string Err) RunCli(params string[] args)
    {
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string dll = Path.Combine(NotebookRunner.RepoRoot, "lib", "DpAg.Cli", "bin", config, "net10.0", "DpAg.Cli.dll");
        Assert.True(File.Exists(dll), $"The dpag CLI is not built at {dll}; build the solution first (scripts/setup.sh).");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = NotebookRunner.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var err = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, err.Result);
    }
}
