using System.Text.Json;
using DpAg.Policies;
using DpAg.Training;

namespace DpAg.Evaluation;

/// <summary>
/// What a finished run folder (from <c>dpag train</c> + <c>dpag eval</c>) says: the policy, the loss curves and the
/// evaluation summary. Shared by <c>dpag report</c> and the notebooks that compare DP with DP-AG.
/// </summary>
public sealed record RunSummary(string RunDir, string Policy, IReadOnlyList<IReadOnlyDictionary<string, double>> Metrics, EvalSummary? Eval)
{
    /// <summary>The validation rows logged during training (<c>validation.csv</c>; empty without <c>--eval-every</c>).</summary>
    public IReadOnlyList<ValidationRow> Validation { get; init; } = [];

    /// <summary>The protocol's summaries over checkpoints (<c>eval/protocol.json</c> from <c>dpag eval --checkpoint all</c>), or null.</summary>
    public ProtocolSummary? Protocol { get; init; }

    /// <summary>Reads a run folder; the evaluation part is null when <c>eval/eval.json</c> is missing.</summary>
    public static RunSummary Load(string runDir)
    {
        var spec = PolicySpec.Load(Path.Combine(runDir, PolicySpec.FileName));
        var metricsPath = Path.Combine(runDir, "metrics.csv");
        if (!File.Exists(metricsPath)) throw new FileNotFoundException($"No metrics.csv in {runDir}; train the run first (`dpag train --run-dir {runDir}`).", metricsPath);
        var evalPath = Path.Combine(runDir, "eval", "eval.json");
        var protocolPath = Path.Combine(runDir, "eval", "protocol.json");
        return new RunSummary(runDir, spec.Name, MetricsLog.ReadCsv(metricsPath), File.Exists(evalPath) ? EvalSummary.Load(evalPath) : null)
        {
            Validation = ValidationLog.Read(runDir),
            Protocol = File.Exists(protocolPath) ? ProtocolSummary.Load(protocolPath) : null,
        };
    }

    /// <summary>A moving average of one metric column (for readable loss curves): (step, value) pairs.</summary>
    public (double[] Steps, double[] Values) Curve(string column, int window = 25)
    {
        var rows = Metrics.Where(r => r.ContainsKey(column)).ToList();
        var steps = new double[rows.Count];
        var values = new double[rows.Count];
        double sum = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            sum += rows[i][column];
            if (i >= window) sum -= rows[i - window][column];
            steps[i] = rows[i]["step"];
            values[i] = sum / Math.Min(i + 1, window);
        }
        return (steps, values);
    }
}

/// <summary>The fields of <c>eval.json</c> that reports use.</summary>
public sealed record EvalSummary(long CheckpointStep, int Episodes, double MeanScore, double MeanMaxCoverage, double SuccessRate,
    double MeanAgentJerk, double MeanActionJerk, string Sampler, int InferenceSteps, double Seconds)
{
    /// <summary>Reads an <c>eval.json</c> written by <c>dpag eval</c>.</summary>
    public static EvalSummary Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var r = doc.RootElement;
        try
        {
            return new EvalSummary(r.GetProperty("checkpoint_step").GetInt64(), r.GetProperty("episodes").GetInt32(),
                r.GetProperty("mean_score").GetDouble(), r.GetProperty("mean_max_coverage").GetDouble(), r.GetProperty("success_rate").GetDouble(),
                r.GetProperty("mean_agent_jerk").GetDouble(), r.GetProperty("mean_action_jerk").GetDouble(),
                r.GetProperty("sampler").GetString() ?? "", r.GetProperty("inference_steps").GetInt32(), r.GetProperty("seconds").GetDouble());
        }
        catch (KeyNotFoundException e)
        {
            throw new InvalidDataException($"{path} lacks a field of dpag eval's output ({e.Message}); re-run `dpag eval`.", e);
        }
    }
}

/// <summary>The protocol's two summaries of the test score over a run's checkpoints (Diffusion Policy reports both).</summary>
/// <param name="MaxStep">The checkpoint with the highest test score.</param>
/// <param name="MaxScore">That score (an optimistic summary: the checkpoint is chosen on the test seeds).</param>
/// <param name="LastCount">How many of the last checkpoints <paramref name="LastMeanScore"/> averages.</param>
/// <param name="LastMeanScore">The mean test score of the last checkpoints.</param>
/// <param name="BestByValidationStep">The checkpoint chosen on validation seeds (null if none).</param>
/// <param name="BestByValidationScore">Its test score (the honest single number).</param>
public sealed record ProtocolSummary(long MaxStep, double MaxScore, int LastCount, double LastMeanScore, long? BestByValidationStep, double? BestByValidationScore)
{
    /// <summary>Reads <c>protocol.json</c>.</summary>
    public static ProtocolSummary Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var max = root.GetProperty("max_over_checkpoints");
        var last = root.GetProperty("mean_of_last_checkpoints");
        var best = root.TryGetProperty("best_by_validation", out var b) && b.ValueKind == JsonValueKind.Object ? b : (JsonElement?)null;
        return new ProtocolSummary(max.GetProperty("step").GetInt64(), max.GetProperty("score").GetDouble(),
            last.GetProperty("count").GetInt32(), last.GetProperty("score").GetDouble(),
            best?.GetProperty("step").GetInt64(), best?.GetProperty("score").GetDouble());
    }
}
