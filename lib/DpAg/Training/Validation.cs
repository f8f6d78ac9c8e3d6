using System.Globalization;
using System.Text;
using System.Text.Json;
using DpAg.IO;
using DpAg.Policies;

namespace DpAg.Training;

/// <summary>What a validation of the averaged (EMA) policy at a checkpoint measured.</summary>
/// <param name="Score">The number checkpoints are ranked by (Push-T: mean over episodes of the max reward, the
/// "target coverage" of the papers); higher is better.</param>
/// <param name="SuccessRate">Fraction of episodes that succeeded.</param>
/// <param name="Episodes">Episodes evaluated.</param>
public sealed record ValidationResult(double Score, double SuccessRate, int Episodes);

/// <summary>
/// Evaluation during training: every <paramref name="Every"/> steps the trainer writes a checkpoint, calls
/// <paramref name="Evaluate"/> on the EMA policy (validation episodes, never the test ones), logs the result in
/// <c>validation.csv</c> with the training minutes so far, and keeps the best checkpoint's EMA weights in <c>best/</c>.
/// </summary>
/// <param name="Every">Steps between validations (the last step is always validated).</param>
/// <param name="Evaluate">Scores a policy (it is in eval mode; leave it so).</param>
/// <param name="Description">What is evaluated, for logs and <c>best/best.json</c> (e.g. "20 episodes from seed 200000, DDIM 16").</param>
public sealed record ValidationOptions(long Every, Func<PolicyBase, ValidationResult> Evaluate, string Description)
{
    /// <summary>Called with the run folder after each validation is logged (e.g. to redraw the learning curve).</summary>
    public Action<string>? AfterEach { get; init; }
}

/// <summary>One row of <c>validation.csv</c>.</summary>
/// <param name="Step">Optimiser steps done when the checkpoint was taken.</param>
/// <param name="TrainMinutes">Training wall time up to this checkpoint, over all sessions of the run, without validation time.</param>
/// <param name="Score">Validation score.</param>
/// <param name="SuccessRate">Validation success rate.</param>
/// <param name="Episodes">Validation episodes.</param>
/// <param name="EvalSeconds">Wall time of this validation.</param>
public sealed record ValidationRow(long Step, double TrainMinutes, double Score, double SuccessRate, int Episodes, double EvalSeconds);

/// <summary>
/// <c>validation.csv</c> and <c>best/</c> of a run folder. Both are rewritten atomically; <c>best/best.json</c> names
/// the weight file it describes, so a crash between files never pairs one checkpoint's weights with another's score.
/// </summary>
public sealed class ValidationLog
{
    /// <summary>The CSV file name.</summary>
    public const string CsvName = "validation.csv";

    /// <summary>The folder of the best checkpoint's weights.</summary>
    public const string BestFolder = "best";

    /// <summary>The record in <see cref="BestFolder"/>.</summary>
    public const string BestRecord = "best.json";

    private const string Header = "step,train_minutes,score,success_rate,episodes,eval_seconds";
    private readonly string _runDir;
    private readonly List<ValidationRow> _rows = [];

    /// <summary>Reads the run's log (missing: empty) and keeps rows of steps up to <paramref name="completedSteps"/>.</summary>
    public ValidationLog(string runDir, long completedSteps)
    {
        _runDir = runDir;
        _rows.AddRange(Read(runDir).Where(r => r.Step <= completedSteps));
        if (_rows.Count != Read(runDir).Count) Write();
        // best/ from steps after the restored checkpoint describes weights this run no longer leads to.
        if (ReadBest(runDir) is { } best && best.Step > completedSteps) Directory.Delete(Path.Combine(runDir, BestFolder), recursive: true);
    }

    /// <summary>Deletes the validation log, <c>best/</c> and the learning-curve figures of <paramref name="runDir"/> (a fresh start).</summary>
    public static void Clear(string runDir)
    {
        File.Delete(Path.Combine(runDir, CsvName));
        if (Directory.Exists(Path.Combine(runDir, BestFolder))) Directory.Delete(Path.Combine(runDir, BestFolder), recursive: true);
        foreach (var png in Directory.Exists(runDir) ? Directory.GetFiles(runDir, "learning_curve_*.png") : []) File.Delete(png);
    }

    /// <summary>The rows, in step order.</summary>
    public IReadOnlyList<ValidationRow> Rows => _rows;

    /// <summary>The best row so far (highest score; the earliest on ties), or null.</summary>
    public ValidationRow? Best => _rows.Count == 0 ? null : _rows.OrderByDescending(r => r.Score).ThenBy(r => r.Step).First();

    /// <summary>Whether step <paramref name="step"/> has been validated.</summary>
    public bool Has(long step) => _rows.Any(r => r.Step == step);

    /// <summary>Appends a row and rewrites the CSV.</summary>
    public void Add(ValidationRow row)
    {
        _rows.RemoveAll(r => r.Step >= row.Step);
        _rows.Add(row);
        Write();
    }

    /// <summary>
    /// Makes <c>best/</c> hold <paramref name="weights"/> (a file copied in) as the weights of <paramref name="row"/>.
    /// </summary>
    public void SetBest(ValidationRow row, string weights, string description)
    {
        string dir = Path.Combine(_runDir, BestFolder);
        Directory.CreateDirectory(dir);
        string name = $"ema-{CheckpointStore.FolderName(row.Step)}.bin";
        AtomicFile.Write(Path.Combine(dir, name), s => { using var f = File.OpenRead(weights); f.CopyTo(s); });
        var record = new BestRecord(row.Step, row.Score, row.SuccessRate, row.Episodes, row.TrainMinutes, name, description);
        AtomicFile.WriteAllText(Path.Combine(dir, BestRecord), JsonSerializer.Serialize(record, TrainConfig.Json));
        foreach (var stale in Directory.GetFiles(dir, "ema-*.bin").Where(f => Path.GetFileName(f) != name)) File.Delete(stale);
    }

    /// <summary>The record of <c>best/</c> in <paramref name="runDir"/>, or null when there is none.</summary>
    public static BestRecord? ReadBest(string runDir)
    {
        string path = Path.Combine(runDir, BestFolder, BestRecord);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<BestRecord>(File.ReadAllText(path), TrainConfig.Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path} is unreadable ({e.Message}); delete the best/ folder and validate again.", e); }
    }

    /// <summary>The rows of <c>validation.csv</c> in <paramref name="runDir"/> (none when the file is missing).</summary>
    public static IReadOnlyList<ValidationRow> Read(string runDir)
    {
        string path = Path.Combine(runDir, CsvName);
        if (!File.Exists(path)) return [];
        var rows = new List<ValidationRow>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length != 6) continue;   // a torn line
            try
            {
                rows.Add(new ValidationRow(long.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture),
                    double.Parse(f[2], CultureInfo.InvariantCulture), double.Parse(f[3], CultureInfo.InvariantCulture),
                    int.Parse(f[4], CultureInfo.InvariantCulture), double.Parse(f[5], CultureInfo.InvariantCulture)));
            }
            catch (FormatException) { }
        }
        return rows;
    }

    private void Write()
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var r in _rows)
            text.Append(string.Create(CultureInfo.InvariantCulture, $"{r.Step},{r.TrainMinutes:R},{r.Score:R},{r.SuccessRate:R},{r.Episodes},{r.EvalSeconds:R}\n"));
        AtomicFile.WriteAllText(Path.Combine(_runDir, CsvName), text.ToString());
    }
}

/// <summary>The content of <c>best/best.json</c>.</summary>
/// <param name="Step">The checkpoint's step.</param>
/// <param name="Score">Its validation score.</param>
/// <param name="SuccessRate">Its validation success rate.</param>
/// <param name="Episodes">Validation episodes.</param>
/// <param name="TrainMinutes">Training minutes up to it.</param>
/// <param name="WeightsFile">The EMA weight file in <c>best/</c>.</param>
/// <param name="Validation">What the validation evaluated.</param>
public sealed record BestRecord(long Step, double Score, double SuccessRate, int Episodes, double TrainMinutes, string WeightsFile, string Validation);
