using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using DpAg.Benchmarks;
using DpAg.IO;
using DpAg.Policies;

namespace DpAg.Cli;

/// <summary><c>dpag bench</c>: the kit's speed, measured side by side in one run and reported as ratios.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Network size for the train-step and latency runs: tiny, small, pusht-lowdim.", DefaultValueFactory = _ => "small" };
        var batch = new Option<int>("--batch-size") { Description = "Training batch size.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Training steps per round.", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved rounds (medians are reported).", DefaultValueFactory = _ => 5 };
        var output = new Option<string>("--output") { Description = "Report folder.", DefaultValueFactory = _ => "artifacts/bench" };
        var command = new Command("bench", "Measure training-step time (DP, DP-AG, DP-AG the released code's way), action-chunk latency per sampler and simulator speed; writes report.md and report.json.")
        {
            size, batch, steps, rounds, output,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var config = DiffusionPolicyConfig.FromPreset(parse.GetValue(size)!).Validate();
            int r = parse.GetValue(rounds), s = parse.GetValue(steps), b = parse.GetValue(batch);
            if (r < 1 || s < 1 || b < 1) throw new ArgumentException($"--rounds, --steps and --batch-size must be positive; got {r}, {s}, {b}.");
            var info = Commands.InitRuntime(parse);
            Console.Error.WriteLine($"dpag bench: {parse.GetValue(size)} U-Net, batch {b}, {r} rounds of {s} steps on {info.Device.type}");
            var train = KitBenchmarks.TrainSteps(config, b, s, r, info.Device);
            var latency = KitBenchmarks.SamplingLatency(config, [1, 56], [(SamplerKind.Ddpm, 100), (SamplerKind.Ddim, 16), (SamplerKind.Ddim, 8), (SamplerKind.Ddim, 4)], r, info.Device);
            var sim = KitBenchmarks.SimulatorSpeed(3000, r);
            var all = train.Concat(latency).Append(sim).ToList();
            double Get(string name) => all.Single(x => x.Name == name).Median;
            var ratios = new Dictionary<string, double>
            {
                ["DP-AG (kit) / DP train step"] = Get("train step DP-AG (kit)") / Get("train step DP"),
                ["DP-AG (kit) / DP-AG (released code's way) train step"] = Get("train step DP-AG (kit)") / Get("train step DP-AG (released code's way)"),
                ["DDPM 100 / DDIM 8 chunk latency, batch 1"] = Get("chunk DDPM 100 steps, batch 1") / Get("chunk DDIM 8 steps, batch 1"),
                ["DDPM 100 / DDIM 8 chunk latency, batch 56"] = Get("chunk DDPM 100 steps, batch 56") / Get("chunk DDIM 8 steps, batch 56"),
            };
            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {info.Threads} torch threads, device {info.Device.type}";
            var md = new StringBuilder();
            md.AppendLine("# dpag bench").AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {machine}");
            md.AppendLine(CultureInfo.InvariantCulture, $"- U-Net size: {parse.GetValue(size)} (down dims {string.Join("/", config.DownDims)}), training batch {b}, {r} interleaved rounds of {s} steps; medians (min-max)").AppendLine();
            md.AppendLine("| measurement | median | min | max | unit |").AppendLine("| --- | ---: | ---: | ---: | --- |");
            foreach (var x in all) md.AppendLine(CultureInfo.InvariantCulture, $"| {x.Name} | {x.Median:G4} | {x.Min:G4} | {x.Max:G4} | {x.Unit} |");
            md.AppendLine().AppendLine("| ratio | value |").AppendLine("| --- | ---: |");
            foreach (var (k, v) in ratios) md.AppendLine(CultureInfo.InvariantCulture, $"| {k} | {v:F3} |");
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"A 10 Hz controller that replans every 8 actions has 800 ms per chunk; one that replans every step has 100 ms. Batch-1 DDIM 8 takes {Get("chunk DDIM 8 steps, batch 1"):F1} ms, DDPM 100 {Get("chunk DDPM 100 steps, batch 1"):F1} ms.");
            AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), md.ToString());
            AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(new { machine, date = DateTime.UtcNow, results = all, ratios }, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine(md.ToString());
            return 0;
        }));
        return command;
    }
}
