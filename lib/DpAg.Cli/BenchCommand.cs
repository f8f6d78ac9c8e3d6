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
    private sealed record Target(string Ratio, double Bound, bool AtMost, bool Absolute = false);

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
        var paperRounds = new Option<int>("--paper-rounds") { Description = "Interleaved rounds of one step at the paper's sizes (pusht-lowdim with the PyTorch reference, pusht-image); 0 skips them.", DefaultValueFactory = _ => 2 };
        var memory = new Option<bool>("--memory") { Description = "Measure peak resident memory of training (each variant in a fresh process, kit and PyTorch); --memory false skips it.", DefaultValueFactory = _ => true };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "Episodes of the timed evaluation protocol (300 steps each, lockstep); 0 skips it.", DefaultValueFactory = _ => 50 };
        var datasetFrames = new Option<int>("--dataset-frames") { Description = "Frames of the synthetic image dataset whose loading is measured (the official Push-T size is 25650); 0 skips it.", DefaultValueFactory = _ => DatasetLoadBenchmark.OfficialFrames };
        var coverageRuns = new Option<string[]>("--coverage-run") { Description = "A trained run folder (dpag train or a notebook) to evaluate with DDPM 100 and DDIM 16/8/4 on the same test seeds; repeatable.", AllowMultipleArgumentsPerToken = true };
        var coverageEpisodes = new Option<int>("--coverage-episodes") { Description = "Test episodes per sampler for --coverage-run.", DefaultValueFactory = _ => 50 };
        var child = new Option<string?>("--child") { Description = "Internal: one measurement in a fresh process.", Hidden = true };
        var command = new Command("bench", "Measure training-step time (DP, DP-AG, DP-AG the released code's way) of the kit and of the PyTorch reference at a small and the paper's sizes, action-chunk latency per sampler, simulator speed, evaluation time, peak memory of training and of loading an official-size dataset, and (with --coverage-run) each sampler's coverage; writes report.md and report.json.")
        {
            size, batch, steps, rounds, latencyRounds, pytorch, noPytorch, python, output, paperRounds, memory, evalEpisodes,
            datasetFrames, coverageRuns, coverageEpisodes, child,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            if (parse.GetValue(child) is { } measurement) return BenchChild.Run(measurement, Commands.InitRuntime(parse));
            var config = DiffusionPolicyConfig.FromPreset(parse.GetValue(size)!).Validate();
            int r = parse.GetValue(rounds), s = parse.GetValue(steps), b = parse.GetValue(batch), lr = parse.GetValue(latencyRounds);
            if (r < 1 || s < 1 || b < 1 || lr < 1) throw new ArgumentException($"--rounds, --steps, --batch-size and --latency-rounds must be positive; got {r}, {s}, {b}, {lr}.");
            int pr = parse.GetValue(paperRounds), ee = parse.GetValue(evalEpisodes), df = parse.GetValue(datasetFrames), ce = parse.GetValue(coverageEpisodes);
            if (pr < 0 || ee < 0 || df < 0 || ce < 1) throw new ArgumentException($"--paper-rounds, --eval-episodes and --dataset-frames must be >= 0 and --coverage-episodes >= 1; got {pr}, {ee}, {df}, {ce}.");
            if (df is > 0 and < DatasetLoadBenchmark.OfficialEpisodes) throw new ArgumentException($"--dataset-frames {df}: at least {DatasetLoadBenchmark.OfficialEpisodes} (one per episode), or 0 to skip.");
            var runs = parse.GetValue(coverageRuns) ?? [];
            foreach (var run in runs)
                if (!File.Exists(Path.Combine(run, PolicySpec.FileName)))
                    throw new ArgumentException($"--coverage-run {run}: no {PolicySpec.FileName} there; give a run folder written by dpag train or a notebook.");
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

            bool withReference = reference is not null;
            string py2 = parse.GetValue(python)!;
            var all = new List<BenchResult>();
            using (reference) all.AddRange(TrainSide(config, b, s, r, info.Device, reference, label: null));
            all.AddRange(KitBenchmarks.SamplingLatency(config, [1, 56], [(SamplerKind.Ddpm, 100), (SamplerKind.Ddim, 16), (SamplerKind.Ddim, 8), (SamplerKind.Ddim, 4)], lr, info.Device));
            all.Add(KitBenchmarks.SimulatorSpeed(3000, r));
            if (ee > 0)
            {
                Console.Error.WriteLine($"dpag bench: timing the evaluation protocol ({ee} episodes)");
                all.AddRange(KitBenchmarks.EvaluationTime(config, ee, 300, 8, info.Device));
            }

            // The paper's sizes: fewer rounds of one step (a step takes seconds on a CPU); PyTorch alongside for low-dim.
            var paperSizes = pr == 0 ? [] : new[] { "pusht-lowdim", "pusht-image" };
            foreach (var paper in paperSizes)
            {
                var paperConfig = DiffusionPolicyConfig.FromPreset(paper).Validate();
                bool lowDim = paperConfig.Observation == ObservationKind.LowDim;
                Console.Error.WriteLine($"dpag bench: {paper} U-Net, batch {b}, {pr} rounds of 1 step{(withReference && lowDim ? ", with PyTorch" : "")}");
                using var paperReference = withReference && lowDim ? PyTorchTrainSession.Start(paperConfig, b, 1, info.Threads, deviceName, py2) : null;
                all.AddRange(TrainSide(paperConfig, b, 1, pr, info.Device, paperReference, label: paper));
            }

            // Peak resident memory: each variant trains two steps in a fresh process (kit and PyTorch alike).
            if (parse.GetValue(memory) && ProcessMemory.IsSupported)
            {
                var memorySizes = new List<(string Name, DiffusionPolicyConfig Config)> { (parse.GetValue(size)!, config) };
                memorySizes.AddRange(paperSizes.Select(p => (p, DiffusionPolicyConfig.FromPreset(p))));
                foreach (var (name, cfg) in memorySizes)
                    for (int variant = 0; variant < 3; variant++)
                    {
                        if (variant == 2 && name != parse.GetValue(size)) continue; // the released way's memory: at the small size only
                        Console.Error.WriteLine($"dpag bench: peak memory of training {VariantNames[variant]} [{name}]");
                        var (before, peak) = BenchChild.TrainingMemory(name, variant, b, info.Threads, deviceName);
                        all.Add(KitBenchmarks.Single($"peak RSS training {VariantNames[variant]} [{name}]", peak / 1e6, "MB"));
                        all.Add(KitBenchmarks.Single($"RSS before the model {VariantNames[variant]} [{name}]", before / 1e6, "MB"));
                        if (withReference && cfg.Observation == ObservationKind.LowDim)
                        {
                            var (pyBefore, pyPeak) = PyTorchReference.TrainingMemory(cfg, variant, b, 2, info.Threads, py2);
                            all.Add(KitBenchmarks.Single($"PyTorch peak RSS training {VariantNames[variant]} [{name}]", pyPeak / 1e6, "MB"));
                            all.Add(KitBenchmarks.Single($"PyTorch RSS before the model {VariantNames[variant]} [{name}]", pyBefore / 1e6, "MB"));
                        }
                    }
            }

            if (df > 0)
            {
                string store = Path.Combine(Path.GetTempPath(), $"dpag-bench-dataset-{Guid.NewGuid():N}.zarr");
                try
                {
                    Console.Error.WriteLine($"dpag bench: writing a synthetic image dataset of {df} frames, then loading it in a fresh process");
                    DatasetLoadBenchmark.WriteStore(store, df, DatasetLoadBenchmark.OfficialEpisodes);
                    var load = BenchChild.DatasetLoad(store, info.Threads);
                    string what = $"{load.Frames} frames of 96x96x3 float32";
                    all.Add(KitBenchmarks.Single($"dataset load time ({what})", load.Seconds, "s"));
                    all.Add(KitBenchmarks.Single($"dataset peak RSS ({what})", load.PeakBytes / 1e6, "MB"));
                    all.Add(KitBenchmarks.Single($"dataset RSS before loading ({what})", load.BeforeBytes / 1e6, "MB"));
                    all.Add(KitBenchmarks.Single($"dataset data size ({what})", load.DataBytes / 1e6, "MB"));
                    if (!parse.GetValue(noPytorch))
                    {
                        var (py, detail) = PyTorchReference.DatasetLoad(store, py2);
                        if (py is not null)
                        {
                            all.Add(KitBenchmarks.Single($"zarr-python dataset load time ({what})", py.Seconds, "s"));
                            all.Add(KitBenchmarks.Single($"zarr-python dataset peak RSS ({what})", py.PeakBytes / 1e6, "MB"));
                            all.Add(KitBenchmarks.Single($"zarr-python dataset RSS before loading ({what})", py.BeforeBytes / 1e6, "MB"));
                        }
                        else Console.Error.WriteLine($"dpag bench: zarr-python dataset load not measured: {detail}");
                    }
                }
                finally { if (Directory.Exists(store)) Directory.Delete(store, recursive: true); }
            }

            var coverage = new List<SamplerCoverage>();
            foreach (var run in runs)
            {
                Console.Error.WriteLine($"dpag bench: evaluating {run} with each sampler ({ce} episodes each)");
                coverage.AddRange(KitBenchmarks.SamplerCoverages(run, [(SamplerKind.Ddpm, 100), (SamplerKind.Ddim, 16), (SamplerKind.Ddim, 8), (SamplerKind.Ddim, 4)], ce, info.Device,
                    new Progress<string>(m => Console.Error.WriteLine($"  {m}"))));
            }

            double Get(string name) => all.Single(x => x.Name == name).Median;
            bool Has(string name) => all.Any(x => x.Name == name);
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
            foreach (var paper in paperSizes)
            {
                ratios[$"DP-AG (kit) / DP train step [{paper}]"] = Get($"train step DP-AG (kit) [{paper}]") / Get($"train step DP [{paper}]");
                ratios[$"DP-AG (kit) / DP-AG (released code's way) train step [{paper}]"] = Get($"train step DP-AG (kit) [{paper}]") / Get($"train step DP-AG (released code's way) [{paper}]");
                targets.Add(new($"DP-AG (kit) / DP train step [{paper}]", 1.8, true));
            }
            if (withReference)
            {
                foreach (var suffix in new[] { "" }.Concat(paperSizes.Where(p => Has($"PyTorch train step DP [{p}]")).Select(p => $" [{p}]")))
                {
                    foreach (var v in VariantNames)
                        ratios[$"kit / PyTorch train step {v}{suffix}"] = Get($"train step {v}{suffix}") / Get($"PyTorch train step {v}{suffix}");
                    ratios[$"PyTorch DP-AG (kit) / DP train step{suffix}"] = Get($"PyTorch train step DP-AG (kit){suffix}") / Get($"PyTorch train step DP{suffix}");
                    ratios[$"PyTorch DP-AG (kit) / DP-AG (released code's way) train step{suffix}"] = Get($"PyTorch train step DP-AG (kit){suffix}") / Get($"PyTorch train step DP-AG (released code's way){suffix}");
                    targets.InsertRange(suffix.Length == 0 ? 0 : targets.Count, [new($"kit / PyTorch train step DP{suffix}", 1.05, true), new($"kit / PyTorch train step DP-AG (kit){suffix}", 1.05, true)]);
                }
                foreach (var (name, _) in all.Where(x => x.Name.StartsWith("PyTorch peak RSS training ", StringComparison.Ordinal)).Select(x => (x.Name["PyTorch ".Length..], 0)).ToList())
                    ratios[$"kit / PyTorch {name}"] = Get(name) / Get("PyTorch " + name);
            }
            var dataRow = all.FirstOrDefault(x => x.Name.StartsWith("dataset data size", StringComparison.Ordinal));
            if (dataRow is not null)
            {
                string what = dataRow.Name["dataset data size ".Length..];
                ratios[$"dataset peak RSS growth / data size {what}"] = (Get($"dataset peak RSS {what}") - Get($"dataset RSS before loading {what}")) / dataRow.Median;
                if (Has($"zarr-python dataset load time {what}"))
                {
                    ratios[$"zarr-python dataset peak RSS growth / data size {what}"] = (Get($"zarr-python dataset peak RSS {what}") - Get($"zarr-python dataset RSS before loading {what}")) / dataRow.Median;
                    ratios[$"kit / zarr-python dataset load time {what}"] = Get($"dataset load time {what}") / Get($"zarr-python dataset load time {what}");
                }
            }
            foreach (var group in coverage.GroupBy(c => c.Policy + " @ " + c.CheckpointStep))
            {
                var ddpm = group.Single(c => c.Sampler == "DDPM 100");
                var ddim8 = group.Single(c => c.Sampler == "DDIM 8");
                string key = $"|target coverage DDIM 8 - DDPM 100| [{group.Key}]";
                ratios[key] = Math.Abs(ddim8.Score - ddpm.Score);
                targets.Add(new(key, 0.03, true, Absolute: true));
                ratios[$"evaluation time DDPM 100 / DDIM 8 [{group.Key}]"] = ddpm.Seconds / ddim8.Seconds;
            }

            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {info.Threads} torch threads, device {info.Device.type}";
            var md = new StringBuilder();
            md.AppendLine("# dpag bench").AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {machine}");
            md.AppendLine(CultureInfo.InvariantCulture, $"- U-Net size: {parse.GetValue(size)} (down dims {string.Join("/", config.Unet.DownDims)}), float32, training batch {b}, {r} interleaved rounds of {s} steps; chunk latency {lr} rounds; medians (min-max)");
            if (paperSizes.Length > 0)
                md.AppendLine(CultureInfo.InvariantCulture, $"- the paper's sizes ([pusht-lowdim], [pusht-image]): batch {b}, {pr} interleaved rounds of 1 step (the PyTorch reference covers the low-dim policies only)");
            md.AppendLine(CultureInfo.InvariantCulture, $"- {referenceNote}");
            md.AppendLine("- memory: peak resident set size (VmHWM) of a fresh process that builds one policy and trains it for 2 steps, and its size before the model was built; the dataset is a synthetic image store (the official Push-T size is 25,650 frames) loaded in a fresh process by the kit and by zarr-python (bench/reference/load_dataset.py, as diffusion_policy's ReplayBuffer.copy_from_path)").AppendLine();
            md.AppendLine("| measurement | median | min | max | unit |").AppendLine("| --- | ---: | ---: | ---: | --- |");
            foreach (var x in all) md.AppendLine(CultureInfo.InvariantCulture, $"| {x.Name} | {x.Median:G4} | {x.Min:G4} | {x.Max:G4} | {x.Unit} |");
            if (coverage.Count > 0)
            {
                md.AppendLine().AppendLine("Samplers on the same trained policy and the same test seeds (100000...):").AppendLine();
                md.AppendLine("| policy @ step | sampler | episodes | target coverage | success | wall time (s) |").AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
                foreach (var c in coverage)
                    md.AppendLine(CultureInfo.InvariantCulture, $"| {c.Policy} @ {c.CheckpointStep} | {c.Sampler} | {c.Episodes} | {c.Score:F3} | {c.SuccessRate:P0} | {c.Seconds:F1} |");
            }
            md.AppendLine().AppendLine("| ratio | value |").AppendLine("| --- | ---: |");
            foreach (var (k, v) in ratios) md.AppendLine(CultureInfo.InvariantCulture, $"| {k} | {v:F3} |");
            var checks = targets.Select(t => new { target = t.Ratio, bound = (t.AtMost ? "<= " : ">= ") + t.Bound.ToString(CultureInfo.InvariantCulture), value = ratios[t.Ratio], verdict = Verdict(t, ratios[t.Ratio]) }).ToList();
            md.AppendLine().AppendLine("| target | bound | value | result |").AppendLine("| --- | ---: | ---: | --- |");
            foreach (var c in checks) md.AppendLine(CultureInfo.InvariantCulture, $"| {c.target} | {c.bound} | {c.value:F3} | {c.verdict} |");
            if (coverage.Count == 0)
                md.AppendLine().AppendLine("Coverage per sampler: not measured in this run (give a trained run folder with --coverage-run).");
            md.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"A 10 Hz controller that replans every 8 actions has 800 ms per chunk; one that replans every step has 100 ms. Batch-1 DDIM 8 takes {Get("chunk DDIM 8 steps, batch 1"):F1} ms, DDPM 100 {Get("chunk DDPM 100 steps, batch 1"):F1} ms.");
            if (info.Device.type != DeviceType.CUDA)
                md.AppendLine().AppendLine("GPU: not measured in this run. On an NVIDIA machine build with `-p:TorchBackend=cuda` and run `scripts/dpag bench --device cuda --python <a python whose torch sees the GPU>` (README, Benchmark).");
            if (Environment.ProcessorCount <= 4)
                md.AppendLine().AppendLine("On a machine with this few cores, other processes move every number; compare ratios from one run, and rerun before trusting a miss.");
            AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), md.ToString());
            AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(new { machine, date = DateTime.UtcNow, reference = referenceNote, results = all, coverage, ratios, targets = checks }, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine(md.ToString());
            return 0;
        }));
        return command;
    }

    private static readonly string[] VariantNames = ["DP", "DP-AG (kit)", "DP-AG (released code's way)"];

    /// <summary>The kit's three training steps, with a PyTorch reference session's rounds interleaved when given.</summary>
    private static List<BenchResult> TrainSide(DiffusionPolicyConfig config, int batch, int steps, int rounds, torch.Device device, PyTorchTrainSession? reference, string? label)
    {
        var referenceSamples = new List<double[]>();
        var results = KitBenchmarks.TrainSteps(config, batch, steps, rounds, device, reference is null ? null : round =>
        {
            var ms = reference.RunRound();
            if (round >= 0) referenceSamples.Add(ms);
        }, label).ToList();
        if (reference is not null)
            results.AddRange(reference.Names.Select((name, i) => KitBenchmarks.Summarize(
                "PyTorch " + name + (label is null ? "" : $" [{label}]"), referenceSamples.Select(x => x[i]).ToList(), "ms")));
        return results;
    }

    /// <summary>"pass", or "miss by X %" (how far the value is beyond the bound, relative to the bound).</summary>
    private static string Verdict(Target t, double value)
    {
        bool pass = t.AtMost ? value <= t.Bound : value >= t.Bound;
        if (pass) return "pass";
        if (t.Absolute) return string.Create(CultureInfo.InvariantCulture, $"miss by {Math.Abs(value - t.Bound):F3}");
        double by = t.AtMost ? value / t.Bound - 1 : t.Bound / value - 1;
        return string.Create(CultureInfo.InvariantCulture, $"miss by {by * 100:F1} %");
    }
}
