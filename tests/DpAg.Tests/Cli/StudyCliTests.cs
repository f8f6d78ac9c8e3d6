using System.Diagnostics;
using DpAg.Studies;

namespace DpAg.Tests.Cli;

/// <summary>
/// `dpag study` end to end on the tiny study (studies/ci-tiny.json: the ci recipe, DP and DP-AG, 2 seeds, 3 short test
/// episodes): sequentially in one process; and, in a second store, stopped off the checkpoint schedule, then continued through GNU parallel
/// with 2 workers from the commands of --list-commands. Both give the same tables (timings aside).
/// </summary>
public class StudyCliTests
{
    private static readonly string Study = Path.Combine(CliRunner.RepoRoot, "studies", "ci-tiny.json");
    private static readonly string Data = Path.Combine(CliRunner.RepoRoot, "data", "pusht_expert.zarr");

    [Fact]
    public void SequentialAndStoppedThenParallelStudiesGiveTheSameTables()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-study-{Guid.NewGuid():N}");
        try
        {
            string[] common = ["study", "--study", Study, "--dataset", Data, "--threads", "1"];
            // 1. Sequential, in one process, with the report and its figures.
            string storeA = Path.Combine(dir, "a"), reportA = Path.Combine(dir, "report-a");
            var (code, output, err) = CliRunner.Run([.. common, "--store", storeA, "--report", reportA]);
            Assert.True(code == 0, $"sequential study failed ({code}): {err}");
            Assert.Contains("dpag/1: evaluated", output);
            Assert.Contains("report: ", output);
            Assert.Contains("4 of 4 cells evaluated", output);
            foreach (var f in new[] { "report.md", "episodes.csv", "validation.csv", "cells.csv", "variants.csv", "comparisons.csv", "claims.csv", "convergence.csv", "scores_pusht.png", "effects.png", "validation_curves.png" })
                Assert.True(File.Exists(Path.Combine(reportA, f)), f);
            string md = File.ReadAllText(Path.Combine(reportA, "report.md"));
            Assert.Contains("## Verdicts on the paper's claims", md);
            Assert.Contains("95 % CI", md);
            // The summaries are what the evaluation files say: last = mean over the last 2 checkpoints, max = the best of them.
            var cellRows = File.ReadAllLines(Path.Combine(reportA, "cells.csv")).Skip(1).Select(l => l.Split(',')).ToList();
            var dp0 = cellRows.Where(r => r[0] == "dp" && r[1] == "0" && r[2] == "pusht").ToDictionary(r => r[5]);
            string evalDir = Assert.Single(Directory.GetDirectories(Path.Combine(storeA, dp0["last"][^1], "study-eval", "pusht")));
            var perCheckpoint = Directory.GetFiles(evalDir, "step-*.json").Order().Select(f =>
            {
                using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(f));
                return doc.RootElement.GetProperty("per_episode").EnumerateArray().Select(e => e.GetProperty("MaxReward").GetDouble()).ToArray();
            }).ToList();
            Assert.Equal(2, perCheckpoint.Count);
            double Score(string summary) => double.Parse(dp0[summary][8], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(perCheckpoint.Average(c => c.Average()), Score("last"), 12);
            Assert.Equal(perCheckpoint.Max(c => c.Average()), Score("max"), 12);

            // A second run is a store hit: nothing is trained or evaluated again.
            (code, output, err) = CliRunner.Run([.. common, "--store", storeA]);
            Assert.True(code == 0, $"repeat failed ({code}): {err}");
            Assert.Contains("dp/0: evaluated (0 new evaluations)", output);
            Assert.DoesNotContain("dp/0: trained", output);

            // The evaluated runs archived without weights report the same tables from a store of archives alone.
            string archive = Path.Combine(dir, "archive"), reportArchive = Path.Combine(dir, "report-archive");
            string gif = Path.Combine(Directory.GetDirectories(storeA)[0], "eval", "step-000000001", "episode_100000.gif");
            Directory.CreateDirectory(Path.GetDirectoryName(gif)!);
            File.WriteAllBytes(gif, [0x47, 0x49, 0x46]);                                   // a rollout GIF of a `dpag eval --gifs`
            (code, output, err) = CliRunner.Run([.. common, "--store", storeA, "--report", reportArchive, "--report-only", "--no-figures", "--archive", archive]);
            Assert.True(code == 0, $"archive failed ({code}): {err}");
            Assert.Contains("archive: 4 evaluated runs copied without weights", output);
            Assert.Empty(Directory.GetFiles(archive, "*.bin", SearchOption.AllDirectories));
            Assert.Empty(Directory.GetFiles(archive, "*.gif", SearchOption.AllDirectories));
            // The runs record their absolute folders (config.json, checkpoint states); a committed archive must not.
            Assert.Contains(Directory.GetFiles(storeA, "*.json", SearchOption.AllDirectories), f => File.ReadAllText(f).Contains(Path.GetFullPath(storeA)));
            Assert.All(Directory.GetFiles(archive, "*", SearchOption.AllDirectories),
                f => Assert.False(File.ReadAllText(f).Contains(Path.GetFullPath(storeA)), $"{f} names the machine's store folder"));
            Assert.All(Directory.GetDirectories(archive), run => Assert.True(File.Exists(Path.Combine(run, "metrics-sampled.csv")), run));
            string fromArchive = Path.Combine(dir, "report-from-archive");
            (code, output, err) = CliRunner.Run([.. common, "--store", archive, "--report", fromArchive, "--report-only", "--no-figures"]);
            Assert.True(code == 0, $"report from the archive failed ({code}): {err}");
            Assert.Contains("4 of 4 cells evaluated", output);
            foreach (var table in new[] { "cells.csv", "variants.csv", "comparisons.csv", "claims.csv", "convergence.csv", "episodes.csv", "validation.csv" })
                Assert.Equal(File.ReadAllText(Path.Combine(reportArchive, table)), File.ReadAllText(Path.Combine(fromArchive, table)));
            // An archive cannot be trained or evaluated again: a study over it says so instead of retraining, whether
            // the cell is missing from it (it would train into the archive) or its evaluation is incomplete.
            string evalDirOfArchive = Directory.GetDirectories(Path.Combine(archive, dp0["last"][^1], "study-eval", "pusht")).Single();
            File.Delete(Directory.GetFiles(evalDirOfArchive, "step-*.json").First());
            Directory.Delete(Directory.GetDirectories(archive).First(d => Path.GetFileName(d) != dp0["last"][^1]), recursive: true);   // a cell missing from it
            string Listing() => string.Join("\n", Directory.GetFileSystemEntries(archive, "*", SearchOption.AllDirectories).Order());
            string before = Listing();
            foreach (string[] extra in new[] { new[] { "--cell", "dp/0" }, [] })
            {
                (code, _, err) = CliRunner.Run([.. common, "--store", archive, .. extra]);
                Assert.NotEqual(0, code);
                Assert.Contains($"--store {archive} holds archived runs (results without weights, written by --archive)", err);
                Assert.Contains("add --report-only to rebuild the report", err);
            }
            Assert.Equal(before, Listing());   // nothing written
            // The library refuses too (a notebook drives StudyRunner without the command line).
            Torch.Init();
            var overArchive = new StudyRunner(StudyDefinition.Load(Study), archive, Data);
            Assert.Contains("is an archive (results without weights) and cannot be evaluated", Assert.Throws<InvalidOperationException>(
                () => overArchive.Evaluate(overArchive.Resolve(new StudyCellId("dp", 0)), TorchSharp.torch.CPU, TextWriter.Null)).Message);
            int missing = 0;
            foreach (var id in overArchive.Study.Cells)   // the missing cell included: it would train into the archive
            {
                var cell = overArchive.Resolve(id);
                string message = Assert.Throws<InvalidOperationException>(() => overArchive.Train(cell, TorchSharp.torch.CPU, TextWriter.Null)).Message;
                Assert.Contains("cannot be trained", message);
                if (Directory.Exists(cell.RunDir)) continue;
                Assert.Contains($"the store {archive} holds archived runs", message);
                missing++;
            }
            Assert.Equal(1, missing);
            Assert.Equal(before, Listing());

            // 2. Another store: stop every run at step 30 (off the checkpoint schedule of 20 and 40), then let GNU parallel
            // finish the cells with 2 workers. The stop's checkpoint is only a resume point: the runs keep 20 and 40 as
            // the sequential runs do, so "the last 2 checkpoints" and every table are the same.
            string storeB = Path.Combine(dir, "b"), reportB = Path.Combine(dir, "report-b");
            (code, output, err) = CliRunner.Run([.. common, "--store", storeB, "--stop-after", "30", "--report", reportB, "--no-figures"]);
            Assert.True(code == 0, $"stopped study failed ({code}): {err}");
            Assert.Contains("dp/0: trained 30/40 steps", output);
            Assert.Contains("run the same command again to continue", output);
            Assert.Contains("0 of 4 cells evaluated", output);
            Assert.Contains("no training seed of dpag and dp is finished", File.ReadAllText(Path.Combine(reportB, "report.md")));
            // Runs still training are in no table: not even their validation curves so far.
            Assert.Equal("variant,seed,step,train_minutes,score,success_rate", File.ReadAllText(Path.Combine(reportB, "validation.csv")).Trim());

            (code, output, err) = CliRunner.Run([.. common, "--store", storeB, "--list-commands"]);
            Assert.True(code == 0, $"--list-commands failed ({code}): {err}");
            var commands = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, commands.Length);   // one per run
            Assert.All(commands, c => Assert.Contains("--cell ", c));
            string list = Path.Combine(dir, "commands.txt");
            File.WriteAllLines(list, commands);
            var (pcode, pout, perr) = RunParallel(list);
            Assert.True(pcode == 0, $"parallel failed ({pcode}): {pout}\n{perr}");
            Assert.Contains("Resuming", perr + pout);   // the cells continued from their step-30 checkpoints
            (code, output, err) = CliRunner.Run([.. common, "--store", storeB, "--report", reportB, "--report-only", "--no-figures"]);
            Assert.True(code == 0, $"report failed ({code}): {err}");
            Assert.Contains("4 of 4 cells evaluated", output);

            foreach (var table in new[] { "cells.csv", "variants.csv", "comparisons.csv", "claims.csv", "convergence.csv", "episodes.csv", "validation.csv" })
                Assert.Equal(WithoutTimings(Path.Combine(reportA, table)), WithoutTimings(Path.Combine(reportB, table)));

            // A bad study file is refused before anything runs.
            string bad = Path.Combine(dir, "bad.json");
            File.WriteAllText(bad, File.ReadAllText(Study).Replace("\"preset\": \"released\",", "\"preset\": \"released\", \"overrides\": { \"gama\": 2 },"));
            (code, _, err) = CliRunner.Run("study", "--study", bad, "--store", storeB, "--plan");
            Assert.Equal(2, code);
            Assert.Contains("unknown override 'gama'", err);
            Assert.Contains("gamma", err);
            (code, _, err) = CliRunner.Run("study", "--study", Study, "--store", storeB, "--stop-after", "soon");
            Assert.Equal(2, code);
            Assert.Contains("--stop-after 'soon': use a number of steps (e.g. 12000) or a duration (90s, 45m, 6h)", err);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void AReducedBudgetAblationIsComparedWithItsReferenceOnly()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-study-half-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            string study = Path.Combine(dir, "half.json");
            const string DpAg = """{ "name": "dpag", "policy": "dp-ag", "preset": "released", "noise_scale": "consistent" }""";
            File.WriteAllText(study, File.ReadAllText(Study)
                .Replace("\"seeds\": [0, 1]", "\"seeds\": [0]").Replace("\"min_seeds\": 2", "\"min_seeds\": 1")
                .Replace(DpAg, DpAg + ",\n" +
                    """{ "name": "ref", "policy": "dp-ag", "preset": "released", "steps": 20 },""" + "\n" +
                    """{ "name": "abl", "policy": "dp-ag", "preset": "released", "steps": 20, "overrides": { "gamma": 2 }, "ablation_of": "ref" }"""));
            string report = Path.Combine(dir, "report");
            var (code, output, err) = CliRunner.Run("study", "--study", study, "--dataset", Data, "--threads", "1", "--store", Path.Combine(dir, "store"),
                "--report", report);
            Assert.True(code == 0, $"study failed ({code}): {err}");
            Assert.Contains("abl/0: trained 20/20 steps", output);
            Assert.True(File.Exists(Path.Combine(report, "effects_ablations.png")));
            string md = File.ReadAllText(Path.Combine(report, "report.md"));
            Assert.Contains("](effects_ablations.png)", md);
            Assert.Contains("- reduced budget: ref, abl train 20 steps, with checkpoints every 10 and validation every 10 steps (the budget's proportions)", md);
            var pairs = File.ReadAllLines(Path.Combine(report, "comparisons.csv")).Skip(1).Select(l => string.Join(",", l.Split(',').Take(2))).ToHashSet();
            Assert.Equal(new HashSet<string> { "dpag,dp", "abl,ref" }, pairs);
            // Each reduced run kept its last 2 checkpoints (steps 10 and 20), as the full runs keep 20 and 40.
            var abl = File.ReadAllLines(Path.Combine(report, "cells.csv")).Skip(1).Select(l => l.Split(',')).First(r => r[0] == "abl" && r[5] == "last");
            Assert.Equal("10 20", abl[6]);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    /// <summary>Runs the commands of <paramref name="list"/> with GNU parallel, 2 workers, stopping at the first failure.</summary>
    private static (int Code, string Out, string Err) RunParallel(string list)
    {
        var start = new ProcessStartInfo("parallel") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--will-cite", "-j", "2", "--halt", "now,fail=1", "--arg-file", list }) start.ArgumentList.Add(a);
        Process? p;
        try { p = Process.Start(start); }
        catch (System.ComponentModel.Win32Exception) { p = null; }
        Assert.True(p is not null, "GNU parallel is not installed: apt-get install parallel (scripts/setup.sh --test-deps installs it).");
        using (p)
        {
            var err = p!.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output, err.Result);
        }
    }

    /// <summary>A CSV without its wall-time columns and rows (minutes differ between runs; every other number must not).</summary>
    private static string WithoutTimings(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var keep = Enumerable.Range(0, header.Length).Where(i => !header[i].Contains("minutes", StringComparison.Ordinal)).ToArray();
        return string.Join("\n", lines.Where(l => !l.Contains("convergence.minutes", StringComparison.Ordinal))
            .Select(l => l.Contains('"') ? l : string.Join(",", keep.Select(i => l.Split(',')[i]))));
    }
}
