using System.Globalization;
using System.Reflection;
using System.Text;
using DpAg.IO;

namespace DpAg.Studies;

/// <summary>One evaluated cell summary (long format: one row per cell, environment, sampling and protocol summary).</summary>
public sealed record StudyCellRow(string Variant, long Seed, string Environment, string Sampling, bool Primary, string Summary, string Checkpoints, int Episodes,
    double Score, double SuccessRate, double AgentJerk, double ActionJerk, long? StepsToThreshold, double? MinutesToThreshold, double TrainMinutes, string Run);

/// <summary>Mean +- sample standard deviation over training seeds of a variant's per-cell values.</summary>
public sealed record StudyVariantRow(string Variant, string Environment, string Sampling, string Summary, int Seeds,
    double ScoreMean, double ScoreSd, double SuccessMean, double SuccessSd, double AgentJerkMean, double AgentJerkSd, double ActionJerkMean, double ActionJerkSd);

/// <summary>Convergence of a variant over its trained seeds: steps and minutes to reach the validation threshold.</summary>
/// <param name="Variant">The variant.</param>
/// <param name="Seeds">Finished runs.</param>
/// <param name="Reached">Runs that reached the threshold (the others count as one validation interval past the end, a lower bound).</param>
/// <param name="StepsMean">Mean steps to the threshold.</param>
/// <param name="StepsSd">Their standard deviation.</param>
/// <param name="MinutesMean">Mean training minutes to the threshold.</param>
/// <param name="MinutesSd">Their standard deviation.</param>
/// <param name="FinalValidationMean">Mean validation score at the last step.</param>
public sealed record StudyConvergenceRow(string Variant, int Seeds, int Reached, double StepsMean, double StepsSd, double MinutesMean, double MinutesSd, double FinalValidationMean);

/// <summary>A paired comparison of a variant with another (the baseline, or the variant it ablates).</summary>
/// <param name="Variant">The variant.</param>
/// <param name="Against">What it is compared with.</param>
/// <param name="Metric">The metric (<see cref="StudyMetrics"/>).</param>
/// <param name="Summary">The protocol summary (per-run metrics: "run").</param>
/// <param name="Scale">absolute or relative.</param>
/// <param name="Seeds">Paired training seeds.</param>
/// <param name="Episodes">Paired test seeds per training seed.</param>
/// <param name="Estimate">The effect.</param>
/// <param name="Lower">95 % bootstrap interval, lower end.</param>
/// <param name="Upper">Upper end.</param>
/// <param name="Reading">better / worse / no clear difference (the interval against zero, in the metric's better direction).</param>
public sealed record StudyComparisonRow(string Variant, string Against, string Metric, string Summary, string Scale, int Seeds, int Episodes,
    double Estimate, double Lower, double Upper, string Reading)
{
    /// <summary>The reading of an interval that contains zero.</summary>
    public const string NoClearDifference = "no clear difference";
}

/// <summary>The answer to one of the paper's claims.</summary>
public sealed record StudyClaimRow(string Claim, string Variant, string Against, string Metric, string Summary, string Scale, string Paper, double PaperEffect,
    double Margin, int Seeds, int Episodes, double Estimate, double Lower, double Upper, string Verdict, string Reason, string Line);

/// <summary>
/// The study's numbers as plain record lists (a notebook turns each into a Deedle frame with <c>Frame.FromRecords</c>),
/// computed from whatever cells have finished. Comparisons use the study's sampler and pair training seeds present in
/// both variants.
/// </summary>
public sealed record StudyTable(IReadOnlyList<StudyCellRow> Cells, IReadOnlyList<StudyVariantRow> Variants, IReadOnlyList<StudyConvergenceRow> Convergence,
    IReadOnlyList<StudyComparisonRow> Comparisons, IReadOnlyList<StudyClaimRow> Claims)
{
    /// <summary>The metrics and summaries every variant is compared on.</summary>
    public static IReadOnlyList<(string Metric, string Summary)> ComparedMetrics(StudyDefinition study) =>
    [
        .. study.Evaluation.Environments.SelectMany(env => new[]
        {
            ($"{env}.score", "last"), ($"{env}.score", "max"), ($"{env}.score", "best"), ($"{env}.success", "last"),
            ($"{env}.agent_jerk", "last"), ($"{env}.action_jerk", "last"),
        }),
        ("convergence.steps", "run"), ("convergence.minutes", "run"),
    ];

    /// <summary>Builds every table from the cells' results.</summary>
    public static StudyTable Build(StudyDefinition study, IReadOnlyList<CellResult> results)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(results);
        var cells = new List<StudyCellRow>();
        foreach (var r in results)
            foreach (var s in r.Summaries)
                cells.Add(new StudyCellRow(r.Cell.Id.Variant, r.Cell.Id.Seed, s.Environment, s.Sampling, s.Primary, s.Summary,
                    string.Join(" ", s.Steps.Select(x => x.ToString(CultureInfo.InvariantCulture))), s.Values.Seeds.Length,
                    s.Values.Score.Average(), s.Values.Success.Average(), s.Values.AgentJerk.Average(), s.Values.ActionJerk.Average(),
                    r.StepsToThreshold, r.MinutesToThreshold, r.TrainMinutes, Path.GetFileName(r.Cell.RunDir)));
        var variants = cells.GroupBy(c => (c.Variant, c.Environment, c.Sampling, c.Summary))
            .Select(g => new StudyVariantRow(g.Key.Variant, g.Key.Environment, g.Key.Sampling, g.Key.Summary, g.Count(),
                MeanSd.Of(g.Select(c => c.Score)).Mean, MeanSd.Of(g.Select(c => c.Score)).Sd, MeanSd.Of(g.Select(c => c.SuccessRate)).Mean, MeanSd.Of(g.Select(c => c.SuccessRate)).Sd,
                MeanSd.Of(g.Select(c => c.AgentJerk)).Mean, MeanSd.Of(g.Select(c => c.AgentJerk)).Sd, MeanSd.Of(g.Select(c => c.ActionJerk)).Mean, MeanSd.Of(g.Select(c => c.ActionJerk)).Sd))
            .OrderBy(v => Order(study, v.Variant)).ThenBy(v => v.Environment).ThenBy(v => v.Sampling).ThenBy(v => v.Summary)
            .ToList();
        var convergence = study.Variants.Select(v =>
        {
            var done = results.Where(r => r.Cell.Id.Variant == v.Name && r.Trained).ToList();
            var steps = MeanSd.Of(done.Select(r => PerRun(r, "convergence.steps")));
            var minutes = MeanSd.Of(done.Select(r => PerRun(r, "convergence.minutes")));
            return new StudyConvergenceRow(v.Name, done.Count, done.Count(r => r.StepsToThreshold is not null), steps.Mean, steps.Sd, minutes.Mean, minutes.Sd,
                done.Count == 0 ? double.NaN : done.Average(r => r.Validation.Count > 0 ? r.Validation[^1].Score : double.NaN));
        }).Where(r => r.Seeds > 0).ToList();

        var comparisons = new List<StudyComparisonRow>();
        foreach (var v in study.Variants.Where(v => v.Name != study.Baseline))
            foreach (var against in ComparedWith(study, v))
                foreach (var (metricKey, summary) in ComparedMetrics(study))
                {
                    var metric = StudyMetrics.Get(metricKey);
                    if (Paired(study, results, v.Name, against, metric, summary) is not { } effect) continue;
                    double lo = metric.HigherIsBetter ? effect.Lower : -effect.Upper, hi = metric.HigherIsBetter ? effect.Upper : -effect.Lower;
                    string reading = lo > 0 ? "better" : hi < 0 ? "worse" : StudyComparisonRow.NoClearDifference;
                    if (effect.Seeds < study.Evaluation.MinSeeds && reading != StudyComparisonRow.NoClearDifference)
                        reading += string.Create(CultureInfo.InvariantCulture, $" (indicative: {effect.Seeds} < {study.Evaluation.MinSeeds} seeds)");
                    comparisons.Add(new StudyComparisonRow(v.Name, against, metricKey, summary, Scale(metric.DefaultScale), effect.Seeds, effect.Episodes,
                        effect.Estimate, effect.Lower, effect.Upper, reading));
                }

        var claims = study.Claims.Select(c => Claim(study, results, c)).ToList();
        return new StudyTable(cells, variants, convergence, comparisons, claims);
    }

    private static StudyClaimRow Claim(StudyDefinition study, IReadOnlyList<CellResult> results, StudyClaim claim)
    {
        var ci = CultureInfo.InvariantCulture;
        var metric = StudyMetrics.Get(claim.Metric);
        string summary = metric.PerEpisode ? claim.Summary : "run";
        var effect = Paired(study, results, claim.Variant, study.Baseline, metric, summary, claim.Scale);
        string scale = Scale(claim.Scale);
        if (effect is null)
        {
            string none = $"{claim.Name}: inconclusive at this scale: no training seed of {claim.Variant} and {study.Baseline} is finished and evaluated yet.";
            return new StudyClaimRow(claim.Name, claim.Variant, study.Baseline, claim.Metric, summary, scale, claim.Paper, claim.PaperEffect, claim.ResolvedMargin,
                0, 0, double.NaN, double.NaN, double.NaN, "inconclusive at this scale", "no finished pairs", none);
        }
        var verdict = VerdictRule.Decide(effect, metric.HigherIsBetter, claim.ResolvedMargin, study.Evaluation.MinSeeds);
        if (metric.Key.StartsWith("convergence.", StringComparison.Ordinal) && verdict.Kind != VerdictKind.Inconclusive)
        {
            // A run that never reaches the threshold counts as reaching it one interval after the end (a lower bound);
            // when most baseline runs never reach it, "faster" cannot be measured.
            var baseline = PairedRuns(study, results, claim.Variant, study.Baseline).Select(p => p.Baseline).ToList();
            int reached = baseline.Count(r => r.StepsToThreshold is not null);
            if (2 * reached <= baseline.Count)
                verdict = verdict with { Kind = VerdictKind.Inconclusive, Reason = string.Create(ci, $"{study.Baseline} reached the validation threshold {study.Evaluation.ConvergenceThreshold} in only {reached} of {baseline.Count} runs") };
        }
        string unit = claim.Scale == EffectScale.Relative ? "relative change" : "difference";
        string tests = metric.PerEpisode ? string.Create(ci, $" x {effect.Episodes} test seeds") : "";
        string line = string.Create(ci,
            $"{claim.Name}: {verdict.Label}. {claim.Variant} vs {study.Baseline}, {claim.Metric} ({summary}): {unit} {PairedEffect.Signed(effect.Estimate)} [95 % CI {PairedEffect.Signed(effect.Lower)}, {PairedEffect.Signed(effect.Upper)}] over {effect.Seeds} training seed{(effect.Seeds == 1 ? "" : "s")}{tests}; paper: {claim.Paper}; {verdict.Reason}.");
        return new StudyClaimRow(claim.Name, claim.Variant, study.Baseline, claim.Metric, summary, scale, claim.Paper, claim.PaperEffect, claim.ResolvedMargin,
            effect.Seeds, effect.Episodes, effect.Estimate, effect.Lower, effect.Upper, verdict.Label, verdict.Reason, line);
    }

    /// <summary>
    /// The variants <paramref name="v"/> is compared with: the baseline when both train the same number of steps (a
    /// reduced-budget ablation against the full-budget baseline would measure the budget), and the variant it ablates.
    /// </summary>
    public static IEnumerable<string> ComparedWith(StudyDefinition study, StudyVariant v)
    {
        if (v.Name == study.Baseline) yield break;
        if (study.StepsOf(v) == study.StepsOf(study.Variant(study.Baseline))) yield return study.Baseline;
        if (v.AblationOf is { } of && of != study.Baseline) yield return of;
    }

    /// <summary>The training seeds where both variants have the data a metric needs, with both cells.</summary>
    private static List<(CellResult Variant, CellResult Baseline)> PairedRuns(StudyDefinition study, IReadOnlyList<CellResult> results, string variant, string baseline) =>
        [.. from v in results
            where v.Cell.Id.Variant == variant && v.Trained
            join b in results.Where(r => r.Cell.Id.Variant == baseline && r.Trained) on v.Cell.Id.Seed equals b.Cell.Id.Seed
            orderby v.Cell.Id.Seed
            select (v, b)];

    /// <summary>The paired effect of a metric, or null when no training seed has both.</summary>
    public static PairedEffect? Paired(StudyDefinition study, IReadOnlyList<CellResult> results, string variant, string against, StudyMetric metric, string summary,
        EffectScale? scale = null)
    {
        var pairs = PairedRuns(study, results, variant, against);
        List<IReadOnlyList<double>> v = [], b = [];
        foreach (var (cv, cb) in pairs)
        {
            if (metric.PerEpisode)
            {
                if (cv.Primary(metric.Environment!, summary) is not { } sv || cb.Primary(metric.Environment!, summary) is not { } sb) continue;
                if (!sv.Values.Seeds.SequenceEqual(sb.Values.Seeds))
                    throw new InvalidDataException($"{cv.Cell.Id.Name} and {cb.Cell.Id.Name} were evaluated on different test seeds; evaluate both with the study's settings.");
                v.Add(sv.Values.Field(metric.Field));
                b.Add(sb.Values.Field(metric.Field));
            }
            else
            {
                v.Add([PerRun(cv, metric.Key)]);
                b.Add([PerRun(cb, metric.Key)]);
            }
        }
        if (v.Count == 0) return null;
        return PairedBootstrap.Compute(v, b, scale ?? metric.DefaultScale, study.Evaluation.BootstrapResamples, study.Evaluation.BootstrapSeed);
    }

    /// <summary>A per-run metric of a finished run; a run that never reached the threshold counts as one validation interval past its end.</summary>
    public static double PerRun(CellResult r, string key)
    {
        long every = r.Cell.Validation.Every, steps = r.Cell.Train.Steps.GetValueOrDefault(1);
        return key switch
        {
            "convergence.steps" => r.StepsToThreshold ?? steps + every,
            "convergence.minutes" => r.MinutesToThreshold ?? r.TrainMinutes * (1 + (double)every / steps),
            _ => throw new ArgumentException($"'{key}' is not a per-run metric."),
        };
    }

    private static string Scale(EffectScale s) => s == EffectScale.Relative ? "relative" : "absolute";

    private static int Order(StudyDefinition study, string variant) => study.Variants.ToList().FindIndex(v => v.Name == variant);

    /// <summary>Writes cells.csv, variants.csv, convergence.csv, comparisons.csv and claims.csv into <paramref name="folder"/>.</summary>
    public void WriteCsv(string folder)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "cells.csv"), Csv(Cells));
        AtomicFile.WriteAllText(Path.Combine(folder, "variants.csv"), Csv(Variants));
        AtomicFile.WriteAllText(Path.Combine(folder, "convergence.csv"), Csv(Convergence));
        AtomicFile.WriteAllText(Path.Combine(folder, "comparisons.csv"), Csv(Comparisons));
        AtomicFile.WriteAllText(Path.Combine(folder, "claims.csv"), Csv(Claims));
    }

    /// <summary>A record list as CSV: a header of the property names (snake_case), numbers in round-trip invariant form, empty for null.</summary>
    public static string Csv<T>(IEnumerable<T> rows)
    {
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != "EqualityContract").ToArray();
        var text = new StringBuilder(string.Join(",", props.Select(p => Snake(p.Name)))).Append('\n');
        foreach (var row in rows)
            text.Append(string.Join(",", props.Select(p => Field(p.GetValue(row))))).Append('\n');
        return text.ToString();
    }

    private static string Field(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var o => Quote(o.ToString() ?? ""),
    };

    private static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Snake(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
