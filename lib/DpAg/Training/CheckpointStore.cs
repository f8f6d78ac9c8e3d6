using System.Globalization;
using DpAg.IO;

namespace DpAg.Training;

/// <summary>A checkpoint folder and the number of optimiser steps completed when it was written.</summary>
/// <param name="Step">Completed optimiser steps.</param>
/// <param name="Path">The folder (e.g. <c>run/checkpoints/step-000001000</c>).</param>
public sealed record CheckpointInfo(long Step, string Path);

/// <summary>
/// The <c>checkpoints/</c> folder of a run: one sub-folder per checkpoint, written atomically (filled under a
/// temporary name, then renamed), a <c>latest</c> pointer file replaced atomically after the rename, and pruning of
/// all but the newest K. A crash at any moment leaves the previous checkpoint and pointer intact; a leftover
/// temporary folder is removed by the next <see cref="Save"/> or <see cref="CleanTemporary"/>.
/// A checkpoint folder is complete when it holds <see cref="CompleteMarker"/>, the file written last.
/// </summary>
public sealed class CheckpointStore
{
    /// <summary>The file every complete checkpoint holds (written last inside the temporary folder).</summary>
    public const string CompleteMarker = "state.json";

    /// <summary>The pointer file's name.</summary>
    public const string LatestPointer = "latest";

    private const string Prefix = "step-";
    private const string TempPrefix = ".tmp-";

    /// <summary>Uses (and creates) <paramref name="directory"/>.</summary>
    public CheckpointStore(string directory)
    {
        Directory = System.IO.Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The checkpoints folder.</summary>
    public string Directory { get; }

    /// <summary>Complete checkpoints, oldest first.</summary>
    public IReadOnlyList<CheckpointInfo> List() =>
        System.IO.Directory.EnumerateDirectories(Directory, Prefix + "*")
            .Select(d => (dir: d, ok: long.TryParse(System.IO.Path.GetFileName(d)[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var s), step: s))
            .Where(x => x.ok && File.Exists(System.IO.Path.Combine(x.dir, CompleteMarker)))
            .OrderBy(x => x.step)
            .Select(x => new CheckpointInfo(x.step, x.dir))
            .ToList();

    /// <summary>
    /// The checkpoint the <c>latest</c> pointer names if it is complete; otherwise (pointer missing or naming a
    /// deleted folder) the complete checkpoint with the most steps; null when there is none.
    /// </summary>
    public CheckpointInfo? Latest()
    {
        var pointer = System.IO.Path.Combine(Directory, LatestPointer);
        if (File.Exists(pointer))
        {
            var name = File.ReadAllText(pointer).Trim();
            var dir = System.IO.Path.Combine(Directory, name);
            if (name.StartsWith(Prefix, StringComparison.Ordinal)
                && long.TryParse(name[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var step)
                && File.Exists(System.IO.Path.Combine(dir, CompleteMarker)))
                return new CheckpointInfo(step, dir);
        }
        return List().LastOrDefault();
    }

    /// <summary>The folder name of a checkpoint after <paramref name="step"/> steps.</summary>
    public static string FolderName(long step) => Prefix + step.ToString("D9", CultureInfo.InvariantCulture);

    /// <summary>
    /// Writes a checkpoint atomically: <paramref name="write"/> fills a fresh temporary folder (it must write
    /// <see cref="CompleteMarker"/> last), which is then renamed to <c>step-NNNNNNNNN</c>; the <c>latest</c>
    /// pointer is replaced next, then the checkpoints beyond the newest <paramref name="keepLast"/> are deleted
    /// (<see cref="Prune"/>). If <paramref name="write"/> throws, the temporary folder is removed and nothing else changes.
    /// <paramref name="isResumePoint"/> marks the steps of checkpoints written only so that a stopped run can resume
    /// (off the checkpoint schedule): they do not take one of the <paramref name="keepLast"/> places.
    /// </summary>
    public CheckpointInfo Save(long step, Action<string> write, int keepLast, Func<long, bool>? isResumePoint = null)
    {
        if (keepLast < 1) throw new ArgumentException($"keepLast = {keepLast}: keep at least 1 checkpoint.", nameof(keepLast));
        CleanTemporary();
        var name = FolderName(step);
        var temp = System.IO.Path.Combine(Directory, $"{TempPrefix}{name}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            if (!File.Exists(System.IO.Path.Combine(temp, CompleteMarker)))
                throw new InvalidOperationException($"Checkpoint writer did not write {CompleteMarker} into {temp}.");
            var final = System.IO.Path.Combine(Directory, name);
            if (System.IO.Directory.Exists(final))
            {
                // Re-saving the same step (e.g. after a resume that stopped at once): swap, then drop the old copy.
                var old = System.IO.Path.Combine(Directory, $"{TempPrefix}old.{name}.{Guid.NewGuid():N}");
                System.IO.Directory.Move(final, old);
                System.IO.Directory.Move(temp, final);
                System.IO.Directory.Delete(old, recursive: true);
            }
            else
            {
                System.IO.Directory.Move(temp, final);
            }
            AtomicFile.WriteAllText(System.IO.Path.Combine(Directory, LatestPointer), name + "\n");
            Prune(keepLast, isResumePoint);
            return new CheckpointInfo(step, final);
        }
        finally
        {
            if (System.IO.Directory.Exists(temp)) System.IO.Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Removes leftovers of interrupted saves (temporary folders).</summary>
    public void CleanTemporary()
    {
        foreach (var d in System.IO.Directory.EnumerateDirectories(Directory, TempPrefix + "*"))
        {
            try { System.IO.Directory.Delete(d, recursive: true); }
            catch (IOException) { /* another process may still be writing it; leave it */ }
        }
    }

    /// <summary>Deletes every checkpoint and the pointer (a fresh start in the same run folder).</summary>
    public void Clear()
    {
        CleanTemporary();
        foreach (var c in List()) System.IO.Directory.Delete(c.Path, recursive: true);
        File.Delete(System.IO.Path.Combine(Directory, LatestPointer));
    }

    /// <summary>
    /// Deletes complete checkpoints older than the newest <paramref name="keepLast"/>; never the one <c>latest</c> names.
    /// Resume points (steps for which <paramref name="isResumePoint"/> is true) are kept only while they are the latest
    /// and do not count towards <paramref name="keepLast"/>, so that a run stopped and resumed keeps the same scheduled
    /// checkpoints as a run trained in one go (a study averages the last few of them).
    /// </summary>
    public void Prune(int keepLast, Func<long, bool>? isResumePoint = null)
    {
        var latest = Latest();
        bool IsLatest(CheckpointInfo c) => latest is not null && c.Path == latest.Path;
        bool Resume(CheckpointInfo c) => isResumePoint is not null && isResumePoint(c.Step);
        var all = List();
        foreach (var c in all.Where(c => Resume(c) && !IsLatest(c)))
            System.IO.Directory.Delete(c.Path, recursive: true);
        var scheduled = all.Where(c => !Resume(c)).ToList();
        foreach (var c in scheduled.Take(Math.Max(0, scheduled.Count - keepLast)))
        {
            if (IsLatest(c)) continue;
            System.IO.Directory.Delete(c.Path, recursive: true);
        }
    }

    /// <summary>Writes a file inside a checkpoint folder and flushes it to disk.</summary>
    public static void WriteFile(string path, Action<Stream> write)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        write(stream);
        stream.Flush(flushToDisk: true);
    }
}
