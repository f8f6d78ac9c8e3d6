using System.Reflection;
using System.Runtime.InteropServices;

namespace DpAg.Runtime;

/// <summary>
/// Finds the libtorch and LibTorchSharp natives that belong to this build and loads them by absolute path.
/// </summary>
/// <remarks>
/// Inside an app, TorchSharp finds natives through the deps file; inside a notebook kernel it falls back to a bare
/// <c>dlopen("torch_cpu")</c>, which picks up a system libtorch (Debian's <c>libtorch-dev</c>) if one is installed and
/// then fails with undefined symbols. Loading ours first by absolute path makes every later bare-name lookup resolve
/// to the already-loaded copy.
/// </remarks>
internal sealed class NativeLocator
{
    private static readonly string[] CpuLibraries = ["c10", "torch_cpu", "torch"];
    private static readonly string[] CudaLibraries = ["c10", "c10_cuda", "torch_cpu", "torch_cuda", "torch"];

    public required string Directory { get; init; }
    public required string TorchSharpDirectory { get; init; }
    public required bool HasCuda { get; init; }
    public string TorchSharpNative => FileFor(TorchSharpDirectory, "LibTorchSharp");

    /// <summary>Searches next to the kit's assemblies, then <c>DPAG_LIBTORCH_DIR</c> for an external libtorch.</summary>
    public static NativeLocator Find()
    {
        string rid = RuntimeRid();
        var roots = new[] { typeof(NativeLocator).Assembly, typeof(TorchSharp.torch).Assembly, Assembly.GetEntryAssembly() }
            .Where(a => a is not null && !string.IsNullOrEmpty(a.Location))
            .Select(a => Path.GetDirectoryName(a!.Location)!)
            .Distinct()
            .ToList();
        var candidates = roots.SelectMany(r => new[] { Path.Combine(r, "runtimes", rid, "native"), r }).ToList();

        string? sharp = candidates.FirstOrDefault(d => File.Exists(FileFor(d, "LibTorchSharp")));
        string? external = Environment.GetEnvironmentVariable("DPAG_LIBTORCH_DIR");
        string? torchDir = !string.IsNullOrEmpty(external) ? external : candidates.FirstOrDefault(d => File.Exists(FileFor(d, "torch_cpu")));

        if (sharp is null || torchDir is null || !File.Exists(FileFor(torchDir, "torch_cpu")))
        {
            string missing = sharp is null ? LibraryFile("LibTorchSharp") : LibraryFile("torch_cpu");
            throw new TorchRuntimeException(
                $"Could not find {missing} for {rid} (searched: {string.Join(", ", candidates)}" +
                (external is null ? "" : $", DPAG_LIBTORCH_DIR={external}") + "). " +
                "Build the kit with `./scripts/setup.sh` (or `dotnet build`), which restores TorchSharp and the " +
                "libtorch-cpu natives for this platform; on a GPU machine build with -p:TorchBackend=cuda.");
        }
        return new NativeLocator
        {
            Directory = torchDir,
            TorchSharpDirectory = sharp,
            HasCuda = File.Exists(FileFor(torchDir, "torch_cuda")),
        };
    }

    /// <summary>Loads libtorch in dependency order, then LibTorchSharp, all by absolute path.</summary>
    public void Preload()
    {
        foreach (var name in HasCuda ? CudaLibraries : CpuLibraries)
            Load(FileFor(Directory, name));
        Load(TorchSharpNative);
    }

    /// <summary>
    /// TorchSharp copies natives into a consolidated <c>cpu/</c> folder beside TorchSharp.dll when its own load fails,
    /// and never refreshes that copy; a stale one would shadow a fixed build.
    /// </summary>
    public void RemoveStaleConsolidatedCopy()
    {
        var torchSharpDir = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location);
        if (string.IsNullOrEmpty(torchSharpDir)) return;
        foreach (var name in new[] { "cpu", "cuda" })
        {
            var stale = Path.Combine(torchSharpDir, name);
            if (System.IO.Directory.Exists(stale))
            {
                try { System.IO.Directory.Delete(stale, recursive: true); }
                catch (IOException) { /* in use by another process: harmless, our preload wins anyway */ }
            }
        }
    }

    private static void Load(string path)
    {
        try
        {
            NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new TorchRuntimeException(Explain(path, e.Message), e);
        }
    }

    private static string Explain(string path, string error)
    {
        // .NET wraps dlerror()'s one line in a paragraph of generic advice; the dlerror line is what names the fault.
        string reason = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .LastOrDefault(l => l.Contains(Path.GetFileName(path), StringComparison.Ordinal)) ?? error.Trim();
        string? external = Environment.GetEnvironmentVariable("DPAG_LIBTORCH_DIR");
        string fix = reason.Contains("GLIBCXX", StringComparison.Ordinal)
            ? "The system libstdc++ is older than the one TorchSharp was linked with and the automatic fix could not apply. " +
              "Install a newer libstdc++ (conda: `conda env create -f environment.yml`; Debian/Ubuntu: GCC 13's libstdc++6)."
            : reason.Contains("undefined symbol", StringComparison.Ordinal)
                ? "Another libtorch was loaded first (a system libtorch such as Debian's libtorch-dev, or a second TorchSharp). " +
                  "Call DpAg's runtime initialisation before any torch call, and restart the process or notebook kernel."
                : !string.IsNullOrEmpty(external) && path.StartsWith(external, StringComparison.Ordinal)
                    ? $"DPAG_LIBTORCH_DIR={external} must hold a complete libtorch 2.10 lib folder for this platform; fix it or unset it to use the kit's own natives."
                    : "Rebuild the kit (`./scripts/setup.sh`) so that the natives are restored and copied next to DpAg.dll.";
        return $"Could not load {path}: {reason.TrimEnd('.')}. {fix}";
    }

    internal static string LibraryFile(string name) =>
        OperatingSystem.IsWindows() ? $"{name}.dll" : OperatingSystem.IsMacOS() ? $"lib{name}.dylib" : $"lib{name}.so";

    private static string FileFor(string dir, string name) => Path.Combine(dir, LibraryFile(name));

    /// <summary>The runtime identifier of this process (linux-x64, osx-arm64, ...), as NuGet lays out native assets.</summary>
    internal static string RuntimeRid()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm64 => "arm64",
            _ => "x64",
        };
        return $"{os}-{arch}";
    }
}
