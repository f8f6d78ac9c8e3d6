using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DpAg.Policies;

namespace DpAg.Benchmarks;

/// <summary>What running the reference produced: exit code, standard output and standard error.</summary>
/// <param name="ExitCode">The interpreter's exit status (124 when it was stopped at the timeout).</param>
/// <param name="Stdout">Everything printed on standard output.</param>
/// <param name="Stderr">Everything printed on standard error.</param>
public sealed record ReferenceRun(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// The PyTorch reference of the kit's networks and losses (bench/reference/ in the repository): finds the interpreter
/// and the scripts, runs them, and reads their results. Used by <c>dpag bench --pytorch</c> for the side-by-side timing
/// and by the cross-check test (identical weights and inputs give identical outputs and losses).
/// </summary>
public static class PyTorchReference
{
    /// <summary>The interpreter used by default: Debian's, which has python3-torch (the PATH's python3 may be another one).</summary>
    public const string DefaultPython = "/usr/bin/python3";

    /// <summary>How to get the reference's dependency on Debian.</summary>
    public const string InstallHint = "apt-get install python3-torch";

    /// <summary>
    /// The folder holding bench.py and crosscheck.py: <c>DPAG_REFERENCE_DIR</c> when set, otherwise bench/reference
    /// found by walking up from the working directory and from the assembly's folder; null when none is found.
    /// </summary>
    public static string? FindScripts()
    {
        var env = Environment.GetEnvironmentVariable("DPAG_REFERENCE_DIR");
        if (!string.IsNullOrEmpty(env)) return File.Exists(Path.Combine(env, "bench.py")) ? Path.GetFullPath(env) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "bench", "reference");
                if (File.Exists(Path.Combine(candidate, "bench.py"))) return candidate;
            }
        return null;
    }

    /// <summary>The torch version <paramref name="python"/> imports, or null (with the reason) when it cannot.</summary>
    public static (string? Version, string Detail) Probe(string python = DefaultPython)
    {
        if (!File.Exists(python)) return (null, $"{python} not found ({InstallHint})");
        var run = Run(python, ["-c", "import torch; print(torch.__version__)"], TimeSpan.FromSeconds(60));
        return run.ExitCode == 0 ? (run.Stdout.Trim(), "ok") : (null, $"{python} cannot import torch ({InstallHint}): {LastLine(run.Stderr)}");
    }

    /// <summary>Runs <paramref name="python"/> with <paramref name="arguments"/>; stops it at <paramref name="timeout"/> (exit code 124).</summary>
    public static ReferenceRun Run(string python, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ReferenceRun(124, stdout.Result, stderr.Result + $"\nstopped after {timeout.TotalSeconds:F0} s");
        }
        return new ReferenceRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The policy shape as the JSON that bench/reference/dpag_reference.py's <c>Config</c> reads (low-dim observations).</summary>
    /// <exception cref="ArgumentException">The config has image observations (the reference covers the low-dim policies).</exception>
    public static string ConfigJson(DiffusionPolicyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Observation != ObservationKind.LowDim)
            throw new ArgumentException($"Observation = {config.Observation}: the PyTorch reference covers low-dim policies; use a low-dim size preset.");
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["obs_dim"] = config.LowDimObsDim, ["action_dim"] = config.ActionDim, ["obs_steps"] = config.ObsSteps, ["horizon"] = config.Horizon,
            ["down_dims"] = config.Unet.DownDims, ["step_embed_dim"] = config.Unet.DiffusionStepEmbedDim, ["kernel_size"] = config.Unet.KernelSize,
            ["n_groups"] = config.Unet.NGroups, ["cond_predict_scale"] = config.Unet.CondPredictScale, ["num_train_timesteps"] = config.NumTrainTimesteps,
        });
    }

    /// <summary>
    /// PyTorch's milliseconds per training step for the same variants as <see cref="KitBenchmarks.TrainSteps"/> (same
    /// names, shapes, float32, batch, threads and interleaved rounds), from bench/reference/bench.py.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scripts are not found or the run fails; the message says why.</exception>
    public static (string TorchVersion, IReadOnlyList<BenchResult> Results) TrainSteps(DiffusionPolicyConfig size, int batchSize, int stepsPerRound, int rounds, int threads, string device, string python = DefaultPython, TimeSpan? timeout = null)
    {
        var scripts = FindScripts() ?? throw new InvalidOperationException("bench/reference/bench.py not found: run from the repository or set DPAG_REFERENCE_DIR.");
        var run = Run(python,
        [
            Path.Combine(scripts, "bench.py"), "--config", ConfigJson(size),
            "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture), "--steps", stepsPerRound.ToString(CultureInfo.InvariantCulture),
            "--rounds", rounds.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture), "--device", device,
        ], timeout ?? TimeSpan.FromMinutes(30));
        if (run.ExitCode != 0) throw new InvalidOperationException($"PyTorch reference bench failed (exit {run.ExitCode}): {LastLine(run.Stderr)}");
        using var doc = JsonDocument.Parse(run.Stdout.Trim().Split('\n').Last());
        var results = doc.RootElement.GetProperty("results").EnumerateArray().Select(r => new BenchResult(
            "PyTorch " + r.GetProperty("name").GetString(), r.GetProperty("median").GetDouble(), r.GetProperty("min").GetDouble(),
            r.GetProperty("max").GetDouble(), r.GetProperty("unit").GetString() ?? "ms")).ToList();
        return (doc.RootElement.GetProperty("torch").GetString() ?? "?", results);
    }

    /// <summary>
    /// Resident memory of PyTorch training one variant (0 DP, 1 DP-AG, 2 DP-AG the released way) for
    /// <paramref name="steps"/> steps in a fresh interpreter: the size before the model is built and the process peak.
    /// </summary>
    public static (long BeforeBytes, long PeakBytes) TrainingMemory(DiffusionPolicyConfig size, int variant, int batchSize, int steps, int threads, string python = DefaultPython)
    {
        var scripts = FindScripts() ?? throw new InvalidOperationException("bench/reference/bench.py not found: run from the repository or set DPAG_REFERENCE_DIR.");
        var run = Run(python,
        [
            Path.Combine(scripts, "bench.py"), "--config", ConfigJson(size), "--measure-memory", variant.ToString(CultureInfo.InvariantCulture),
            "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture),
        ], TimeSpan.FromMinutes(10));
        if (run.ExitCode != 0) throw new InvalidOperationException($"PyTorch reference memory run failed (exit {run.ExitCode}): {LastLine(run.Stderr)}");
        using var doc = JsonDocument.Parse(run.Stdout.Trim().Split('\n').Last());
        return (doc.RootElement.GetProperty("before").GetInt64(), doc.RootElement.GetProperty("peak").GetInt64());
    }

    /// <summary>
    /// zarr-python's cost of loading <paramref name="store"/> into numpy (bench/reference/load_dataset.py, the way
    /// diffusion_policy's ReplayBuffer.copy_from_path loads the image dataset) in a fresh interpreter; null (with the
    /// reason) when the interpreter has no zarr.
    /// </summary>
    public static (DatasetLoadBenchmark.Result? Result, string Detail) DatasetLoad(string store, string python = DefaultPython)
    {
        var scripts = FindScripts();
        if (scripts is null) return (null, "bench/reference not found");
        if (!File.Exists(python)) return (null, $"{python} not found");
        var run = Run(python, [Path.Combine(scripts, "load_dataset.py"), store], TimeSpan.FromMinutes(10));
        if (run.ExitCode != 0) return (null, $"load_dataset.py failed (apt-get install python3-zarr): {LastLine(run.Stderr)}");
        using var doc = JsonDocument.Parse(run.Stdout.Trim().Split('\n').Last());
        var r = doc.RootElement;
        return (new DatasetLoadBenchmark.Result(r.GetProperty("frames").GetInt32(), r.GetProperty("seconds").GetDouble(),
            r.GetProperty("before").GetInt64(), r.GetProperty("peak").GetInt64(), r.GetProperty("data_bytes").GetInt64()),
            $"zarr {r.GetProperty("zarr").GetString()}");
    }

    private static string LastLine(string text) => text.Trim().Split('\n').LastOrDefault() ?? "";
}

/// <summary>
/// A running bench/reference/bench.py in serve mode: the PyTorch side of the training-step benchmark, one round per
/// <see cref="RunRound"/>, so that its rounds alternate with the kit's (<see cref="KitBenchmarks.TrainSteps"/>'s
/// afterRound hook) and machine noise hits both alike.
/// </summary>
public sealed class PyTorchTrainSession : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr;

    private PyTorchTrainSession(Process process, StringBuilder stderr, string torchVersion, int threads, IReadOnlyList<string> names)
    {
        _process = process;
        _stderr = stderr;
        TorchVersion = torchVersion;
        Threads = threads;
        Names = names;
    }

    /// <summary>torch.__version__ of the reference.</summary>
    public string TorchVersion { get; }

    /// <summary>The reference's intra-op thread count (torch.get_num_threads after setting it).</summary>
    public int Threads { get; }

    /// <summary>The variant names, in the order of <see cref="RunRound"/>'s results (the kit's names).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Starts the reference with the same shapes, batch, steps per round, threads and device as the kit's run.</summary>
    /// <exception cref="InvalidOperationException">The scripts are not found, or the reference does not start (its error is in the message).</exception>
    public static PyTorchTrainSession Start(DiffusionPolicyConfig size, int batchSize, int stepsPerRound, int threads, string device, string python = PyTorchReference.DefaultPython)
    {
        var scripts = PyTorchReference.FindScripts() ?? throw new InvalidOperationException("bench/reference/bench.py not found: run from the repository or set DPAG_REFERENCE_DIR.");
        var psi = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            Path.Combine(scripts, "bench.py"), "--serve", "--config", PyTorchReference.ConfigJson(size),
            "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture), "--steps", stepsPerRound.ToString(CultureInfo.InvariantCulture),
            "--threads", threads.ToString(CultureInfo.InvariantCulture), "--device", device,
        }) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {python}.");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        var ready = process.StandardOutput.ReadLine();
        if (ready is null)
        {
            process.WaitForExit();
            lock (stderr) throw new InvalidOperationException($"The PyTorch reference did not start (exit {process.ExitCode}): {stderr.ToString().Trim().Split('\n').LastOrDefault()}");
        }
        using var doc = JsonDocument.Parse(ready);
        var root = doc.RootElement;
        return new PyTorchTrainSession(process, stderr, root.GetProperty("torch").GetString() ?? "?", root.GetProperty("threads").GetInt32(),
            root.GetProperty("names").EnumerateArray().Select(n => n.GetString() ?? "?").ToList());
    }

    /// <summary>Runs one round (every variant, steps per round each); milliseconds per step, in <see cref="Names"/> order.</summary>
    /// <exception cref="InvalidOperationException">The reference stopped; its last error line is in the message.</exception>
    public double[] RunRound()
    {
        _process.StandardInput.WriteLine("round");
        _process.StandardInput.Flush();
        var line = _process.StandardOutput.ReadLine();
        if (line is null)
        {
            _process.WaitForExit();
            lock (_stderr) throw new InvalidOperationException($"The PyTorch reference stopped (exit {_process.ExitCode}): {_stderr.ToString().Trim().Split('\n').LastOrDefault()}");
        }
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("ms").EnumerateArray().Select(x => x.GetDouble()).ToArray();
    }

    /// <summary>Asks the reference to finish, and stops it if it does not within 10 s.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(10_000)) _process.Kill(entireProcessTree: true);
            }
        }
        catch (IOException) { }
        _process.Dispose();
    }
}
