using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using DpAg.IO;

namespace DpAg.Studies;

/// <summary>
/// The study's report: <c>report.md</c> (claims with verdicts, per-variant mean +- sd, paired comparisons with 95 %
/// intervals, convergence, every cell), the tables as CSV and PNG figures (ScottPlot), all in one folder.
/// </summary>
public static class StudyReport
{
    /// <summary>Writes the report of <paramref name="results"/> into <paramref name="folder"/>; returns the table.</summary>
    /// <param name="study">The study.</param>
    /// <param name="results">Its cells (<see cref="StudyResults.Load(StudyRunner)"/>).</param>
    /// <param name="folder">Where report.md, the CSVs and the PNGs go.</param>
    /// <param name="studyFile">The study file's path, for the report's header.</param>
    /// <param name="figures">Draw the PNG figures (off in fast tests).</param>
    public static StudyTable Write(StudyDefinition study, IReadOnlyList<CellResult> results, string folder, string studyFile = "", bool figures = true)
    {
        var table = StudyTable.Build(study, results);
        Directory.CreateDirectory(folder);
        table.WriteCsv(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "episodes.csv"), EpisodesCsv(results));
        AtomicFile.WriteAllText(Path.Combine(folder, "validation.csv"), ValidationCsv(results));
        if (figures) StudyFigures.Save(study, results, table, folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "report.md"), Markdown(study, results, table, studyFile, figures));
        return table;
    }

    /// <summary>
    /// Every cell's per-episode values of the study's sampler (long format: variant, seed, environment, summary, test
    /// seed, score, success, agent and action jerk; 6 significant digits): what the statistics are computed from.
    /// </summary>
    public static string EpisodesCsv(IReadOnlyList<CellResult> results)
    {
        var ci = CultureInfo.InvariantCulture;
        var text = new StringBuilder("variant,seed,environment,sampling,summary,test_seed,score,success,agent_jerk,action_jerk\n");
        foreach (var r in results)
            foreach (var s in r.Summaries.Where(s => s.Primary))
                for (int i = 0; i < s.Values.Seeds.Length; i++)
                    text.Append(string.Create(ci, $"{r.Cell.Id.Variant},{r.Cell.Id.Seed},{s.Environment},{s.Sampling},{s.Summary},{s.Values.Seeds[i]},{s.Values.Score[i]:G6},{s.Values.Success[i]:G6},{s.Values.AgentJerk[i]:G6},{s.Values.ActionJerk[i]:G6}\n"));
        return text.ToString();
    }

    /// <summary>
    /// The validation curve of every trained cell (variant, seed, step, training minutes, score, success rate). Runs
    /// still training are left out, as from every other table: the report is rebuilt the same from its archive.
    /// </summary>
    public static string ValidationCsv(IReadOnlyList<CellResult> results)
    {
        var ci = CultureInfo.InvariantCulture;
        var text = new StringBuilder("variant,seed,step,train_minutes,score,success_rate\n");
        foreach (var r in results.Where(r => r.Trained))
            foreach (var v in r.Validation)
                text.Append(string.Create(ci, $"{r.Cell.Id.Variant},{r.Cell.Id.Seed},{v.Step},{v.TrainMinutes:G6},{v.Score:G6},{v.SuccessRate:G6}\n"));
        return text.ToString();
    }

    /// <summary>The Markdown report.</summary>
    public static string Markdown(StudyDefinition study, IReadOnlyList<CellResult> results, StudyTable table, string studyFile = "", bool figures = true)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var e = study.Evaluation;
        md.AppendLine(ci, $"# Study {study.Name}").AppendLine();
        if (study.Description.Length > 0) md.AppendLine(study.Description).AppendLine();
        md.AppendLine(ci, $"- written {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC from {(studyFile.Length > 0 ? studyFile : "the study file")}");
        md.AppendLine(ci, $"- machine: {Machine()}");
        md.AppendLine(ci, $"- budget `{study.Budget.Name}`: {study.Budget.Size} network, {study.Budget.Train.Steps} steps, batch {study.Budget.Train.BatchSize}, lr {study.Budget.Train.LearningRate}, validation every {study.Budget.EvalEvery} steps on {study.Budget.EvalEpisodes} episodes ({study.Budget.EvalSampler.ToString().ToUpperInvariant()} {study.Budget.EvalInferenceSteps}); dataset {study.DatasetPath}");
        foreach (var g in results.Where(r => r.Cell.Train.Steps != study.BudgetSteps)
                     .GroupBy(r => (Steps: r.Cell.Train.Steps, r.Cell.Train.CheckpointEvery, ValidationEvery: r.Cell.Validation.Every)))
            md.AppendLine(ci, $"- reduced budget: {string.Join(", ", g.Select(r => r.Cell.Id.Variant).Distinct())} train {g.Key.Steps} steps, with checkpoints every {g.Key.CheckpointEvery} and validation every {g.Key.ValidationEvery} steps (the budget's proportions); they are compared with the variant they ablate only, not with {study.Baseline}");
        md.AppendLine(ci, $"- evaluation: {e.Episodes} test seeds from {e.FirstSeed}, {e.MaxSteps} steps, {e.Sampler.ToString().ToUpperInvariant()} {e.InferenceSteps}, on {string.Join(" and ", e.Environments)}; summaries over each run's kept checkpoints: last = mean of the last {e.LastCheckpoints}, max = best on the test seeds (optimistic), best = chosen on validation seeds");
        md.AppendLine(ci, $"- statistics: paired two-level bootstrap over training seeds and test seeds, {e.BootstrapResamples} resamples (seed {e.BootstrapSeed}), 95 % percentile intervals; verdict rule and caveats in docs/study-statistics.md (at least {e.MinSeeds} paired training seeds for a verdict)");
        int trained = results.Count(r => r.Trained), evaluated = results.Count(r => r.Evaluated(study));
        md.AppendLine(ci, $"- progress: {trained} of {results.Count} cells trained, {evaluated} evaluated");
        var plan = StudyRunner.PlanOf(study);
        if (plan.TrainMinutes > 0)
            md.AppendLine(ci, $"- planned CPU time (one core per run): {plan.Runs} runs, {plan.TrainMinutes / 60:F1} h training + {plan.Evaluations} checkpoint evaluations, {plan.EvalMinutes / 60:F1} h = {(plan.TrainMinutes + plan.EvalMinutes) / 60:F1} h{(study.Plan.Note.Length > 0 ? $" ({study.Plan.Note})" : "")}");
        // Cells that share a run (one network sampled two ways) count once.
        var runs = results.GroupBy(r => r.Cell.RunDir).Select(g => g.First()).ToList();
        double train = runs.Sum(r => r.TrainMinutes), validate = runs.Sum(r => r.ValidationMinutes), evalMinutes = results.GroupBy(r => r.Cell.RunDir).Sum(g => g.Max(r => r.EvalMinutes));
        md.AppendLine(ci, $"- measured so far (wall minutes of each run's process, summed): training {train / 60:F2} h, validation {validate / 60:F2} h, test evaluation {evalMinutes / 60:F2} h; total {(train + validate + evalMinutes) / 60:F2} h over {runs.Count(r => r.Trained)} finished runs");
        md.AppendLine();

        md.AppendLine("## Verdicts on the paper's claims").AppendLine();
        if (table.Claims.Count == 0) md.AppendLine("(the study file lists no claims)");
        foreach (var c in table.Claims) md.AppendLine(ci, $"- **{c.Verdict}**: {c.Line}");
        md.AppendLine();

        var ablations = table.Comparisons.Where(c => c.Against != study.Baseline && (c.Metric.EndsWith(".score", StringComparison.Ordinal) && c.Summary == "last" || c.Metric.EndsWith("action_jerk", StringComparison.Ordinal)))
            .ToList();
        if (ablations.Count > 0)
        {
            md.AppendLine("## Which part carries the difference").AppendLine();
            foreach (string line in WhichPart(study, table)) md.AppendLine(line);
            md.AppendLine();
            md.AppendLine("Each ablation against the variant it changes (paired over their common training seeds; score = target coverage, mean of the last checkpoints).").AppendLine();
            md.AppendLine("| variant | against | metric | seeds | effect [95 % CI] | reading |").AppendLine("| --- | --- | --- | ---: | --- | --- |");
            foreach (var c in ablations)
                md.AppendLine(ci, $"| {c.Variant} | {c.Against} | {c.Metric} ({c.Scale}) | {c.Seeds} | {Effect(c.Estimate, c.Lower, c.Upper)} | {c.Reading} |");
            md.AppendLine();
        }

        md.AppendLine("## Variants").AppendLine();
        md.AppendLine("| variant | policy | what | sampling | seeds | steps |").AppendLine("| --- | --- | --- | --- | --- | ---: |");
        foreach (var v in study.Variants)
        {
            var cell = results.FirstOrDefault(r => r.Cell.Id.Variant == v.Name)?.Cell;
            string overrides = v.Overrides.Count == 0 ? "" : " (" + string.Join(", ", v.Overrides.OrderBy(o => o.Key).Select(o => $"{o.Key} = {o.Value.GetRawText()}")) + ")";
            md.AppendLine(ci, $"| {v.Name} | {(v.Policy == Policies.PolicyKind.Dp ? "DP" : $"DP-AG {v.Preset}")}{overrides} | {Cell(v.Description)} | {string.Join("; ", cell?.Samplings.Select(s => s.Label) ?? [])} | {string.Join(" ", v.Seeds)} | {study.StepsOf(v)} |");
        }
        md.AppendLine();

        md.AppendLine("## Scores (mean +- sd over training seeds)").AppendLine();
        md.AppendLine("| variant | env | sampling | summary | seeds | target coverage | success | agent jerk | action jerk |").AppendLine("| --- | --- | --- | --- | ---: | --- | --- | --- | --- |");
        foreach (var v in table.Variants)
            md.AppendLine(ci, $"| {v.Variant} | {v.Environment} | {v.Sampling} | {v.Summary} | {v.Seeds} | {Pm(v.Seeds, v.ScoreMean, v.ScoreSd, "F3")} | {Pm(v.Seeds, v.SuccessMean, v.SuccessSd, "F2")} | {Pm(v.Seeds, v.AgentJerkMean, v.AgentJerkSd, "G4", "G2")} | {Pm(v.Seeds, v.ActionJerkMean, v.ActionJerkSd, "G4", "G2")} |");
        md.AppendLine();

        md.AppendLine(ci, $"## Convergence (validation score {e.ConvergenceThreshold} reached)").AppendLine();
        md.AppendLine("| variant | finished runs | reached | steps | training minutes | final validation score |").AppendLine("| --- | ---: | ---: | --- | --- | ---: |");
        foreach (var c in table.Convergence)
            md.AppendLine(ci, $"| {c.Variant} | {c.Seeds} | {c.Reached} | {Pm(c.Seeds, c.StepsMean, c.StepsSd, "F0")} | {Pm(c.Seeds, c.MinutesMean, c.MinutesSd, "F1")} | {c.FinalValidationMean:F3} |");
        md.AppendLine().AppendLine("A run that never reaches the threshold counts as reaching it one validation interval after its last step (a lower bound).").AppendLine();

        md.AppendLine(ci, $"## Paired differences against {study.Baseline}").AppendLine();
        md.AppendLine("Variant minus baseline (relative: variant / baseline - 1), same training seeds and test seeds.").AppendLine();
        md.AppendLine("| variant | metric | summary | seeds x episodes | effect [95 % CI] | reading |").AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var c in table.Comparisons.Where(c => c.Against == study.Baseline))
            md.AppendLine(ci, $"| {c.Variant} | {c.Metric} ({c.Scale}) | {c.Summary} | {c.Seeds} x {c.Episodes} | {Effect(c.Estimate, c.Lower, c.Upper)} | {c.Reading} |");
        md.AppendLine();

        if (figures)
        {
            md.AppendLine("## Figures").AppendLine();
            foreach (var (file, caption) in StudyFigures.Files(study))
                md.AppendLine(ci, $"![{caption}]({file})").AppendLine();
        }

        md.AppendLine("## Cells").AppendLine();
        md.AppendLine("| variant | seed | env | sampling | summary | checkpoints | coverage | success | agent jerk | action jerk | steps to threshold | train min | run |")
          .AppendLine("| --- | ---: | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var c in table.Cells)
            md.AppendLine(ci, $"| {c.Variant} | {c.Seed} | {c.Environment} | {c.Sampling} | {c.Summary} | {c.Checkpoints} | {c.Score:F3} | {c.SuccessRate:F2} | {c.AgentJerk:G4} | {c.ActionJerk:G4} | {(c.StepsToThreshold?.ToString(ci) ?? "not reached")} | {c.TrainMinutes:F1} | {c.Run} |");
        var pending = results.Where(r => !r.Evaluated(study)).Select(r => $"{r.Cell.Id.Name} ({(r.Trained ? "not evaluated" : "not trained")})").ToList();
        if (pending.Count > 0) md.AppendLine().AppendLine(ci, $"Not in the tables yet: {string.Join(", ", pending)}.");
        return md.ToString();
    }

    /// <summary>
    /// The answer to "which part carries the difference", computed from the ablations' paired comparisons (last
    /// checkpoints): the changes ranked by the size of their effect on the first environment's target coverage, one
    /// line each with every environment's coverage and the action jerk, then which changes move coverage clearly. The
    /// readings are the comparisons' own (an interval that excludes zero, marked indicative under the seed minimum).
    /// Plain text that also reads as a Markdown list (the report prints it; notebook 10 writes it out).
    /// </summary>
    public static IReadOnlyList<string> WhichPart(StudyDefinition study, StudyTable table)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(table);
        var ci = CultureInfo.InvariantCulture;
        var environments = study.Evaluation.Environments;
        var rows = table.Comparisons.Where(c => c.Against != study.Baseline && c.Summary == "last").ToList();
        var ranked = rows.Where(c => c.Metric == $"{environments[0]}.score").OrderByDescending(c => Math.Abs(c.Estimate)).ToList();
        if (ranked.Count == 0) return ["No ablation has a finished and evaluated training seed yet."];

        var lines = new List<string> { $"Ranked by the size of the effect on {environments[0]} target coverage:", "" };
        var clear = new List<string>();
        var unclear = new List<string>();
        int rank = 0;
        foreach (var head in ranked)
        {
            var own = rows.Where(c => c.Variant == head.Variant && c.Against == head.Against).ToList();
            var parts = new List<string>();
            foreach (string env in environments)
                if (own.FirstOrDefault(c => c.Metric == $"{env}.score") is { } score)
                    parts.Add($"{env} coverage {Effect(score.Estimate, score.Lower, score.Upper)}, {score.Reading}");
            if (own.FirstOrDefault(c => c.Metric == $"{environments[0]}.action_jerk") is { } jerk)
                parts.Add($"{environments[0]} action jerk {Percent(jerk.Estimate)} [{Percent(jerk.Lower)}, {Percent(jerk.Upper)}], {jerk.Reading}");
            string what = study.Variant(head.Variant).Description;
            lines.Add(string.Create(ci, $"{++rank}. {head.Variant}{(what.Length > 0 ? $" ({what})" : "")} against {head.Against}, {head.Seeds} seed{(head.Seeds == 1 ? "" : "s")}: {string.Join("; ", parts)}."));
            bool moves = own.Any(c => c.Metric.EndsWith(".score", StringComparison.Ordinal) && c.Reading != StudyComparisonRow.NoClearDifference);
            (moves ? clear : unclear).Add(head.Variant);
        }
        lines.Add("");
        lines.Add($"Coverage moves clearly (an interval excludes zero in at least one environment) with: {(clear.Count > 0 ? string.Join(", ", clear) : "none")}. " +
                  $"No clear change in coverage with: {(unclear.Count > 0 ? string.Join(", ", unclear) : "none")}.");
        return lines;
    }

    private static string Percent(double relative) => PairedEffect.Signed(100 * relative, 1) + " %";

    private static string Effect(double estimate, double lo, double hi) =>
        $"{PairedEffect.Signed(estimate)} [{PairedEffect.Signed(lo)}, {PairedEffect.Signed(hi)}]";

    /// <summary>"mean +- sd" over training seeds, by <see cref="MeanSd.Format"/> (one seed: the sd reads n/a).</summary>
    private static string Pm(int seeds, double mean, double sd, string meanFormat, string? sdFormat = null) =>
        new MeanSd(mean, sd, seeds).Format(meanFormat, sdFormat);

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>The machine, in one line: CPU model, cores, OS, .NET.</summary>
    public static string Machine()
    {
        string cpu = "";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
        }
        catch (IOException) { }
        return $"{(cpu.Length > 0 ? cpu + ", " : "")}{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
