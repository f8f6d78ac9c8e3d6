using System.Globalization;
using System.Text;
using System.Text.Json;
using DpAg.IO;

namespace DpAg.Training;

/// <summary>One logged optimiser step.</summary>
/// <param name="Step">0-based index of the optimiser step.</param>
/// <param name="Loss">The total loss.</param>
/// <param name="LearningRate">The learning rate the step used.</param>
/// <param name="GradNorm">Global gradient 2-norm before clipping.</param>
/// <param name="EmaDecay">The EMA decay applied after the step (0 without EMA).</param>
/// <param name="Terms">The policy's loss terms.</param>
public sealed record MetricsRow(long Step, double Loss, double LearningRate, double GradNorm, double EmaDecay, IReadOnlyDictionary<string, double> Terms);

/// <summary>
/// Per-step metrics of a run in two files: <c>metrics.csv</c> (columns step, loss, lr, grad_norm, ema_decay, then
/// the loss terms of the first logged step, in the policy's order) and <c>metrics.jsonl</c> (one JSON object per
/// line, every term). Doubles are written round-trip exact. On resume, <see cref="TruncateTo"/> drops the rows of
/// steps after the checkpoint so that the files describe exactly the steps that led to the restored state.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    /// <summary>CSV file name.</summary>
    public const string CsvName = "metrics.csv";

    /// <summary>JSON-lines file name.</summary>
    public const string JsonlName = "metrics.jsonl";

    private static readonly string[] Fixed = ["step", "loss", "lr", "grad_norm", "ema_decay"];
    private readonly string _csvPath, _jsonlPath;
    private StreamWriter? _csv, _jsonl;
    private List<string>? _termColumns;

    /// <summary>Logs into <paramref name="runDir"/> (created), appending to existing files.</summary>
    public MetricsLog(string runDir)
    {
        Directory.CreateDirectory(runDir);
        _csvPath = Path.Combine(runDir, CsvName);
        _jsonlPath = Path.Combine(runDir, JsonlName);
    }

    /// <summary>Path of the CSV file.</summary>
    public string CsvPath => _csvPath;

    /// <summary>Path of the JSON-lines file.</summary>
    public string JsonlPath => _jsonlPath;

    /// <summary>
    /// Keeps only complete rows with step &lt; <paramref name="completedSteps"/> (and the CSV header), rewriting both
    /// files atomically; a torn last line from a killed process is dropped too. 0 deletes the files.
    /// </summary>
    public void TruncateTo(long completedSteps)
    {
        Close();
        if (completedSteps <= 0)
        {
            File.Delete(_csvPath);
            File.Delete(_jsonlPath);
            return;
        }
        if (File.Exists(_csvPath))
        {
            var lines = ReadCompleteLines(_csvPath);
            var kept = new StringBuilder();
            if (lines.Count > 0)
            {
                kept.Append(lines[0]).Append('\n');
                int width = lines[0].Split(',').Length;
                foreach (var line in lines.Skip(1))
                {
                    var cells = line.Split(',');
                    if (cells.Length == width && long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s < completedSteps)
                        kept.Append(line).Append('\n');
                }
            }
            AtomicFile.WriteAllText(_csvPath, kept.ToString());
        }
        if (File.Exists(_jsonlPath))
        {
            var kept = new StringBuilder();
            foreach (var line in ReadCompleteLines(_jsonlPath))
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    if (doc.RootElement.GetProperty("step").GetInt64() < completedSteps) kept.Append(line).Append('\n');
                }
                catch (JsonException) { /* torn line */ }
            }
            AtomicFile.WriteAllText(_jsonlPath, kept.ToString());
        }
    }

    /// <summary>Appends one row to both files (buffered; see <see cref="Flush"/>).</summary>
    public void Append(MetricsRow row)
    {
        Open();
        if (_termColumns is null)
        {
            _termColumns = row.Terms.Keys.ToList();
            _csv!.Write(string.Join(",", Fixed.Concat(_termColumns)) + "\n");
        }
        var csv = new StringBuilder();
        csv.Append(row.Step.ToString(CultureInfo.InvariantCulture));
        foreach (var v in new[] { row.Loss, row.LearningRate, row.GradNorm, row.EmaDecay }) csv.Append(',').Append(Format(v));
        foreach (var name in _termColumns) csv.Append(',').Append(row.Terms.TryGetValue(name, out var v) ? Format(v) : "");
        _csv!.Write(csv.Append('\n').ToString());

        var json = new StringBuilder("{\"step\":").Append(row.Step.ToString(CultureInfo.InvariantCulture));
        void Field(string name, double value) => json.Append(",\"").Append(name).Append("\":").Append(JsonNumber(value));
        Field("loss", row.Loss);
        Field("lr", row.LearningRate);
        Field("grad_norm", row.GradNorm);
        Field("ema_decay", row.EmaDecay);
        foreach (var (name, value) in row.Terms) Field(name, value);
        _jsonl!.Write(json.Append("}\n").ToString());
    }

    /// <summary>Writes buffered rows through to disk (the trainer calls this before every checkpoint).</summary>
    public void Flush()
    {
        _csv?.Flush();
        (_csv?.BaseStream as FileStream)?.Flush(flushToDisk: true);
        _jsonl?.Flush();
        (_jsonl?.BaseStream as FileStream)?.Flush(flushToDisk: true);
    }

    /// <summary>Reads the CSV back (step, column -> value), e.g. to compare runs or plot.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, double>> ReadCsv(string path)
    {
        var lines = ReadCompleteLines(path);
        if (lines.Count == 0) return [];
        var header = lines[0].Split(',');
        return lines.Skip(1).Select(l =>
        {
            var cells = l.Split(',');
            var row = new Dictionary<string, double>();
            for (int i = 0; i < header.Length && i < cells.Length; i++)
                if (cells[i].Length > 0) row[header[i]] = double.Parse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture);
            return (IReadOnlyDictionary<string, double>)row;
        }).ToList();
    }

    /// <inheritdoc/>
    public void Dispose() => Close();

    private void Open()
    {
        if (_csv is not null) return;
        bool hasHeader = File.Exists(_csvPath) && new FileInfo(_csvPath).Length > 0;
        if (hasHeader)
        {
            var header = ReadCompleteLines(_csvPath).FirstOrDefault();
            _termColumns = header?.Split(',').Skip(Fixed.Length).ToList();
        }
        _csv = new StreamWriter(new FileStream(_csvPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        _jsonl = new StreamWriter(new FileStream(_jsonlPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    private void Close()
    {
        Flush();
        _csv?.Dispose();
        _jsonl?.Dispose();
        _csv = _jsonl = null;
        _termColumns = null;
    }

    private static List<string> ReadCompleteLines(string path)
    {
        var text = File.ReadAllText(path);
        var lines = text.Split('\n').ToList();
        lines.RemoveAt(lines.Count - 1); // the part after the last newline is empty or a torn line
        return lines;
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string JsonNumber(double v) => double.IsFinite(v) ? Format(v) : $"\"{Format(v)}\"";
}
