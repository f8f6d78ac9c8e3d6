using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using DpAg.Benchmarks;
using DpAg.Policies;
using DpAg.Runtime;

namespace DpAg.Cli;

/// <summary>
/// Measurements that need a fresh process, so that nothing the benchmark did before raises their memory peak: the
/// parent starts <c>dpag bench --child ...</c>, which measures one thing and prints one JSON line.
/// </summary>
internal static class BenchChild
{
    /// <summary>Child side: runs <paramref name="measurement"/> ("train-memory:size:variant:batch" or "dataset-load:path").</summary>
    public static int Run(string measurement, RuntimeInfo info)
    {
        var parts = measurement.Split(':', 2);
        object result = parts[0] switch
        {
            "train-memory" => TrainMemory(parts[1].Split(':'), info),
            "dataset-load" => DatasetLoadBenchmark.MeasureLoad(parts[1]),
            _ => throw new ArgumentException($"--child {measurement}: unknown measurement (train-memory, dataset-load)."),
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    private static object TrainMemory(string[] args, RuntimeInfo info)
    {
        var config = DiffusionPolicyConfig.FromPreset(args[0]).Validate();
        int variant = int.Parse(args[1], CultureInfo.InvariantCulture), batch = int.Parse(args[2], CultureInfo.InvariantCulture);
        var (before, peak) = KitBenchmarks.TrainingMemory(config, variant, batch, steps: 2, info.Device);
        return new { before, peak };
    }

    /// <summary>Parent side: the kit's resident size before the model and its peak, training one variant for 2 steps.</summary>
    public static (long Before, long Peak) TrainingMemory(string size, int variant, int batch, int threads, string device)
    {
        using var doc = Start(threads, device, "train-memory:" + string.Join(':', size, variant.ToString(CultureInfo.InvariantCulture), batch.ToString(CultureInfo.InvariantCulture)));
        return (doc.RootElement.GetProperty("before").GetInt64(), doc.RootElement.GetProperty("peak").GetInt64());
    }

    /// <summary>Parent side: loading <paramref name="store"/> as an image dataset in a fresh process.</summary>
    public static DatasetLoadBenchmark.Result DatasetLoad(string store, int threads)
    {
        using var doc = Start(threads, "cpu", "dataset-load:" + store);
        return doc.RootElement.Deserialize<DatasetLoadBenchmark.Result>()
               ?? throw new InvalidOperationException("dpag bench --child dataset-load printed nothing.");
    }

    private static JsonDocument Start(int threads, string device, string measurement)
    {
        var cli = Assembly.GetEntryAssembly()?.Location;
        if (string.IsNullOrEmpty(cli)) throw new InvalidOperationException("Cannot find the dpag assembly to start a measurement process.");
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { cli, "bench", "--device", device, "--threads", threads.ToString(CultureInfo.InvariantCulture), "--child", measurement })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the measurement process.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dpag bench --child {measurement} failed (exit {process.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
        return JsonDocument.Parse(stdout.Trim().Split('\n').Last());
    }
}
