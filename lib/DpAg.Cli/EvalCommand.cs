using System.CommandLine;
using System.Text.Json;
using DpAg.Data;
using DpAg.Envs;
using DpAg.Evaluation;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;

namespace DpAg.Cli;

/// <summary><c>dpag eval</c>: the Push-T evaluation protocol for a trained run (EMA weights), batched across episodes.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var runDir = new Option<string>("--run-dir") { Description = "A run folder made by `dpag train`.", DefaultValueFactory = _ => "runs/train" };
        var episodes = new Option<int>("--episodes") { Description = "Test episodes (protocol: 50, seeds from 100000).", DefaultValueFactory = _ => 50 };
        var firstSeed = new Option<long>("--first-seed") { Description = "Seed of the first test episode.", DefaultValueFactory = _ => 100000 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Env steps per episode (protocol: 300).", DefaultValueFactory = _ => 300 };
        var sampler = new Option<string?>("--sampler") { Description = "ddpm or ddim (default: the policy's)." };
        var inferenceSteps = new Option<int?>("--inference-steps") { Description = "Reverse steps (default: the policy's)." };
        var noiseScale = new Option<double>("--noise-scale") { Description = "Multiply the network's output before each reverse step: 1 samples as the released codes do; 0.4 undoes the released DP-AG's 1/0.4 training target (needed for DDIM with few steps).", DefaultValueFactory = _ => 1.0 };
        var gifs = new Option<int>("--gifs") { Description = "Episodes to save as GIF animations.", DefaultValueFactory = _ => 2 };
        var dynamic = new Option<bool>("--dynamic") { Description = "Dynamic Push-T (moving ball disturbance)." };
        var output = new Option<string?>("--output") { Description = "Folder for eval.json and GIFs (default: <run-dir>/eval)." };
        var checkpointOption = new Option<string>("--checkpoint") { Description = "Which weights: latest, best (by validation score; needs dpag train --eval-every), a kept step, or all (every kept checkpoint and best, with the protocol's summaries in protocol.json).", DefaultValueFactory = _ => "latest" };
        var lastCheckpoints = new Option<int>("--last", "--last-checkpoints") { Description = "With --checkpoint all: how many of the last checkpoints the mean summary averages.", DefaultValueFactory = _ => 5 };
        var command = new Command("eval", "Evaluate a trained policy in the Push-T simulator: coverage, success, jerk, rollout GIFs.")
        {
            runDir, checkpointOption, lastCheckpoints, episodes, firstSeed, maxSteps, sampler, inferenceSteps, noiseScale, gifs, dynamic, output,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            string dir = parse.GetValue(runDir)!;
            string which = parse.GetValue(checkpointOption)!.ToLowerInvariant();
            Commands.RequirePhysicsEngine();
            PolicySpec.Load(Path.Combine(dir, PolicySpec.FileName)); // a bad run folder fails before the runtime starts
            var info = Commands.InitRuntime(parse);
            string outRoot = parse.GetValue(output) ?? Path.Combine(dir, "eval");
            if (which != "all")
            {
                var (step, result, line) = EvaluateOne(which, outRoot);
                Console.WriteLine(line);
                return 0;
            }
            // The protocol's summaries over checkpoints (Diffusion Policy reports the max over checkpoints and the
            // mean of the last ones), next to the checkpoint chosen on validation seeds, which never sees the test set.
            var kept = PolicyRuns.Checkpoints(dir);
            if (kept.Count == 0) throw new ArgumentException($"--checkpoint all: {dir} keeps no checkpoints.");
            if (parse.GetValue(lastCheckpoints) < 1) throw new ArgumentException($"--last must be at least 1, got {parse.GetValue(lastCheckpoints)}.");
            var scores = new List<(string Label, long Step, double Score, double Success)>();
            foreach (var c in kept)
            {
                var (step, result, line) = EvaluateOne(c.Step.ToString(System.Globalization.CultureInfo.InvariantCulture), Path.Combine(outRoot, CheckpointStore.FolderName(c.Step)));
                Console.WriteLine(line);
                scores.Add(("step", step, result.MeanScore, result.SuccessRate));
            }
            object? bestByValidation = null;
            if (ValidationLog.ReadBest(dir) is { } bestRecord)
            {
                // The best checkpoint's EMA weights are the kept checkpoint's of the same step, when it is still kept.
                if (scores.FirstOrDefault(x => x.Step == bestRecord.Step) is { Label: not null } same)
                {
                    bestByValidation = new { step = same.Step, score = same.Score, success_rate = same.Success };
                    string from = Path.Combine(outRoot, CheckpointStore.FolderName(same.Step), "eval.json"), to = Path.Combine(outRoot, "best", "eval.json");
                    Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                    File.Copy(from, to, overwrite: true);
                }
                else
                {
                    var (step, result, line) = EvaluateOne("best", Path.Combine(outRoot, "best"));
                    Console.WriteLine(line);
                    bestByValidation = new { step, score = result.MeanScore, success_rate = result.SuccessRate };
                }
            }
            var max = scores.MaxBy(x => x.Score);
            int lastK = Math.Min(parse.GetValue(lastCheckpoints), scores.Count);
            var last = scores.TakeLast(lastK).ToList();
            var protocol = new
            {
                run = Path.GetFullPath(dir), episodes = parse.GetValue(episodes), first_seed = parse.GetValue(firstSeed),
                checkpoints = scores.Select(x => new { x.Step, score = x.Score, success_rate = x.Success }),
                max_over_checkpoints = new { step = max.Step, score = max.Score },
                mean_of_last_checkpoints = new { count = lastK, steps = last.Select(x => x.Step), score = last.Average(x => x.Score), success_rate = last.Average(x => x.Success) },
                best_by_validation = bestByValidation,
            };
            Directory.CreateDirectory(outRoot);
            AtomicFile.WriteAllText(Path.Combine(outRoot, "protocol.json"), JsonSerializer.Serialize(protocol, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine(System.FormattableString.Invariant(
                $"protocol summaries: max over {scores.Count} checkpoints {max.Score:F4} (step {max.Step}); mean of the last {lastK} {last.Average(x => x.Score):F4}; wrote {outRoot}/protocol.json"));
            return 0;

            (long Step, PushTEvalResult Result, string Line) EvaluateOne(string checkpointName, string outDir)
            {
                var envConfig = parse.GetValue(dynamic) ? PushTConfig.Dynamic : PushTConfig.Classic;
                var spec = PolicySpec.Load(Path.Combine(dir, PolicySpec.FileName));
                // Unset options keep the run's own sampler and steps.
                var inference = new InferenceOptions(
                    parse.GetValue(sampler) is { } name ? (name.ToLowerInvariant() == "ddim" ? SamplerKind.Ddim : SamplerKind.Ddpm) : spec.Policy.Sampler,
                    parse.GetValue(inferenceSteps) ?? spec.Policy.NumInferenceSteps) { NoiseScale = parse.GetValue(noiseScale) };
                var config = PushTEvalConfig.For(spec.Policy, envConfig) with
                {
                    Episodes = parse.GetValue(episodes), FirstSeed = parse.GetValue(firstSeed), MaxSteps = parse.GetValue(maxSteps),
                    GifEpisodes = parse.GetValue(gifs),
                };
                var evaluated = CheckpointEvaluation.Evaluate(dir, checkpointName, info.Device, inference, config, parse.GetValue(Commands.Seed),
                    new Progress<(int Finished, long Steps)>(p => Console.Error.Write($"\r  {p.Finished}/{config.Episodes} episodes done, {p.Steps} env steps")));
                Console.Error.WriteLine();
                CheckpointEvaluation.Save(evaluated, outDir);
                return (evaluated.Checkpoint.Step, evaluated.Result, $"{spec.Name} @ step {evaluated.Checkpoint.Step} ({checkpointName}): {evaluated.Result}; wrote {outDir}/eval.json");
            }
        }));
        return command;
    }
}
