using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace DpAg.NotebookTests;

/// <summary>Executes a notebook headless in the real Jupyter + .NET (C#) kernel and reads back its outputs.</summary>
public static class NotebookRunner
{
    /// <summary>The repository root (the folder holding DpAg.Notebooks.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Per-cell timeout in seconds (nbconvert has none by default).</summary>
    public const int CellTimeoutSeconds = 900;

    /// <summary>The notebooks executed by this test run, by file name (what the rendered-notebook checks read).</summary>
    private static readonly ConcurrentDictionary<string, ExecutedNotebook> ExecutedThisRun = new(StringComparer.Ordinal);

    /// <summary>The file names of every notebook in notebooks/, in order.</summary>
    public static IReadOnlyList<string> AllNotebookNames() =>
        Directory.GetFiles(Path.Combine(RepoRoot, "notebooks"), "*.ipynb").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The copy of <paramref name="notebook"/> this test run executed, executing it now if no test has yet: checks that
    /// read executed notebooks never look at a copy left by an earlier run.
    /// </summary>
    public static ExecutedNotebook ExecutedInThisRun(string notebook)
    {
        lock (ExecutedThisRun)
            return ExecutedThisRun.TryGetValue(notebook, out var done) ? done : Execute(notebook);
    }

    /// <summary>Runs <paramref name="notebook"/> (a file name in notebooks/) with the CI budget; returns the executed copy.</summary>
    public static ExecutedNotebook Execute(string notebook)
    {
        string source = Path.Combine(RepoRoot, "notebooks", notebook);
        Assert.True(File.Exists(source), $"Notebook {source} does not exist.");
        string jupyter = File.Exists("/usr/bin/jupyter") ? "/usr/bin/jupyter" : "jupyter";
        string outDir = Path.Combine(RepoRoot, "artifacts", "notebooks");
        Directory.CreateDirectory(outDir);
        string executed = Path.Combine(outDir, notebook);
        if (File.Exists(executed)) File.Delete(executed);

        var start = new ProcessStartInfo(jupyter)
        {
            WorkingDirectory = RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
            $"--ExecutePreprocessor.timeout={CellTimeoutSeconds}",
            "--ExecutePreprocessor.kernel_name=.net-csharp",
            "--ExecutePreprocessor.startup_timeout=180",
            "--output-dir", outDir, source,
        }) start.ArgumentList.Add(arg);
        start.Environment["DPAG_BUDGET"] = "ci";

        var watch = Stopwatch.StartNew();
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("Jupyter is not installed; run scripts/setup.sh (it installs Jupyter and registers the .NET kernel).", e);
        }
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.WaitForExit();
        watch.Stop();
        string log = stderr.Result + stdout.Result;
        if (process.ExitCode != 0 || !File.Exists(executed))
        {
            string hint = log.Contains("No such kernel", StringComparison.Ordinal)
                ? " The .NET (C#) kernel is not registered: run scripts/setup.sh."
                : "";
            throw new InvalidOperationException($"nbconvert failed on {notebook} (exit {process.ExitCode}).{hint}\n{Tail(log, 4000)}");
        }
        var result = new ExecutedNotebook(notebook, JsonNode.Parse(File.ReadAllText(executed))!, watch.Elapsed);
        ExecutedThisRun[notebook] = result;
        return result;
    }

    private static string Tail(string text, int max) => text.Length <= max ? text : "..." + text[^max..];

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DpAg.Notebooks.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"No DpAg.Notebooks.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>An executed notebook: its cells' outputs, searchable by MIME type and text.</summary>
public sealed record ExecutedNotebook(string Name, JsonNode Document, TimeSpan Elapsed)
{
    /// <summary>The code cells in order, with their source and outputs.</summary>
    public IEnumerable<(int Index, string Source, JsonArray Outputs)> CodeCells =>
        Document["cells"]!.AsArray()
            .Select((cell, i) => (cell, i))
            .Where(c => (string?)c.cell!["cell_type"] == "code")
            .Select(c => (c.i, Join(c.cell!["source"]), c.cell!["outputs"]!.AsArray()));

    /// <summary>Every output's text for a MIME type (or stream text for "stream").</summary>
    public IEnumerable<string> Outputs(string mime) =>
        CodeCells.SelectMany(c => c.Outputs).Select(o => mime == "stream"
            ? (string?)o!["output_type"] == "stream" ? Join(o["text"]) : null
            : o!["data"]?[mime] is { } d ? Join(d) : null).OfType<string>();

    /// <summary>Fails with the first failing cell's source and error (compile errors are in the stream before it).</summary>
    public void AssertNoErrors()
    {
        foreach (var (index, source, outputs) in CodeCells)
        {
            var error = outputs.FirstOrDefault(o => (string?)o!["output_type"] == "error");
            if (error is null) continue;
            var details = new StringBuilder();
            foreach (var o in outputs)
                if ((string?)o!["output_type"] == "stream") details.AppendLine(Join(o["text"]));
            Assert.Fail($"{Name}: cell {index} failed: {(string?)error["ename"]}: {(string?)error["evalue"]}\n{details}\n--- cell source ---\n{source}");
        }
    }

    private static string Join(JsonNode? node) => node switch
    {
        JsonArray array => string.Concat(array.Select(n => (string?)n)),
        JsonValue value => (string?)value ?? "",
        _ => "",
    };
}
