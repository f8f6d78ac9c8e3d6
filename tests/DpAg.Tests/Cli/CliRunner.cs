using System.Diagnostics;

namespace DpAg.Tests.Cli;

/// <summary>Runs the built <c>dpag</c> CLI (same configuration as the tests) as a child process.</summary>
public static class CliRunner
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string CliDll
    {
        get
        {
            string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            string dll = Path.Combine(RepoRoot, "lib", "DpAg.Cli", "bin", config, "net10.0", "DpAg.Cli.dll");
            Assert.True(File.Exists(dll), $"The CLI is not built at {dll}; build the solution first.");
            return dll;
        }
    }

    /// <summary>How to start <c>dpag args</c> in <paramref name="workingDirectory"/> (default: the repository root), output redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory ?? RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(CliDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        return start;
    }

    /// <summary>Runs <c>dpag args</c>; returns exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Out, string Err) Run(string workingDirectory, IDictionary<string, string>? env, params string[] args)
    {
        using var process = Process.Start(StartInfo(args, workingDirectory, env))!;
        var err = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, err.Result);
    }

    public static (int ExitCode, string Out, string Err) Run(params string[] args) => Run(RepoRoot, null, args);

    /// <summary>Data rows of a CSV that a running process may be writing (0 while it is missing or locked).</summary>
    public static int CsvRows(string csv)
    {
        try { return File.Exists(csv) ? File.ReadLines(csv).Count() - 1 : 0; }
        catch (IOException) { return 0; }
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DpAg.Notebooks.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("No DpAg.Notebooks.sln above the test folder.");
    }
}
