using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using DpAg.IO;
using DpAg.Plots;
using DpAg.Spirals;

namespace DpAg.Cli;

/// <summary><c>dpag spirals</c>: the irregular-spirals experiment (Base Flow vs VJP-Guided Flow) end to end.</summary>
internal static class SpiralsCommand
{
    public static Command Create()
    {
        var budget = new Option<string>("--budget") { Description = "ci (about 30 s) or real (a few minutes).", DefaultValueFactory = _ => "real" };
        var seeds = new Option<int>("--seeds") { Description = "Number of seeds (0, 1, ...); at least 3 for the resolution note.", DefaultValueFactory = _ => 3 };
        var steps = new Option<int?>("--steps") { Description = "Training steps per model and seed (default: the budget's)." };
        var gamma = new Option<double?>("--gamma") { Description = "Guidance step size gamma (default 1)." };
        var sign = new Option<double?>("--sign") { Description = "+1 ascent (paper) or -1 descent." };
        var norm = new Option<string>("--norm") { Description = "paper (raw VJP x gamma) or released (unit-norm VJP x gamma).", DefaultValueFactory = _ => "paper" };
        var target = new Option<string>("--target") { Description = "output (v = dec(z), DP-AG's force) or prefix (v = dec(z) - x_obs at observed stamps).", DefaultValueFactory = _ => "output" };
        var detach = new Option<bool>("--detach-vjp") { Description = "Detach the VJP (released code) instead of differentiating through it." };
        var contrastive = new Option<double>("--contrastive") { Description = "Weight of the InfoNCE term between unguided and guided outputs (0 = off).", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--output") { Description = "Report folder.", DefaultValueFactory = _ => "artifacts/spirals" };
        var command = new Command("spirals", "Train and evaluate the Base Flow and the VJP-Guided Flow on irregularly sampled spirals over several seeds; writes report.md, report.json and figures (HTML and PNG).")
        {
            budget, seeds, steps, gamma, sign, norm, target, detach, contrastive, output,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            var config = SpiralsConfig.FromBudget(parse.GetValue(budget)!);
            int n = parse.GetValue(seeds);
            if (n < 1) throw new ArgumentException($"--seeds must be at least 1; got {n}.");
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
                Normalisation = parse.GetValue(norm)!.Trim().ToLowerInvariant() switch
                {
                    "paper" => VjpNormalisation.Paper,
                    "released" => VjpNormalisation.Released,
                    var v => throw new ArgumentException($"--norm '{v}' is invalid: use paper or released."),
                },
                DetachVjp = parse.GetValue(detach),
            };
            config = config with
            {
                Seeds = Enumerable.Range(0, n).ToArray(),
                Steps = parse.GetValue(steps) ?? config.Steps,
                Guidance = guidance,
                ContrastiveWeight = parse.GetValue(contrastive),
            };
            config.Validate();
            var info = Commands.InitRuntime(parse);
            if (parse.GetValue(Commands.Threads) is null)
            {
                // Tiny tensors (batch 64, width 64): intra-op threads cost more than they give (measured: 1 thread was
                // several times faster than 2 on a loaded 2-core machine). --threads overrides.
                TorchSharp.torch.set_num_threads(1);
                info = info with { Threads = 1 };
            }
            Console.Error.WriteLine($"dpag spirals: budget {parse.GetValue(budget)}, {n} seeds, {config.Steps} steps per model on {info.Device.type} ({info.Threads} threads)");
            var last = Stopwatch.StartNew();
            var progress = new SyncProgress<SpiralsProgress>(p =>
            {
                if (p.Step == p.TotalSteps || last.Elapsed.TotalSeconds > 5)
                {
                    last.Restart();
                    Console.Error.WriteLine($"  seed {p.Seed} {p.Model}: step {p.Step}/{p.TotalSteps} loss {p.Loss:G4}");
                }
            });
            var report = SpiralsExperiment.Run(config, progress, info.Device);
            string dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var md = SpiralsTable.ToMarkdown(report);
            AtomicFile.WriteAllText(Path.Combine(dir, "report.md"), md);
            AtomicFile.WriteAllText(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(new { report.Config, report.Rows, report.Summary, report.WallSeconds },
                new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            SpiralsFigures.WriteAll(report, dir);
            Console.WriteLine(md);
            Console.Error.WriteLine($"dpag spirals: wrote {dir}/report.md, report.json, trajectories.(html|png), latents.(html|png)");
            return 0;
        }));
        return command;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool and may print late or out of order).</summary>
    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
