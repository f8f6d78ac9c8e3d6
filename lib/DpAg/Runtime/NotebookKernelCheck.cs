using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;

namespace DpAg.Runtime;

/// <summary>
/// Checks, without starting a kernel, that the notebooks can run here: Jupyter answers, the kit's .NET (C#) kernel
/// <see cref="KernelName"/> is registered, and the programs its <c>kernel.json</c> starts exist. A kernel registered
/// once and then orphaned (a cleared NuGet cache, a moved SDK) otherwise fails only inside nbconvert, minutes later,
/// with "Kernel died".
/// </summary>
public static class NotebookKernelCheck
{
    /// <summary>The kernelspec name <c>scripts/setup.sh</c> registers and the notebooks and their tests use.</summary>
    public const string KernelName = ".net-csharp";

    /// <summary>What fixes every failure below.</summary>
    public const string Fix = "run scripts/setup.sh (it installs Jupyter on Debian when root and registers the kernel)";

    /// <summary>The Jupyter executable: <c>$JUPYTER</c> when set, else Debian's <c>/usr/bin/jupyter</c>, else PATH.</summary>
    public static string JupyterExecutable =>
        Environment.GetEnvironmentVariable("JUPYTER") is { Length: > 0 } set ? set
        : File.Exists("/usr/bin/jupyter") ? "/usr/bin/jupyter" : "jupyter";

    /// <summary>Runs the check; <c>Ok</c> with the kernel's folder, or what is missing and <see cref="Fix"/>.</summary>
    public static (bool Ok, string Description) Run()
    {
        string jupyter = JupyterExecutable;
        string json;
        try
        {
            json = RunForOutput(jupyter, ["kernelspec", "list", "--json"], TimeSpan.FromSeconds(60));
        }
        catch (Win32Exception)
        {
            return (false, $"Jupyter was not found ('{jupyter}'); the notebooks need it: {Fix}.");
        }
        catch (InvalidOperationException e)
        {
            return (false, $"'{jupyter} kernelspec list' failed ({e.Message}); {Fix}.");
        }
        return Inspect(json);
    }

    /// <summary>Judges the output of <c>jupyter kernelspec list --json</c> (public for tests).</summary>
    public static (bool Ok, string Description) Inspect(string kernelspecListJson)
    {
        JsonElement specs;
        try
        {
            specs = JsonDocument.Parse(kernelspecListJson).RootElement.GetProperty("kernelspecs");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (false, $"'jupyter kernelspec list --json' printed something that is not a kernelspec list; {Fix}.");
        }
        if (!specs.TryGetProperty(KernelName, out var kernel))
        {
            var known = specs.EnumerateObject().Select(p => p.Name).ToList();
            return (false, $"The .NET (C#) Jupyter kernel '{KernelName}' is not registered (Jupyter knows: " +
                           $"{(known.Count == 0 ? "none" : string.Join(", ", known))}); {Fix}.");
        }
        string dir = kernel.TryGetProperty("resource_dir", out var r) ? r.GetString() ?? "?" : "?";
        var argv = kernel.TryGetProperty("spec", out var spec) && spec.TryGetProperty("argv", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(e => e.GetString() ?? "").ToList()
            : [];
        if (argv.Count == 0) return (false, $"The kernel '{KernelName}' in {dir} has no argv in kernel.json; {Fix}.");
        // setup.sh writes absolute paths: the dotnet host, then the pinned dotnet-interactive tool's dll.
        foreach (var program in argv.Take(2).Where(p => Path.IsPathRooted(p)))
            if (!File.Exists(program))
                return (false, $"The kernel '{KernelName}' ({dir}/kernel.json) starts {program}, which does not exist " +
                               $"(a cleared NuGet cache or a moved .NET SDK); {Fix}.");
        return (true, $"Jupyter kernel '{KernelName}' registered in {dir}");
    }

    private static string RunForOutput(string file, string[] args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"no answer in {timeout.TotalSeconds:0} s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"exit {process.ExitCode}: {stderr.Result.Trim().Split('\n').LastOrDefault()}");
        return stdout.Result;
    }
}
