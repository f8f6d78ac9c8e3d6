using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using DpAg.Benchmarks;
using DpAg.IO;
using DpAg.Policies;
using TorchSharp;

namespace DpAg.Cli;

/// <summary>
/// <c>dpag bench</c>: the kit's speed, measured side by side in one run and reported as ratios; with the PyTorch
/// reference (bench/reference/) found, PyTorch's training steps run in the same run, their rounds alternating with the
/// kit's, and the report checks the speed targets of issue 7.
/// </summary>
internal static class BenchCommand
{
    /// <summary>A speed target: the ratio's name, its bound, and whether the value must stay below or above it.</summary>
    private sealed record Target(string Ratio, double Bound, bool AtMost);

    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Network size for the train-step and latency runs: tiny, small, pusht-lowdim.", DefaultValueFactory = _ => "small" };
        var batch = new Option<int>("--batch-size") { Description = "Training batch size.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Training steps per round.", DefaultValueFactory = _ => 3 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved training rounds (medians are reported).", DefaultValueFactory = _ => 5 };
        var latencyRounds = new Option<int>("--latency-rounds") { Description = "Interleaved rounds of the action-chunk latency runs (DDPM 100 at batch 56 dominates the run time).", DefaultValueFactory = _ => 3 };
        var pytorch = new Option<bool>("--pytorch") { Description = "Require the PyTorch reference (bench/reference/bench.py with --python); by default it runs when found." };
        var noPytorch = new Option<bool>("--no-pytorch") { Description = "Skip the PyTorch reference." };
        var python = new Option<string>("--python") { Description = "Interpreter with torch for the reference.", DefaultValueFactory = _ => PyTorchReference.DefaultPython };
        var output = new Option<string>("--output") { Description = "Report folder.", DefaultValueFactory = _ => "artifacts/bench" };
        var command = new Command("bench", "Measure training-step time (DP, DP-AG, DP-AG the released code's way) of the kit and of the PyTorch reference, action-chunk latency per sampler and simulator speed; writes report.md and report.json.")
        {
            size, batch, steps, rounds, latencyRounds, pytorch, noPytorch, python, output,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var config = DiffusionPolicyConfig.FromPreset(parse.GetValue(size)!).Validate();
            int r = parse.GetValue(rounds), s = parse.GetValue(steps), b = parse.GetValue(batch), lr = parse.GetValue(latencyRounds);
            if (r < 1 || s < 1 || b < 1 || lr < 1) throw new ArgumentException($"--rounds, --steps, --batch-size and --latency-rounds must be positive; got {r}, {s}, {b}, {lr}.");
            if (parse.GetValue(pytorch) && parse.GetValue(noPytorch)) throw new ArgumentException("--pytorch and --no-pytorch exclude each other; give one.");
            Commands.RequirePhysicsEngine();
            var info = Commands.InitRuntime(parse);
            string deviceName = info.Device.type == DeviceType.CUDA ? "cuda" : "cpu";

            // The PyTorch reference: required with --pytorch, skipped with --no-pytorch, otherwise used when found.
            PyTorchTrainSession? reference = null;
            string referenceNote;
            if (parse.GetValue(noPytorch)) referenceNote = "PyTorch reference: skipped (--no-pytorch).";
            else
            {
                string py = parse.GetValue(python)!;
                var (version, detail) = PyTorchReference.Probe(py);
                string? scripts = PyTorchReference.FindScripts();
                string? problem = version is null ? detail : scripts is null ? "bench/reference/bench.py not found (run from the repository or set DPAG_REFERENCE_DIR)" : null;
                if (problem is not null && parse.GetValue(pytorch)) throw new InvalidOperationException($"--pytorch: {problem}.");
                if (problem is null)
                {
                    reference = PyTorchTrainSession.Start(config, b, s, info.Threads, deviceName, py);
                    referenceNote = $"PyTorch reference: torch {reference.TorchVersion} ({py}, {Path.GetRelativePath(Environment.CurrentDirectory, scripts ?? ".")}), {reference.Threads} threads, device {deviceName}; its rounds alternate with the kit's (kit round, PyTorch round, ...).";
                }
                else referenceNote = $"PyTorch reference: not run ({problem}).";
            }
            Console.Error.WriteLine($"dpag bench: {parse.GetValue(size)} U-Net, batch {b}, {r} rounds of {s} steps on {info.Device.type}; {referenceNote}");

            var referenceSamples = new List<double[]>();
            IReadOnlyList<BenchResult> train;
            using (reference)
            {
                train = KitBenchmarks.TrainSteps(config, b, s, r, info.Device, reference is null ? null : round =>
                {
                    var ms = reference.RunRound();
                    if (round >= 0) referenceSamples.Add(ms);
                });
            }
            var referenceRows = reference is null ? [] : reference.Names.Select((name, i) =>
                KitBenchmarks.Summarize("PyTorch " + name, referenceSamples.Select(x => x[i]).ToList(), "ms")).ToList();
            var latency = KitBenchmarks.SamplingLatency(config, [1, 56], [(SamplerKind.Ddpm, 100), (SamplerKind.Ddim, 16), (SamplerKind.Ddim, 8), (SamplerKind.Ddim, 4)], lr, info.Device);
            var sim = KitBenchmarks.SimulatorSpeed(3000, r);
            var all = train.Concat(referenceRows).Concat(latency).Append(sim).ToList();
            double Get(string name) => all.Single(x => x.Name == name).Median;
            var ratios = new Dictionary<string, double>
            {
                ["DP-AG (kit) / DP train step"] = Get("train step DP-AG (kit)") / Get("train step DP"),
                ["DP-AG (kit) / DP-AG (released code's way) train step"] = Get("train step DP-AG (kit)") / Get("train step DP-AG (released code's way)"),
                ["DDPM 100 / DDIM 8 chunk latency, batch 1"] = Get("chunk DDPM 100 steps, batch 1") / Get("chunk DDIM 8 steps, batch 1"),
                ["DDPM 100 / DDIM 8 chunk latency, batch 56"] = Get("chunk DDPM 100 steps, batch 56") / Get("chunk DDIM 8 steps, batch 56"),
            };
            var targets = new List<Target>
            {
                new("DP-AG (kit) / DP train step", 1.8, true),
                new("DP-AG (kit) / DP-AG (released code's way) train step", 0.9, true),
                new("DDPM 100 / DDIM 8 chunk latency, batch 1", 8, false),
                new("DDPM 100 / DDIM 8 chunk latency, batch 56", 8, false),
            };
            if (reference is not null)
            {
                foreach (var v in new[] { "DP", "DP-AG (kit)", "DP-AG (released code's way)" })
                    ratios[$"kit / PyTorch train step {v}"] = Get($"train step {v}") / Get($"PyTorch train step {v}");
                ratios["PyTorch DP-AG (kit) / DP train step"] = Get("PyTorch train step DP-AG (kit)") / Get("PyTorch train step DP");
                ratios["PyTorch DP-AG (kit) / DP-AG (released code's way) train step"] = Get("PyTorch train step DP-AG (kit)") / Get("PyTorch train step DP-AG (released code's way)");
                targets.InsertRange(0, [new("kit / PyTorch train step DP", 1.05, true), new("kit / PyTorch train step DP-AG (kit)", 1.05, true)]);
            }

            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {info.Threads} torch threads, device {info.Device.type}";
            var md = new StringBuilder();
            md.AppendLine("# dpag bench").AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {machine}");
            md.AppendLine(CultureInfo.InvariantCulture, $"- U-Net size: {parse.GetValue(size)} (down dims {string.Join("/", config.DownDims)}), float32, training batch {b}, {r} interleaved rounds of {s} steps; chunk latency {lr} rounds; medians (min-max)");
            md.AppendLine(CultureInfo.InvariantCulture, $"- {referenceNote}").AppendLine();
            md.AppendLine("| measurement | median | min | max | unit |").AppendLine("| --- | ---: | ---: | ---: | --- |");
            foreach (var x in all) md.AppendLine(CultureInfo.InvariantCulture, $"| {x.Name} | {x.Median:G4} | {x.Min:G4} | {x.Max:G4} | {x.Unit} |");
            md.AppendLine().AppendLine("| ratio | value |").AppendLine("| --- | ---: |");
            foreach (var (k, v) in ratios) md.AppendLine(CultureInfo.InvariantCulture, $"| {k} | {v:F3} |");
            var checks = targets.Select(t => new { target = t.Ratio, bound = (t.AtMost ? "<= " : ">= ") + t.Bound.ToString(CultureInfo.InvariantCulture), value = ratios[t.Ratio], verdict = Verdict(t, ratios[t.Ratio]) }).ToList();
            md.AppendLine().AppendLine("| target | bound | value | result |").AppendLine("| --- | ---: | ---: | --- |");
            foreach (var c in checks) md.AppendLine(CultureInfo.InvariantCulture, $"| {c.target} | {c.bound} | {c.value:F3} | {c.verdict} |");
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"A 10 Hz controller that replans every 8 actions has 800 ms per chunk; one that replans every step has 100 ms. Batch-1 DDIM 8 takes {Get("chunk DDIM 8 steps, batch 1"):F1} ms, DDPM 100 {Get("chunk DDPM 100 steps, batch 1"):F1} ms.");
            if (Environment.ProcessorCount <= 4)
                md.AppendLine().AppendLine("On a machine with this few cores, other processes move every number; compare ratios from one run, and rerun before trusting a miss.");
            AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), md.ToString());
            AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(new { machine, date = DateTime.UtcNow, reference = referenceNote, results = all, ratios, targets = checks }, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine(md.ToString());
            return 0;
        }));
        return command;
    }

    /// <summary>"pass", or "miss by X %" (how far the value is beyond the bound, relative to the bound).</summary>
    private static string Verdict(Target t, double value)
    {
        bool pass = t.AtMost ? value <= t.Bound : value >= t.Bound;
        if (pass) return "pass";
        double by = t.AtMost ? value / t.Bound - 1 : t.Bound / value - 1;
        return string.Create(CultureInfo.InvariantCulture, $"miss by {by * 100:F1} %");
    }
}
