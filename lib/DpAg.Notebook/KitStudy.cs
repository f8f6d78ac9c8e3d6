using DpAg.Studies;

namespace DpAg.Notebook;

/// <summary>A study's results as a notebook shows them, with where they were read.</summary>
/// <param name="Study">The study definition.</param>
/// <param name="Results">Every cell, with what has finished.</param>
/// <param name="Table">The tables, comparisons and verdicts computed from <paramref name="Results"/>.</param>
/// <param name="Folder">The store or archive the cells were read from (null: none has results yet).</param>
/// <param name="Source">One sentence for the reader: where the numbers come from and how many cells have finished.</param>
public sealed record StudyView(StudyDefinition Study, IReadOnlyList<CellResult> Results, StudyTable Table, string? Folder, string Source)
{
    /// <summary>Cells whose evaluation is complete.</summary>
    public int EvaluatedCells => Results.Count(r => r.Evaluated(Study));
}

/// <summary>
/// The results of a study (<c>dpag study</c>) for a notebook: from the user's run store (<c>artifacts/runs/</c>) when
/// it holds at least as many evaluated cells of the study as the kit's committed archive, otherwise from that archive
/// (the newest <c>docs/results/DATE-NAME/runs/</c>, written by <c>dpag study --archive</c>). Nothing is trained or
/// evaluated here; the numbers are recomputed from the per-episode files either way.
/// </summary>
public static class KitStudy
{
    /// <summary>Loads the study in <paramref name="studyFile"/> (relative to the repository root unless rooted).</summary>
    public static StudyView Load(string studyFile = "studies/dpag-vs-dp.json")
    {
        string root = KitRuns.RepoRoot;
        string path = Path.IsPathRooted(studyFile) ? studyFile : Path.Combine(root, studyFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No study file {path}; the kit's study is studies/dpag-vs-dp.json (see `dpag study --help`).", path);
        var study = StudyDefinition.Load(path);

        // The run folders are keyed by the dataset's content, so the dataset is opened from the repository root.
        string dataset = Path.Combine(root, study.DatasetPath);
        var (storeResults, storeCount) = Read(study, Path.Combine(root, "artifacts", "runs"), dataset);
        string? archive = NewestArchive(root, study.Name);
        var (archiveResults, archiveCount) = archive is null ? (null, 0) : Read(study, archive, dataset);

        int total = study.Cells.Count;
        if (storeCount > 0 && storeCount >= archiveCount)
            return View(study, storeResults!, Path.Combine(root, "artifacts", "runs"),
                $"your run store artifacts/runs/ ({storeCount} of {total} cells evaluated; `dpag study --study {studyFile}` continues it)");
        if (archive is not null && archiveCount > 0)
            return View(study, archiveResults!, archive,
                $"the kit's committed results {Path.GetRelativePath(root, archive)}/ ({archiveCount} of {total} cells evaluated; " +
                "your run store has " + (storeCount == 0 ? "none" : storeCount.ToString(System.Globalization.CultureInfo.InvariantCulture)) + ")");
        return View(study, storeResults ?? [], null,
            $"no evaluated cell yet, neither in artifacts/runs/ nor under docs/results/*-{study.Name}/runs/: run `scripts/dpag study --study {studyFile}`");
    }

    /// <summary>The newest <c>docs/results/DATE-NAME/runs</c> folder of study <paramref name="name"/>, or null.</summary>
    public static string? NewestArchive(string repoRoot, string name)
    {
        string results = Path.Combine(repoRoot, "docs", "results");
        if (!Directory.Exists(results)) return null;
        return Directory.EnumerateDirectories(results, $"*-{name}")
            .Select(d => Path.Combine(d, "runs"))
            .Where(Directory.Exists)
            .OrderBy(d => d, StringComparer.Ordinal)
            .LastOrDefault();
    }

    private static (IReadOnlyList<CellResult>? Results, int Evaluated) Read(StudyDefinition study, string folder, string dataset)
    {
        if (!Directory.Exists(folder)) return (null, 0);
        var results = StudyResults.Load(new StudyRunner(study, folder, dataset));
        return (results, results.Count(r => r.Evaluated(study)));
    }

    private static StudyView View(StudyDefinition study, IReadOnlyList<CellResult> results, string? folder, string source) =>
        new(study, results, StudyTable.Build(study, results), folder, source);
}
