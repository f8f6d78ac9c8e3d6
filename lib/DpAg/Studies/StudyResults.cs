using System.Text.Json;
using DpAg.Training;

namespace DpAg.Studies;

/// <summary>Per-episode values of one evaluation summary of a cell, in test-seed order.</summary>
/// <param name="Seeds">Test seeds.</param>
/// <param name="Score">Max reward per episode (the target coverage's terms).</param>
/// <param name="Success">1 when the episode succeeded.</param>
/// <param name="AgentJerk">Agent-path jerk per episode.</param>
/// <param name="ActionJerk">Action jerk per episode.</param>
public sealed record EpisodeValues(long[] Seeds, double[] Score, double[] Success, double[] AgentJerk, double[] ActionJerk)
{
    /// <summary>The values of a per-episode field (score, success, agent_jerk, action_jerk).</summary>
    public double[] Field(string field) => field switch
    {
        "score" => Score,
        "success" => Success,
        "agent_jerk" => AgentJerk,
        "action_jerk" => ActionJerk,
        _ => throw new ArgumentException($"Unknown per-episode field '{field}'; use score, success, agent_jerk or action_jerk."),
    };

    /// <summary>The episode-wise mean of several evaluations of the same episodes.</summary>
    public static EpisodeValues Mean(IReadOnlyList<EpisodeValues> all)
    {
        if (all.Count == 0) throw new ArgumentException("No evaluations to average.", nameof(all));
        if (all.Any(a => !a.Seeds.SequenceEqual(all[0].Seeds))) throw new InvalidDataException("Evaluations of one cell cover different test seeds; delete its study-eval folder and evaluate again.");
        double[] M(Func<EpisodeValues, double[]> f) => Enumerable.Range(0, all[0].Seeds.Length).Select(i => all.Average(a => f(a)[i])).ToArray();
        return new EpisodeValues(all[0].Seeds, M(a => a.Score), M(a => a.Success), M(a => a.AgentJerk), M(a => a.ActionJerk));
    }
}

/// <summary>One protocol summary of a cell on one environment with one sampling.</summary>
/// <param name="Environment">pusht or dynamic.</param>
/// <param name="Sampling">The sampling's label.</param>
/// <param name="Primary">Whether it is the study's sampler.</param>
/// <param name="Summary">last, max or best.</param>
/// <param name="Steps">The checkpoint steps it covers.</param>
/// <param name="Values">Per-episode values.</param>
public sealed record CellSummary(string Environment, string Sampling, bool Primary, string Summary, IReadOnlyList<long> Steps, EpisodeValues Values);

/// <summary>What a cell has produced so far: validation curve, convergence and its evaluations' summaries.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Trained">Whether the run is finished.</param>
/// <param name="Validation">validation.csv rows.</param>
/// <param name="StepsToThreshold">The first validated step whose score reached the study's threshold, or null (not reached).</param>
/// <param name="MinutesToThreshold">Training minutes up to that step, or null.</param>
/// <param name="TrainMinutes">Training minutes of the run so far (without validation).</param>
/// <param name="ValidationMinutes">Minutes spent validating.</param>
/// <param name="EvalMinutes">Minutes of the study's evaluations of this cell on disk.</param>
/// <param name="Summaries">The complete (environment, sampling) evaluations, three summaries each.</param>
public sealed record CellResult(StudyCell Cell, bool Trained, IReadOnlyList<ValidationRow> Validation, long? StepsToThreshold, double? MinutesToThreshold,
    double TrainMinutes, double ValidationMinutes, double EvalMinutes, IReadOnlyList<CellSummary> Summaries)
{
    /// <summary>The summary of the primary sampling, or null when that evaluation is not complete.</summary>
    public CellSummary? Primary(string environment, string summary) =>
        Summaries.FirstOrDefault(s => s.Primary && s.Environment == environment && s.Summary == summary);

    /// <summary>Whether every evaluation of the primary sampling is complete.</summary>
    public bool Evaluated(StudyDefinition study) => study.Evaluation.Environments.All(e => Primary(e, "last") is not null);
}

/// <summary>Reads what the cells of a study have produced (whatever has finished; nothing is trained or evaluated).</summary>
public static class StudyResults
{
    /// <summary>Every cell of the study, with what is on disk.</summary>
    public static IReadOnlyList<CellResult> Load(StudyRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        return runner.Study.Cells.Select(id => Load(runner, runner.Resolve(id))).ToList();
    }

    /// <summary>One cell.</summary>
    public static CellResult Load(StudyRunner runner, StudyCell cell)
    {
        var study = runner.Study;
        bool trained = runner.IsTrained(cell);
        var validation = Directory.Exists(cell.RunDir) ? ValidationLog.Read(cell.RunDir) : [];
        var reached = validation.FirstOrDefault(r => r.Score >= study.Evaluation.ConvergenceThreshold);
        var summaries = new List<CellSummary>();
        double evalSeconds = 0;
        if (trained)
        {
            var checkpoints = StudyRunner.CheckpointsToEvaluate(cell.RunDir);
            var best = ValidationLog.ReadBest(cell.RunDir);
            foreach (var env in study.Evaluation.Environments)
                foreach (var sampling in cell.Samplings)
                {
                    var files = checkpoints.Select(c => (c.Name, c.Step, File: runner.EvalFile(cell, env, sampling, c.Name))).ToList();
                    if (files.Any(f => !File.Exists(f.File))) continue;   // not (completely) evaluated yet
                    var read = files.Select(f => (f.Name, f.Step, Eval: ReadEval(f.File))).ToList();
                    evalSeconds += read.Sum(r => r.Eval.Seconds);
                    // A checkpoint written only because a sitting stopped (off the schedule) is not one of "the last N":
                    // a run trained over several sittings is summarised over the same steps as one trained in one go.
                    var steps = read.Where(r => r.Name != "best" && cell.IsScheduledCheckpoint(r.Step)).OrderBy(r => r.Step).ToList();
                    if (steps.Count == 0) continue;
                    var last = steps.TakeLast(study.Evaluation.LastCheckpoints).ToList();
                    summaries.Add(new CellSummary(env, sampling.Label, sampling.Primary, "last", last.Select(r => r.Step).ToList(), EpisodeValues.Mean(last.Select(r => r.Eval.Values).ToList())));
                    var max = steps.OrderByDescending(r => r.Eval.Values.Score.Average()).ThenBy(r => r.Step).First();
                    summaries.Add(new CellSummary(env, sampling.Label, sampling.Primary, "max", [max.Step], max.Eval.Values));
                    if (best is not null && read.FirstOrDefault(r => r.Step == best.Step) is { Eval: not null } b)
                        summaries.Add(new CellSummary(env, sampling.Label, sampling.Primary, "best", [b.Step], b.Eval.Values));
                }
        }
        double trainMinutes = validation.Count > 0 ? validation[^1].TrainMinutes : 0;
        return new CellResult(cell, trained, validation, reached?.Step, reached?.TrainMinutes, trainMinutes,
            validation.Sum(v => v.EvalSeconds) / 60, evalSeconds / 60, summaries);
    }

    private sealed record EvalFileContent(long Step, double Seconds, EpisodeValues Values);

    private static EvalFileContent ReadEval(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var episodes = root.GetProperty("per_episode").EnumerateArray().ToList();
            double[] F(string name) => episodes.Select(e => e.GetProperty(name).GetDouble()).ToArray();
            var values = new EpisodeValues(episodes.Select(e => e.GetProperty("Seed").GetInt64()).ToArray(), F("MaxReward"),
                episodes.Select(e => e.GetProperty("Success").GetBoolean() ? 1.0 : 0.0).ToArray(), F("AgentJerk"), F("ActionJerk"));
            return new EvalFileContent(root.GetProperty("checkpoint_step").GetInt64(), root.GetProperty("seconds").GetDouble(), values);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path} is not an evaluation written by dpag study ({e.Message}); delete it and evaluate again.", e);
        }
    }
}
