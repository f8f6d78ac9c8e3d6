using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Training;

namespace DpAg.Evaluation;

/// <summary>
/// A trained policy the kit ships (<c>data/policies/dp</c>, <c>data/policies/dp-ag</c>): laid out like a run folder
/// that holds only its best checkpoint's EMA weights (<c>policy.json</c>, <c>normalizer.json</c>, <c>best/</c>), so
/// <c>dpag eval --run-dir data/policies/dp --checkpoint best</c> and <see cref="PolicyRuns.LoadTrained"/> read it, plus
/// <c>record.json</c>: how it was made (command, commit, date, machine, training minutes) and what it scores,
/// including a quick check (a few test episodes with a fast sampler) that the test suite repeats.
/// </summary>
public static class ShippedPolicy
{
    /// <summary>The record file.</summary>
    public const string RecordFile = "record.json";

    /// <summary>The quick check: episodes, sampler and steps (a fast sampler, a few test seeds).</summary>
    public const int CheckEpisodes = 10, CheckInferenceSteps = 16;

    /// <summary>
    /// Copies the weights of <paramref name="checkpoint"/> (latest, best or a step) of <paramref name="runDir"/> into
    /// <paramref name="output"/> (replaced) with the run's spec and normaliser, measures the quick check, and writes
    /// the record: <paramref name="record"/>'s fields plus the check, the validation row and training minutes.
    /// </summary>
    public static JsonObject Export(string runDir, string checkpoint, string output, JsonObject record, TorchSharp.torch.Device? device = null)
    {
        var (policy, spec, info) = PolicyRuns.LoadTrained(runDir, device, checkpoint);
        var rows = ValidationLog.Read(runDir);
        var row = rows.FirstOrDefault(r => r.Step == info.Step);
        if (row is null)
        {
            policy.Dispose();
            throw new ArgumentException($"Checkpoint {checkpoint} (step {info.Step}) of {runDir} was never validated; ship best, or a step that validation.csv lists " +
                                        $"({string.Join(", ", rows.Select(r => r.Step))}); train with --eval-every to validate.");
        }
        string temp = output.TrimEnd('/') + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        using (policy)
        try
        {
            Directory.CreateDirectory(Path.Combine(temp, ValidationLog.BestFolder));
            File.Copy(Path.Combine(runDir, PolicySpec.FileName), Path.Combine(temp, PolicySpec.FileName));
            File.Copy(Path.Combine(runDir, "normalizer.json"), Path.Combine(temp, "normalizer.json"));
            // The curves travel with the weights (small text files), so reports and notebooks can show how it learned.
            foreach (var file in new[] { MetricsLog.CsvName, ValidationLog.CsvName, RunStore.KeyFile, "config.json" })
                if (File.Exists(Path.Combine(runDir, file))) File.Copy(Path.Combine(runDir, file), Path.Combine(temp, file));
            string weights = $"ema-{CheckpointStore.FolderName(info.Step)}.bin";
            policy.save(Path.Combine(temp, ValidationLog.BestFolder, weights));
            var best = new BestRecord(info.Step, row.Score, row.SuccessRate, row.Episodes, row.TrainMinutes, weights, ValidationLog.ReadBest(runDir)?.Validation ?? "");
            AtomicFile.WriteAllText(Path.Combine(temp, ValidationLog.BestFolder, ValidationLog.BestRecord), JsonSerializer.Serialize(best, TrainConfig.Json));

            var check = Check(temp, device);
            record["checkpoint_step"] = info.Step;
            record["validation"] = new JsonObject
            {
                ["score"] = row.Score, ["success_rate"] = row.SuccessRate, ["episodes"] = row.Episodes, ["train_minutes_to_checkpoint"] = row.TrainMinutes,
                ["protocol"] = best.Validation,
            };
            record["train_minutes_total"] = rows.Count > 0 ? rows[^1].TrainMinutes : null;
            record["check"] = JsonSerializer.SerializeToNode(check);
            AtomicFile.WriteAllText(Path.Combine(temp, RecordFile), record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            Directory.Move(temp, output);
            return record;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>What the quick check measured.</summary>
    public sealed record CheckResult(int Episodes, long FirstSeed, string Sampler, int InferenceSteps, double NoiseScale, double Score, double SuccessRate);

    /// <summary>
    /// The quick check of a shipped (or any run) folder's best weights: <see cref="CheckEpisodes"/> test episodes with
    /// DDIM <see cref="CheckInferenceSteps"/>, sampled as the policy was trained (<see cref="TrainBudget.ConsistentNoiseScale"/>).
    /// </summary>
    public static CheckResult Check(string dir, TorchSharp.torch.Device? device = null)
    {
        var spec = PolicySpec.Load(Path.Combine(dir, PolicySpec.FileName));
        double scale = TrainBudget.ConsistentNoiseScale(spec);
        var config = PushTEvalConfig.For(spec.Policy) with { Episodes = CheckEpisodes };
        var result = CheckpointEvaluation.Evaluate(dir, "best", device, InferenceOptions.Ddim(CheckInferenceSteps) with { NoiseScale = scale }, config).Result;
        return new CheckResult(config.Episodes, config.FirstSeed, "ddim", CheckInferenceSteps, scale, result.MeanScore, result.SuccessRate);
    }

    /// <summary>The check stored in a shipped folder's record.</summary>
    public static CheckResult RecordedCheck(string dir)
    {
        string path = Path.Combine(dir, RecordFile);
        var node = JsonNode.Parse(File.ReadAllText(path))?["check"] ?? throw new InvalidDataException($"{path} has no \"check\".");
        return node.Deserialize<CheckResult>() ?? throw new InvalidDataException($"{path}: unreadable \"check\".");
    }

    /// <summary>Facts about this machine for a record: OS, CPU count, .NET.</summary>
    public static string Machine() => string.Create(CultureInfo.InvariantCulture,
        $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, CPU");
}
