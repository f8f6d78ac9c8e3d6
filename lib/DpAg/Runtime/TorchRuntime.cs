using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Runtime;

/// <summary>Which device the caller wants. <see cref="Auto"/> takes CUDA when the build and the machine have it.</summary>
public enum DeviceRequest { Auto, Cpu, Cuda }

/// <summary>Options for <see cref="TorchRuntime.Initialize"/>; every field can also come from an environment variable.</summary>
/// <param name="Device">Device wanted (env <c>DPAG_DEVICE</c> = auto | cpu | cuda).</param>
/// <param name="AllowCpuFallback">With <see cref="DeviceRequest.Cuda"/>: fall back to the CPU instead of failing (env <c>DPAG_ALLOW_CPU_FALLBACK=1</c>).</param>
/// <param name="Threads">Intra-op threads; default all cores (env <c>DPAG_THREADS</c>).</param>
/// <param name="Seed">Seed for torch's generators; null leaves them alone.</param>
/// <param name="Quiet">Suppress the one-line summary on standard error.</param>
public sealed record RuntimeOptions(
    DeviceRequest? Device = null,
    bool? AllowCpuFallback = null,
    int? Threads = null,
    long? Seed = null,
    bool Quiet = false);

/// <summary>What <see cref="TorchRuntime.Initialize"/> set up.</summary>
public sealed record RuntimeInfo(Device Device, string DeviceReason, int Threads, long? Seed, string NativeDirectory, string Backend, IReadOnlyList<string> Patched)
{
    /// <summary>One line for logs and notebooks.</summary>
    public string Summary =>
        $"DpAg: device {Device.type.ToString().ToLowerInvariant()} ({DeviceReason}); {Threads} thread{(Threads == 1 ? "" : "s")}; " +
        $"seed {(Seed?.ToString() ?? "unset")}; {Backend} natives from {NativeDirectory}" +
        (Patched.Count > 0 ? $"; applied the libstdc++ compatibility fix ({string.Join(", ", Patched)})" : "");
}

/// <summary>Raised when TorchSharp cannot be made to work; the message says what is wrong and how to fix it.</summary>
public sealed class TorchRuntimeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The one entry point that notebooks, the CLI and tests call before any <c>torch</c> call: loads the kit's own
/// libtorch natives by absolute path (so a system libtorch can never be picked up), applies the libstdc++
/// compatibility fix where the system needs it, chooses the device, sets threads and seeds.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static RuntimeInfo? _info;
    private static Exception? _failure;

    /// <summary>The state after a successful <see cref="Initialize"/>, else null.</summary>
    public static RuntimeInfo? Current => _info;

    /// <summary>Initialises once per process; later calls only re-seed (and re-set threads) and return the same info.</summary>
    public static RuntimeInfo Initialize(RuntimeOptions? options = null)
    {
        options ??= new RuntimeOptions();
        lock (Gate)
        {
            // A failed native load poisons torch's type initializer for the life of the process.
            if (_failure is not null)
                throw new TorchRuntimeException(
                    "An earlier TorchSharp initialisation failed in this process; restart it (in a notebook: restart the kernel). " +
                    $"First error: {_failure.Message}", _failure);
            bool first = _info is null;
            try
            {
                _info ??= InitializeOnce(options);
            }
            catch (Exception e)
            {
                _failure = e;
                throw;
            }
            if (first)
            {
                // DPAG_ONEDNN=off: PyTorch's own CPU convolutions instead of oneDNN's (ConvolutionGuard switches by itself
                // for a U-Net this CPU's oneDNN computes wrongly; this rules oneDNN out for a whole process).
                switch (Environment.GetEnvironmentVariable("DPAG_ONEDNN")?.Trim().ToLowerInvariant())
                {
                    case null or "" or "on": break;
                    case "off": OneDnn.TurnOff("DPAG_ONEDNN=off asks for it"); break;
                    case var other: throw new TorchRuntimeException($"DPAG_ONEDNN = '{other}' is not understood: use off (PyTorch's own CPU convolutions) or on (the default, oneDNN).");
                }
            }
            int threads = options.Threads ?? EnvInt("DPAG_THREADS") ?? _info.Threads;
            if (threads != torch.get_num_threads()) torch.set_num_threads(threads);
            if (options.Seed is { } seed) Seed(seed);
            _info = _info with { Threads = threads, Seed = options.Seed ?? _info.Seed };
            if (first && !options.Quiet) Console.Error.WriteLine(_info.Summary);
            return _info;
        }
    }

    /// <summary>Seeds torch's CPU (and CUDA) generators.</summary>
    public static void Seed(long seed)
    {
        torch.manual_seed(seed);
        if (_info?.Device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);
    }

    private static RuntimeInfo InitializeOnce(RuntimeOptions options)
    {
        var request = options.Device ?? ParseDevice(Environment.GetEnvironmentVariable("DPAG_DEVICE"));
        bool fallback = options.AllowCpuFallback ?? Environment.GetEnvironmentVariable("DPAG_ALLOW_CPU_FALLBACK") is "1" or "true";
        NativeAssets.RegisterResolvers();
        var natives = NativeLocator.Find();
        var patched = new List<string>();
        if (OperatingSystem.IsLinux())
        {
            patched.AddRange(LibStdCxxCompat.EnsureLoadable(natives.TorchSharpNative));
            natives.RemoveStaleConsolidatedCopy();
        }
        natives.Preload();

        try
        {
            // The first touch of the torch type runs TorchSharp's own loader, which now finds our handles.
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e)
        {
            throw new TorchRuntimeException(
                $"TorchSharp failed to initialise although its natives loaded from {natives.Directory}: {Innermost(e).Message}. " +
                "Restart the process (or the notebook kernel) after fixing the cause.", e);
        }

        var (device, reason) = ChooseDevice(request, fallback, natives.HasCuda);
        int threads = options.Threads ?? EnvInt("DPAG_THREADS") ?? Environment.ProcessorCount;
        torch.set_num_threads(threads);
        return new RuntimeInfo(device, reason, threads, null, natives.Directory, natives.HasCuda ? "cuda" : "cpu", patched);
    }

    private static (Device, string) ChooseDevice(DeviceRequest request, bool fallback, bool builtForCuda)
    {
        if (request == DeviceRequest.Cpu) return (torch.CPU, "requested");
        string? whyNot = null;
        if (!builtForCuda) whyNot = "this build has the CPU natives only; rebuild with -p:TorchBackend=cuda for an NVIDIA GPU";
        else
        {
            try
            {
                torch.InitializeDeviceType(DeviceType.CUDA);
                if (!torch.cuda.is_available()) whyNot = "no CUDA device is visible";
            }
            catch (Exception e) { whyNot = $"the CUDA backend did not initialise: {Innermost(e).Message}"; }
        }
        if (whyNot is null) return (torch.CUDA, request == DeviceRequest.Cuda ? "requested" : "CUDA device found");
        if (request == DeviceRequest.Cuda && !fallback)
            throw new TorchRuntimeException(
                $"CUDA was requested but {whyNot}. Use --device cpu (or DPAG_DEVICE=cpu), or allow the fallback with " +
                "--allow-cpu-fallback (DPAG_ALLOW_CPU_FALLBACK=1).");
        return (torch.CPU, whyNot + (request == DeviceRequest.Cuda ? "; falling back to the CPU as allowed" : ""));
    }

    /// <summary>
    /// Says where every libtorch mapped into this process comes from (Linux): "the kit's own libtorch" when all are
    /// from the kit's build, else the foreign paths. Notebooks and tests use it to prove a system libtorch was not used.
    /// </summary>
    public static string DescribeMappedLibTorch()
    {
        if (!MappedFiles.Available) return "no /proc/self/maps on this platform";
        var paths = MappedFiles.List()
            .Where(p => Path.GetFileName(p).StartsWith("libtorch", StringComparison.Ordinal) || Path.GetFileName(p).StartsWith("libc10", StringComparison.Ordinal))
            .ToList();
        string? own = _info?.NativeDirectory;
        var foreign = paths.Where(p => own is null || !p.StartsWith(own, StringComparison.Ordinal)).ToList();
        return foreign.Count == 0
            ? $"all {paths.Count} libtorch libraries mapped are the kit's own libtorch ({own})"
            : $"FOREIGN libtorch mapped: {string.Join(", ", foreign)}";
    }

    /// <summary>Parses a device name as given on a command line or in <c>DPAG_DEVICE</c>.</summary>
    public static DeviceRequest ParseDevice(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => DeviceRequest.Auto,
        "cpu" => DeviceRequest.Cpu,
        "cuda" or "gpu" => DeviceRequest.Cuda,
        _ => throw new ArgumentException($"Unknown device '{text}'. Use auto, cpu or cuda (option --device or DPAG_DEVICE)."),
    };

    private static int? EnvInt(string name)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (int.TryParse(text, out int value) && value > 0) return value;
        throw new ArgumentException($"{name}='{text}' is not a positive whole number.");
    }

    internal static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
