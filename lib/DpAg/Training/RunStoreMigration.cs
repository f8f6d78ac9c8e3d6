using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DpAg.IO;
using DpAg.Policies;

namespace DpAg.Training;

/// <summary>
/// Re-keys run folders written before <see cref="RunStore.KeyFormat"/> 2. A key is the hash of the run's description,
/// and format 2 writes the policy part as a per-kind spec (<see cref="PolicySpec"/>), so every older folder sits
/// under a name the store no longer asks for and its run would be trained again. Migrating converts its
/// <c>key.json</c> and <c>policy.json</c> (<see cref="LegacyPolicySpec"/>: the same network and numbers), renames the
/// folder to the hash of the converted key (exactly the name <see cref="RunStore.RunDir"/> now gives that
/// configuration) and leaves <see cref="NoteFile"/> saying what was done. Checkpoints, logs and evaluations are kept as they are.
/// </summary>
internal static class RunStoreMigration
{
    /// <summary>The note left in a migrated folder.</summary>
    public const string NoteFile = "MIGRATED.txt";

    /// <summary>What happened to one folder: migrated (<paramref name="To"/> set), or skipped with <paramref name="Reason"/>.</summary>
    public sealed record Outcome(string From, string? To, string? Reason);

    /// <summary>
    /// The converted key text and spec of a format-1 <c>key.json</c>, or null when <paramref name="keyText"/> is not format 1.
    /// </summary>
    /// <exception cref="InvalidDataException">The key is format 1 but unreadable; the message names <paramref name="source"/>.</exception>
    public static (string Key, PolicySpec Spec)? ConvertKey(string keyText, string source)
    {
        JsonObject key;
        try { key = JsonNode.Parse(keyText) as JsonObject ?? throw new InvalidDataException($"{source}: not a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e); }
        if (key["format"] is not JsonValue f || !f.TryGetValue<int>(out int format) || format != 1) return null;
        var policy = key["policy"] as JsonObject ?? throw new InvalidDataException($"{source}: a format-1 key without \"policy\".");
        var spec = PolicySpec.Parse(policy.ToJsonString(), $"{source} (policy)");
        key["format"] = RunStore.KeyFormat;
        key["policy"] = spec.ToJsonNode();
        return (RunStore.Text(key), spec);
    }

    /// <summary>The format-1 folder of <paramref name="root"/> whose migrated name is <paramref name="folderName"/>, or null.</summary>
    public static string? FindOldFormat(string root, string folderName)
    {
        if (!Directory.Exists(root)) return null;
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            string keyPath = Path.Combine(dir, RunStore.KeyFile);
            if (!File.Exists(keyPath)) continue;
            try
            {
                if (ConvertKey(File.ReadAllText(keyPath), keyPath) is { } converted && RunStore.FolderName(converted.Spec, converted.Key) == folderName)
                    return dir;
            }
            catch (InvalidDataException) { }   // an unreadable neighbour is not this run; `dpag store migrate` reports it
        }
        return null;
    }

    /// <summary>
    /// Migrates every format-1 run folder of <paramref name="root"/>; current folders and folders without a key are
    /// left alone. A folder is skipped (and reported) when its new name is taken, when another process holds its
    /// lock, or when its files cannot be read. <paramref name="dryRun"/> reports what would be done and changes nothing.
    /// </summary>
    public static IReadOnlyList<Outcome> MigrateStore(string root, bool dryRun = false)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"No run store at {root}; give the folder that holds the run folders (e.g. artifacts/runs).");
        var outcomes = new List<Outcome>();
        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal).ToList())
        {
            string keyPath = Path.Combine(dir, RunStore.KeyFile);
            if (!File.Exists(keyPath)) continue;
            try
            {
                if (ConvertKey(File.ReadAllText(keyPath), keyPath) is not { } converted) continue;
                string target = Path.Combine(root, RunStore.FolderName(converted.Spec, converted.Key));
                if (Directory.Exists(target))
                {
                    outcomes.Add(new Outcome(dir, null, $"{target} already exists (the run was trained again under its new name); keep one of the two by hand"));
                    continue;
                }
                if (dryRun) { outcomes.Add(new Outcome(dir, target, null)); continue; }
                using (var held = TryLock(dir))
                {
                    if (held is null) { outcomes.Add(new Outcome(dir, null, "another process holds its run.lock; run the migration again when it is done")); continue; }
                    string policyPath = Path.Combine(dir, PolicySpec.FileName);
                    var spec = File.Exists(policyPath) ? PolicySpec.Load(policyPath) : converted.Spec;
                    if (spec.ToJson() != converted.Spec.ToJson())
                    {
                        outcomes.Add(new Outcome(dir, null, $"its {PolicySpec.FileName} and {RunStore.KeyFile} describe different policies; left as it is"));
                        continue;
                    }
                    spec.Save(policyPath);
                    AtomicFile.WriteAllText(keyPath, converted.Key);
                    AtomicFile.WriteAllText(Path.Combine(dir, NoteFile), string.Create(CultureInfo.InvariantCulture,
                        $"Migrated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `dpag store migrate` from {Path.GetFileName(dir)} (key format 1) to {Path.GetFileName(target)} (key format {RunStore.KeyFormat}).\n" +
                        $"{PolicySpec.FileName} and {RunStore.KeyFile} were rewritten in the per-kind spec layout (the same network and numbers); checkpoints, logs and evaluations are unchanged.\n"));
                }
                Directory.Move(dir, target);
                outcomes.Add(new Outcome(dir, target, null));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or JsonException)
            {
                outcomes.Add(new Outcome(dir, null, e.Message));
            }
        }
        return outcomes;
    }

    private static FileStream? TryLock(string dir)
    {
        try { return new FileStream(Path.Combine(dir, "run.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) { return null; }
    }
}
