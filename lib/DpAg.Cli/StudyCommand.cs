using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using DpAg.Studies;
using DpAg.Training;

namespace DpAg.Cli;

/// <summary>
/// <c>dpag study</c>: a declarative study (studies/*.json): every cell (variant x training seed) is a run in the run store,
/// trained with the study's budget, evaluated on Push-T and Dynamic Push-T, then aggregated with paired statistics
/// into a report. Resumable: stop with --stop-after and run the same command again.
/// </summary>
internal static partial class StudyCommand
{
    public static Command Create()
    {
        var study = new Option<string>("--study") { Description = "The study file (JSON; see docs/studies.md).", Required = true };
        var store = new Option<string>("--store") { Description = "The run store (shared by every cell; a cluster shares this folder).", DefaultValueFactory = _ => "artifacts/runs" };
        var dataset = new Option<string?>("--dataset") { Description = "Train on this dataset instead of the study's (tests)." };
        var cell = new Option<string[]>("--cell") { Description = "Only these cells (VARIANT/SEED, repeatable): train, then evaluate. The commands of --list-commands use it.", AllowMultipleArgumentsPerToken = false };
        var list = new Option<bool>("--list-commands") { Description = "Print one self-contained command per run (for GNU parallel or a Slurm array) and exit." };
        var evaluateOnly = new Option<bool>("--evaluate") { Description = "Evaluate finished cells only; train nothing." };
        var trainOnly = new Option<bool>("--train-only") { Description = "Train only; evaluate nothing." };
        var report = new Option<string?>("--report") { Description = "Write the report (report.md, CSV tables, PNG figures) of whatever has finished into this folder." };
        var reportOnly = new Option<bool>("--report-only") { Description = "With --report: only aggregate; train and evaluate nothing." };
        var plan = new Option<bool>("--plan") { Description = "Print the cells, their run folders and state, and the planned CPU time, then exit." };
        var stopAfter = new Option<string?>("--stop-after") { Description = "Stop with a checkpoint after this long (90s, 45m, 6h) or once each run has this many steps (a number); run again to continue." };
        var retries = new Option<int>("--retries") { Description = "After a native fault in a step, resume from the last checkpoint up to this many times.", DefaultValueFactory = _ => 3 };
        var noFigures = new Option<bool>("--no-figures") { Description = "Report without the PNG figures." };
        var archive = new Option<string?>("--archive") { Description = "Copy every evaluated cell's run without its weights (results, curves, evaluations; a few hundred kB) into this folder, to commit; read it back with --store FOLDER --report-only." };
        var command = new Command("study", "Run a declarative study (variants x training seeds) in the run store and report paired statistics with verdicts.")
        {
            study, store, dataset, cell, list, evaluateOnly, trainOnly, report, reportOnly, plan, stopAfter, retries, noFigures, archive,
        }.WithRuntimeOptions();
        command.SetAction(parse => Commands.Guarded(() =>
        {
            string studyPath = parse.GetValue(study)!;
            var definition = StudyDefinition.Load(studyPath);
            var (stopSteps, stopTime) = ParseStopAfter(parse.GetValue(stopAfter));
            var selected = (parse.GetValue(cell) ?? []).Select(definition.Cell).ToList();
            if (selected.Count == 0) selected = [.. definition.Cells];
            if (parse.GetValue(evaluateOnly) && parse.GetValue(trainOnly)) throw new ArgumentException("--evaluate and --train-only exclude each other.");
            if (parse.GetValue(reportOnly) && parse.GetValue(report) is null) throw new ArgumentException("--report-only needs --report FOLDER.");
            Commands.RequirePhysicsEngine();
            var info = Commands.InitRuntime(parse);
            var runner = new StudyRunner(definition, parse.GetValue(store)!, parse.GetValue(dataset) ?? FindDataset(definition.DatasetPath, studyPath));
            var log = Console.Error;

            if (parse.GetValue(list))
            {
                var extra = new List<string>();
                if (parse.GetValue(dataset) is { } d) extra.AddRange(["--dataset", Path.GetFullPath(d)]);
                if (parse.GetValue(stopAfter) is { } s) extra.AddRange(["--stop-after", s]);
                extra.AddRange(["--retries", parse.GetValue(retries).ToString(CultureInfo.InvariantCulture)]);
                if (parse.GetValue(trainOnly)) extra.Add("--train-only");
                if (parse.GetValue(evaluateOnly)) extra.Add("--evaluate");
                foreach (var line in ListCommands(parse, runner, selected, studyPath, extra)) Console.WriteLine(line);
                return 0;
            }
            if (parse.GetValue(plan))
            {
                PrintPlan(runner, selected);
                return 0;
            }

            // An archive (`--archive`) is a folder of results without weights: training a missing cell there would put
            // weights into the folder meant for committing, so a store that holds archived runs only reports.
            // StudyRunner refuses too, cell by cell; this says so once, before any work, in the command's words.
            if (!parse.GetValue(reportOnly) && runner.HoldsArchives)
                throw new ArgumentException($"--store {runner.Store.Root} holds archived runs (results without weights, written by --archive), so a study can only report from it: " +
                    "add --report-only to rebuild the report, or train and evaluate in a run store (e.g. artifacts/runs) and copy the results here with --archive.");

            // Stops like --stop-after on its time limit or on Ctrl-C / SIGTERM (a Slurm time limit), whichever comes first.
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(Interrupts.Listen(log));
            if (stopTime is { } t) timer.CancelAfter(t);
            bool stopped = false;
            if (!parse.GetValue(reportOnly))
            {
                foreach (var id in selected)
                {
                    if (timer.IsCancellationRequested) { stopped = true; break; }
                    var c = runner.Resolve(id);
                    if (!parse.GetValue(evaluateOnly) && !runner.IsTrained(c))
                    {
                        log.WriteLine($"dpag study: {id.Name}: training {c.RunDir}");
                        var result = runner.Train(c, info.Device, log, stopSteps, parse.GetValue(retries), timer.Token);
                        Console.WriteLine($"{id.Name}: trained {result.CompletedSteps}/{result.TotalSteps} steps ({c.RunDir})");
                        if (!result.Finished) { stopped = true; continue; }
                    }
                    if (parse.GetValue(trainOnly)) continue;
                    if (!runner.IsTrained(c)) { log.WriteLine($"dpag study: {id.Name}: not trained yet; skipped."); continue; }
                    int n = runner.Evaluate(c, info.Device, log, parse.GetValue(Commands.Threads), timer.Token);
                    if (!runner.IsEvaluated(c)) stopped = true;
                    Console.WriteLine($"{id.Name}: {(runner.IsEvaluated(c) ? "evaluated" : "partly evaluated")} ({n} new evaluations)");
                }
            }
            if (Interrupts.Received is { } signal)
            {
                // Asked to quit: the report and the archive wait for the next invocation.
                Console.WriteLine($"stopped by {signal} (no report or archive written); run the same command again to continue.");
                return Interrupts.ExitCode;
            }
            if (parse.GetValue(archive) is { } archiveRoot)
            {
                int archived = 0;
                foreach (var c in selected.Select(runner.Resolve).DistinctBy(c => c.RunDir).Where(runner.IsEvaluated))
                {
                    if (RunArchive.IsArchive(c.RunDir)) continue;
                    RunArchive.Export(c.RunDir, archiveRoot);
                    archived++;
                }
                Console.WriteLine($"archive: {archived} evaluated runs copied without weights into {archiveRoot}");
            }
            if (parse.GetValue(report) is { } folder)
            {
                var results = StudyResults.Load(runner);
                var table = StudyReport.Write(definition, results, folder, studyPath, figures: !parse.GetValue(noFigures));
                foreach (var claim in table.Claims) Console.WriteLine(claim.Line);
                Console.WriteLine($"report: {Path.Combine(folder, "report.md")} ({results.Count(r => r.Evaluated(definition))} of {results.Count} cells evaluated)");
            }
            if (stopped) Console.WriteLine("stopped before the end (--stop-after); run the same command again to continue.");
            return 0;
        }));
        return command;
    }

    /// <summary>One shell line per run (cells that share a run go on one line, so it is trained once).</summary>
    private static IEnumerable<string> ListCommands(ParseResult parse, StudyRunner runner, IReadOnlyList<StudyCellId> cells, string studyPath, IEnumerable<string> extra)
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        string entry = Path.GetFileName(exe) is "dotnet" or "dotnet.exe" ? $"{Quote(exe)} {Quote(typeof(StudyCommand).Assembly.Location)}" : Quote(exe);
        var common = new List<string> { "study", "--study", Path.GetFullPath(studyPath), "--store", Path.GetFullPath(runner.Store.Root) };
        common.AddRange(["--threads", (parse.GetValue(Commands.Threads) ?? 1).ToString(CultureInfo.InvariantCulture)]);
        common.AddRange(["--device", parse.GetValue(Commands.Device)!]);
        common.AddRange(extra);
        foreach (var group in cells.GroupBy(c => runner.Resolve(c).RunDir))
        {
            var args = new List<string>(common);
            foreach (var c in group) args.AddRange(["--cell", c.Name]);
            yield return $"cd {Quote(Environment.CurrentDirectory)} && {entry} {string.Join(" ", args.Select(Quote))}";
        }
    }

    private static void PrintPlan(StudyRunner runner, IReadOnlyList<StudyCellId> cells)
    {
        var study = runner.Study;
        foreach (var id in cells)
        {
            var c = runner.Resolve(id);
            string state = runner.IsEvaluated(c) ? "evaluated" : runner.IsTrained(c) ? "trained" : Directory.Exists(Path.Combine(c.RunDir, "checkpoints")) ? "started" : "new";
            Console.WriteLine($"{id.Name,-36} {state,-9} {string.Join("; ", c.Samplings.Select(s => s.Label)),-22} {c.RunDir}");
        }
        var (runs, train, evaluations, eval) = StudyRunner.PlanOf(study);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"plan: {runs} runs, {train / 60:F1} h training + {evaluations} checkpoint evaluations {eval / 60:F1} h = {(train + eval) / 60:F1} CPU hours (one core per run){(study.Plan.Note.Length > 0 ? $"; {study.Plan.Note}" : "")}"));
    }

    /// <summary>
    /// The study's dataset: as given when it exists from the working folder, else relative to the first folder above the
    /// study file that holds it (the repository's data/ when the study file is in the repository).
    /// </summary>
    private static string FindDataset(string path, string studyPath)
    {
        if (Path.IsPathRooted(path) || Directory.Exists(path)) return path;
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(studyPath))!); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, path))) return Path.Combine(dir.FullName, path);
        return path;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(s|m|h)$")]
    private static partial Regex Duration();

    /// <summary>"--stop-after": a number of steps (per run, total) or a duration such as 90s, 45m, 6h.</summary>
    internal static (long? Steps, TimeSpan? Time) ParseStopAfter(string? value)
    {
        if (string.IsNullOrEmpty(value)) return (null, null);
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long steps) && steps > 0) return (steps, null);
        var m = Duration().Match(value);
        if (!m.Success) throw new ArgumentException($"--stop-after '{value}': use a number of steps (e.g. 12000) or a duration (90s, 45m, 6h).");
        double x = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return (null, m.Groups[2].Value switch { "s" => TimeSpan.FromSeconds(x), "m" => TimeSpan.FromMinutes(x), _ => TimeSpan.FromHours(x) });
    }

    private static string Quote(string s) => Regex.IsMatch(s, @"^[A-Za-z0-9_./=:+-]+$") ? s : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
