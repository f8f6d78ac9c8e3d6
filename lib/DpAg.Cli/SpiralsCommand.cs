using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DpAg.IO;
using DpAg.Plots;
using DpAg.Spirals;

namespace DpAg.Cli;

/// <summary><c>dpag spirals</c>: the irregular-spirals sweep (Base Flow vs VJP-Guided Flow, paired seeds) end to end.</summary>
internal static class SpiralsCommand
{
    public static Command Create()
    {
        var budget = new Option<string>("--budget") { Description = "ci (a tiny sweep, seconds) or real (2 widths x 2 training-set sizes x 2 budgets x 5 paired seeds, under 30 min on 2 cores).", DefaultValueFactory = _ => "real" };
        var seeds = new Option<int?>("--seeds") { Description = "Number of paired seeds 0, 1, ... (default: the budget's; at least 2, the real sweep uses 5)." };
        var widths = new Option<string?>("--widths") { Description = "Comma-separated model widths (default: the budget's, real 32,96)." };
        var sizes = new Option<string?>("--train-sizes") { Description = "Comma-separated training-set sizes (default: the budget's, real 64,512)." };
        var budgets = new Option<string?>("--budgets") { Description = "Comma-separated training budgets in steps (default: the budget's, real 200,800)." };
        var workers = new Option<int?>("--workers") { Description = "Processes that share the (cell, seed) jobs, one torch thread each (default 2; 1 runs in this process)." };
        var maxStep = new Option<double?>("--max-step") { Description = "Largest RK4 step of the latent ODE (default 1/40)." };
        var gamma = new Option<double?>("--gamma") { Description = "Guidance step size gamma (default 1)." };
        var sign = new Option<double?>("--sign") { Description = "+1 ascent (paper) or -1 descent." };
        var norm = new Option<string>("--norm") { Description = "paper (raw VJP x gamma) or released (unit-norm VJP x gamma).", DefaultValueFactory = _ => "paper" };
        var target = new Option<string>("--target") { Description = "output (v = dec(z) in the latent field over the whole span, DP-AG's force; the default) or prefix (v = dec(z) - x_obs, a jump at observed stamps).", DefaultValueFactory = _ => "output" };
        var detach = new Option<bool>("--detach-vjp") { Description = "Detach the VJP (released code) instead of differentiating through it." };
        var contrastive = new Option<double>("--contrastive") { Description = "Weight of the InfoNCE term between unguided and guided outputs (0 = off, the default).", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--output") { Description = "Report folder.", DefaultValueFactory = _ => "artifacts/spirals" };
        var shard = new Option<string?>("--shard") { Description = "Internal: run shard K/N of the jobs and write them to --shard-output (used by --workers).", Hidden = true };
        var shardOutput = new Option<string?>("--shard-output") { Description = "Internal: where a shard writes its results.", Hidden = true };
        var command = new Command("spirals", "The irregular-spirals experiment as a paired sweep (docs/spirals.md): Base Flow vs VJP-Guided Flow over model widths, training-set sizes and training budgets, the same data and initialisation for both models in a seed, RK4 latent ODE with its numerical floor measured; paired log-ratio effects with 95 % t-intervals and a computed verdict (reproduced / not reproduced / inconclusive). Writes report.md, report.json and figures (HTML and PNG).")
        {
            budget, seeds, widths, sizes, budgets, workers, maxStep, gamma, sign, norm, target, detach, contrastive, output, shard, shardOutput,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var sweep = SpiralsSweepConfig.FromBudget(parse.GetValue(budget)!);
            var tgt = parse.GetValue(target)!.Trim().ToLowerInvariant() switch
            {
                "output" => GuidanceTarget.OutputEnergy,
                "prefix" => GuidanceTarget.PrefixResidual,
                var t => throw new ArgumentException($"--target '{t}' is invalid: use output or prefix."),
            };
            var baseGuidance = tgt == GuidanceTarget.PrefixResidual ? FlowGuidanceConfig.PrefixResidualCorrection : FlowGuidanceConfig.Paper;
            var guidance = baseGuidance with
            {
                Gamma = parse.GetValue(gamma) ?? baseGuidance.Gamma,
                Sign = parse.GetValue(sign) ?? baseGuidance.Sign,
                Normalise = parse.GetValue(norm)!.Trim().ToLowerInvariant() switch
                {
                    "paper" => false,
                    "released" => true,
                    var v => throw new ArgumentException($"--norm '{v}' is invalid: use paper or released."),
                },
                Detach = parse.GetValue(detach),
            };
            var experiment = sweep.Experiment with
            {
                Guidance = guidance,
                ContrastiveWeight = parse.GetValue(contrastive),
                Solver = parse.GetValue(maxStep) is double h ? sweep.Experiment.Solver with { MaxStep = h } : sweep.Experiment.Solver,
            };
            int? n = parse.GetValue(seeds);
            if (n is < 2) throw new ArgumentException($"--seeds must be at least 2 (an interval needs pairs); got {n}.");
            sweep = sweep with
            {
                Experiment = experiment,
                Seeds = n is int k ? Enumerable.Range(0, k).ToArray() : sweep.Seeds,
                Widths = Ints(parse.GetValue(widths), "--widths") ?? sweep.Widths,
                TrainSizes = Ints(parse.GetValue(sizes), "--train-sizes") ?? sweep.TrainSizes,
                Budgets = Ints(parse.GetValue(budgets), "--budgets") ?? sweep.Budgets,
                Workers = parse.GetValue(workers) ?? sweep.Workers,
            };
            sweep.Validate();
            var info = Commands.InitRuntime(parse);
            if (parse.GetValue(Commands.Threads) is null)
            {
                // Tiny tensors (batch 64, width <= 96): intra-op threads cost more than they give (measured: 1 thread was
                // several times faster than 2 on a loaded 2-core machine), and two threads of one process did not overlap
                // their libtorch calls here (measured), so the sweep runs shards of its jobs in --workers processes.
                TorchSharp.torch.set_num_threads(1);
                info = info with { Threads = 1 };
            }
            var last = Stopwatch.StartNew();
            var gate = new object();
            var progress = new SyncProgress<SpiralsProgress>(p =>
            {
                lock (gate)
                {
                    if (p.Step == p.TotalSteps || last.Elapsed.TotalSeconds > 10)
                    {
                        last.Restart();
                        Console.Error.WriteLine($"  [{p.Cell}] seed {p.Seed} {p.Model}: step {p.Step}/{p.TotalSteps} loss {p.Loss:G4}");
                    }
                }
            });
            if (parse.GetValue(shard) is string part)
            {
                // A shard: run every N-th job and write the results for the parent to merge.
                var (index, count) = ParseShard(part);
                string path = parse.GetValue(shardOutput) ?? throw new ArgumentException("--shard needs --shard-output.");
                var results = SpiralsSweep.RunJobs(sweep, SpiralsSweep.Shard(sweep, index, count), progress, info.Device);
                AtomicFile.WriteAllText(path, JsonSerializer.Serialize(results, Json));
                return 0;
            }
            int models = sweep.Cells().Count * sweep.Seeds.Length * 2;
            Console.Error.WriteLine($"dpag spirals: budget {parse.GetValue(budget)}, {sweep.Cells().Count} cells x {sweep.Seeds.Length} seeds = {models} models, {sweep.Workers} processes on {info.Device.type} ({info.Threads} torch threads each)");
            var wall = Stopwatch.StartNew();
            var report = sweep.Workers == 1
                ? SpiralsSweep.Run(sweep, progress, info.Device)
                : SpiralsSweep.Assemble(sweep, RunShards(sweep.Workers), wall.Elapsed.TotalSeconds);
            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var md = SpiralsSweepTable.ToMarkdown(report);
            AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), md);
            AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(new
            {
                report.Config, report.Cells, report.Mse, report.OutputCurvature, report.LatentCurvatureRatio, Verdict = report.VerdictWord,
                report.SolverFloor, report.EulerPerGapFloor, report.TruthOutputCurvature, report.WallSeconds,
            }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            SpiralsFigures.WriteAll(report, dir);
            Console.WriteLine(md);
            Console.Error.WriteLine($"dpag spirals: {report.WallSeconds:F0} s; wrote {dir}/report.md, report.json, trajectories.(html|png), latents.(html|png), effects.(html|png)");
            return 0;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        IncludeFields = true,
    };

    private static (int Index, int Count) ParseShard(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int k) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int n) && n >= 1 && k >= 0 && k < n)
            return (k, n);
        throw new ArgumentException($"--shard '{text}' is invalid: use K/N with 0 <= K < N.");
    }

    /// <summary>Starts <paramref name="count"/> copies of this command, each with --shard k/count, relays their
    /// progress, waits for all and reads their results.</summary>
    private static List<SpiralsJobResult> RunShards(int count)
    {
        string dir = Directory.CreateTempSubdirectory("dpag-spirals-shards-").FullName;
        try
        {
            var args = Environment.GetCommandLineArgs();                 // [0] is DpAg.Cli.dll (or the apphost)
            string host = Environment.ProcessPath ?? "dotnet";
            bool viaDotnet = args[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
            var children = Enumerable.Range(0, count).Select(k =>
            {
                var start = new ProcessStartInfo(host) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
                if (viaDotnet) start.ArgumentList.Add(args[0]);
                foreach (var a in args.Skip(1)) start.ArgumentList.Add(a);
                foreach (var a in new[] { "--shard", $"{k}/{count}", "--shard-output", Path.Combine(dir, $"shard-{k}.json") }) start.ArgumentList.Add(a);
                var process = Process.Start(start) ?? throw new InvalidOperationException("dpag spirals: could not start a shard process.");
                process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) Console.Error.WriteLine($"  shard {k}: {line.TrimStart()}"); };
                process.OutputDataReceived += (_, _) => { };
                process.BeginErrorReadLine();
                process.BeginOutputReadLine();
                return process;
            }).ToList();
            foreach (var child in children) child.WaitForExit();
            var failed = children.Select((c, k) => (c.ExitCode, k)).Where(x => x.ExitCode != 0).ToList();
            if (failed.Count > 0) throw new InvalidOperationException($"dpag spirals: shard {failed[0].k} exited with {failed[0].ExitCode}.");
            return Enumerable.Range(0, count)
                .SelectMany(k => JsonSerializer.Deserialize<List<SpiralsJobResult>>(File.ReadAllText(Path.Combine(dir, $"shard-{k}.json")), Json)
                    ?? throw new InvalidOperationException($"dpag spirals: shard {k} wrote no results."))
                .ToList();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int[]? Ints(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{option} '{text}' is invalid: give comma-separated integers such as 32,96.");
        }
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool and may print late or out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
