using DpAg.Envs;
using DpAg.Runtime;

namespace DpAg.Tests.Cli;

/// <summary>
/// Native faults are detected up front, in a child process that has the fault, with the fix in the message: a missing or
/// wrong Chipmunk2D, a libtorch that is missing or cannot load, and a machine without the notebook kernel.
/// </summary>
public sealed class NativeFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dpag-native-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ThePhysicsEngineIsFoundWithItsVersion()
    {
        var (available, description) = PushTEnv.CheckPhysicsEngine();
        Assert.True(available, description);
        Assert.Contains("7.0.3", description);
    }

    [Fact]
    public void MissingChipmunkFailsDoctorEvalAndDemosBeforeAnyWork()
    {
        var env = new Dictionary<string, string> { [Chipmunk.LibraryVariable] = Path.Combine(_dir, "libchipmunk.so.7") };

        var (code, output, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--threads", "1");
        Assert.Equal(1, code);
        Assert.Contains($"could not be loaded from {Chipmunk.LibraryVariable}=", err);
        Assert.Contains("apt-get install libchipmunk7", err);
        Assert.Contains("double backward OK", output); // the other checks still ran and reported

        // The run folder does not exist: the simulator check comes first, so the message is about Chipmunk, not the run.
        (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "eval", "--run-dir", Path.Combine(_dir, "no-run"), "--threads", "1");
        Assert.Equal(2, code);
        Assert.Contains("apt-get install libchipmunk7", err);
        Assert.DoesNotContain("   at ", err); // a message, not a stack trace

        (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "demos", "--episodes", "1", "--output", Path.Combine(_dir, "d.zarr"));
        Assert.Equal(2, code);
        Assert.Contains("apt-get install libchipmunk7", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "d.zarr")), "nothing is written when the simulator is missing");
    }

    [Fact]
    public void ALibraryThatIsNotChipmunkIsNamed()
    {
        var env = new Dictionary<string, string> { [Chipmunk.LibraryVariable] = "libm.so.6" };
        var (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--threads", "1");
        Assert.Equal(1, code);
        Assert.Contains("libm.so.6 loads but has no export cpSpaceNew", err);
    }

    [Fact]
    public void MissingLibtorchNamesTheSearchedFoldersAndTheFix()
    {
        var env = new Dictionary<string, string> { ["DPAG_LIBTORCH_DIR"] = _dir };
        var (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--runtime-only", "--threads", "1");
        Assert.Equal(2, code);
        Assert.Contains("Could not find libtorch_cpu.so", err);
        Assert.Contains($"DPAG_LIBTORCH_DIR={_dir}", err);
        Assert.Contains("scripts/setup.sh", err);
    }

    [Fact]
    public void UnloadableLibtorchNamesTheFileTheLoaderErrorAndTheFix()
    {
        // Files with the right names but no ELF inside: the loader refuses them.
        var junk = new byte[4096];
        new Random(7).NextBytes(junk);
        foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" }) File.WriteAllBytes(Path.Combine(_dir, name), junk);
        var env = new Dictionary<string, string> { ["DPAG_LIBTORCH_DIR"] = _dir };

        var (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--runtime-only", "--threads", "1");
        Assert.Equal(2, code);
        Assert.Contains($"Could not load {Path.Combine(_dir, "libc10.so")}", err);
        Assert.Contains("invalid ELF header", err);
        Assert.Contains("must hold a complete libtorch", err);
    }

    [Fact]
    public void MissingNotebookKernelIsReportedWithTheFix()
    {
        // An empty home and Jupyter data folder: Jupyter itself is there, the kit's kernel is not registered.
        var env = new Dictionary<string, string> { ["HOME"] = _dir, ["JUPYTER_DATA_DIR"] = _dir, ["PYTHONUSERBASE"] = _dir };
        var (code, output, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--threads", "1");
        Assert.Equal(1, code);
        Assert.Contains($"kernel '{NotebookKernelCheck.KernelName}' is not registered", err);
        Assert.Contains("run scripts/setup.sh", err);
        Assert.Contains("simulator: libchipmunk", output);
    }

    [Fact]
    public void OrphanedNotebookKernelIsReportedWithTheFix()
    {
        // Registered, but the dotnet-interactive it starts is gone (a cleared NuGet cache).
        string kernel = Directory.CreateDirectory(Path.Combine(_dir, "kernels", NotebookKernelCheck.KernelName)).FullName;
        string gone = Path.Combine(_dir, "nuget", "microsoft.dotnet-interactive", "Microsoft.DotNet.Interactive.App.dll");
        File.WriteAllText(Path.Combine(kernel, "kernel.json"),
            $$$"""{"argv": ["{{{Environment.ProcessPath}}}", "{{{gone}}}", "jupyter", "{connection_file}"], "display_name": ".NET (C#)", "language": "C#"}""");
        var env = new Dictionary<string, string> { ["HOME"] = _dir, ["JUPYTER_DATA_DIR"] = _dir, ["PYTHONUSERBASE"] = _dir };

        var (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--threads", "1");
        Assert.Equal(1, code);
        Assert.Contains($"starts {gone}, which does not exist", err);
        Assert.Contains("run scripts/setup.sh", err);
    }

    [Fact]
    public void MissingJupyterIsReportedWithTheFix()
    {
        var env = new Dictionary<string, string> { ["JUPYTER"] = Path.Combine(_dir, "bin", "jupyter") };
        var (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--threads", "1");
        Assert.Equal(1, code);
        Assert.Contains("Jupyter was not found", err);
        Assert.Contains("run scripts/setup.sh", err);
    }

    [Theory]
    [InlineData("""{"kernelspecs": {}}""", "is not registered (Jupyter knows: none)")]
    [InlineData("""{"kernelspecs": {".net-csharp": {"resource_dir": "/k", "spec": {"argv": []}}}}""", "has no argv")]
    [InlineData("""Traceback (most recent call last)""", "not a kernelspec list")]
    public void KernelListsAreJudged(string json, string expected)
    {
        var (ok, description) = NotebookKernelCheck.Inspect(json);
        Assert.False(ok);
        Assert.Contains(expected, description);
    }

    [Fact]
    public void AHealthyKernelListPasses()
    {
        string argv = System.Text.Json.JsonSerializer.Serialize(new[] { Environment.ProcessPath, "relative.dll" });
        string json = """{"kernelspecs": {".net-csharp": {"resource_dir": "/k", "spec": {"argv": """ + argv + "}}}}";
        var (ok, description) = NotebookKernelCheck.Inspect(json);
        Assert.True(ok, description);
    }
}
