using System.Globalization;
using System.Text.Json;

namespace DpAg.Training;

/// <summary>
/// A run's results without its weights (and without rollout GIFs): the key, config, validation curve, checkpoint states, best-checkpoint record
/// and every evaluation, plus the training losses sampled every <see cref="MetricsEvery"/> steps. A few hundred kB, so
/// a study's finished runs can be committed and read again on a fresh machine (`dpag study --archive DIR`, then
/// `--store DIR --report-only`). An archived folder reads like its run (<see cref="RunStore.IsFinished"/>, the study's
/// results) but holds no weights: it cannot be resumed or evaluated again.
/// </summary>
public static class RunArchive
{
    /// <summary>The marker file that says a folder is an archive, with where it came from.</summary>
    public const string MarkerFile = "archived.json";

    /// <summary>The sampled training log written in place of the full metrics.csv.</summary>
    public const string SampledMetricsFile = "metrics-sampled.csv";

    /// <summary>Every how many rows of metrics.csv the archive keeps (and always the last).</summary>
    public const int MetricsEvery = 100;

    private static readonly string[] LeftOut = ["metrics.csv", "metrics.jsonl", "run.lock", MarkerFile];

    /// <summary>Whether <paramref name="runDir"/> is an archive rather than a run with weights.</summary>
    public static bool IsArchive(string runDir) => File.Exists(Path.Combine(runDir, MarkerFile));

    /// <summary>
    /// Copies <paramref name="runDir"/> without weights into <paramref name="archiveRoot"/>/NAME (NAME = the run folder's
    /// name), replacing an older archive of it; written to a temporary folder first, so an interrupted export leaves
    /// the previous archive whole. Returns the archive folder.
    /// </summary>
    public static string Export(string runDir, string archiveRoot)
    {
        if (!Directory.Exists(runDir)) throw new DirectoryNotFoundException($"No run folder {runDir} to archive.");
        if (IsArchive(runDir)) throw new ArgumentException($"{runDir} is already an archive; archive the run it came from.");
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDir)));
        string dest = Path.Combine(archiveRoot, name);
        string temp = Path.Combine(archiveRoot, $".{name}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var file in Directory.EnumerateFiles(runDir, "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(runDir, file);
                // Weights and rollout GIFs (half a megabyte each; `dpag eval --gifs` draws them again) stay behind.
                if (file.EndsWith(".bin", StringComparison.Ordinal) || file.EndsWith(".gif", StringComparison.Ordinal) || LeftOut.Contains(relative)) continue;
                string target = Path.Combine(temp, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                if (TextFiles.Contains(Path.GetExtension(file))) File.WriteAllText(target, WithoutMachinePaths(File.ReadAllText(file), runDir));
                else File.Copy(file, target);
            }
            string metrics = Path.Combine(runDir, "metrics.csv");
            if (File.Exists(metrics)) File.WriteAllLines(Path.Combine(temp, SampledMetricsFile), Sample(File.ReadAllLines(metrics)));
            File.WriteAllText(Path.Combine(temp, MarkerFile), JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["run"] = name,
                ["archived_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                ["left_out"] = "weights (*.bin), rollout GIFs (*.gif), metrics.jsonl; metrics.csv sampled every " + MetricsEvery.ToString(CultureInfo.InvariantCulture) + " steps into " + SampledMetricsFile,
            }, new JsonSerializerOptions { WriteIndented = true }));
            if (Directory.Exists(dest)) Directory.Delete(dest, recursive: true);
            Directory.Move(temp, dest);
            return dest;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private static readonly HashSet<string> TextFiles = new(StringComparer.OrdinalIgnoreCase) { ".json", ".csv", ".txt", ".md" };

    /// <summary>
    /// <paramref name="text"/> with this machine's folders taken out of the paths it records (a run folder written as
    /// STORE/dp-0123, with STORE the store's absolute folder, reads dp-0123; a dataset under the working folder reads data/...), so a
    /// committed archive holds no machine paths.
    /// </summary>
    internal static string WithoutMachinePaths(string text, string runDir)
    {
        string store = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDir)))!;
        string working = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Environment.CurrentDirectory));
        foreach (var root in new[] { store, working }.Where(r => r.Length > 1).Distinct().OrderByDescending(r => r.Length))
            text = text.Replace(root + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
        return text;
    }

    /// <summary>The header, every <see cref="MetricsEvery"/>-th row and the last row.</summary>
    private static IEnumerable<string> Sample(string[] lines)
    {
        if (lines.Length == 0) yield break;
        yield return lines[0];
        for (int i = 1; i < lines.Length; i++)
            if ((i - 1) % MetricsEvery == 0 || i == lines.Length - 1) yield return lines[i];
    }
}
