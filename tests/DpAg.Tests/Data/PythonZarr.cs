using System.Diagnostics;

namespace DpAg.Tests.Data;

/// <summary>
/// Runs Debian's python3-zarr 2.13 / numcodecs as a test-time reference. A missing interpreter or module FAILS the
/// test with the install command (it never skips silently).
/// </summary>
internal static class PythonZarr
{
    public const string Python = "/usr/bin/python3";
    private const string Install = "apt-get install python3-zarr python3-numcodecs";

    /// <summary>Runs <paramref name="script"/> with arguments; returns stdout; fails the test on a non-zero exit.</summary>
    public static string Run(string script, params string[] args)
    {
        if (!File.Exists(Python)) Assert.Fail($"{Python} not found: the zarr interop tests need it. Run `{Install}`.");
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(); Assert.Fail("python reference timed out after 120 s."); }
        string err = stderr.Result;
        if (p.ExitCode != 0)
        {
            if (err.Contains("No module named 'zarr'") || err.Contains("No module named 'numcodecs'") || err.Contains("No module named 'numpy'"))
                Assert.Fail($"python zarr reference missing ({err.Trim().Split('\n').Last()}). Run `{Install}`.");
            Assert.Fail($"python reference failed (exit {p.ExitCode}):\n{err}");
        }
        return stdout.Result;
    }
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dpag-data-" + Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
