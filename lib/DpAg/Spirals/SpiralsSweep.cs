using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Spirals;

/// <summary>One cell of the sweep: a model width, a training-set size and a training budget.</summary>
/// <param name="Width">Hidden width of encoder, field and decoder.</param>
/// <param name="TrainSize">Training trajectories.</param>
/// <param name="Steps">Optimiser steps (each run has its own cosine schedule).</param>
public sealed record SpiralsCell(int Width, int TrainSize, int Steps)
{
    /// <summary>"width 32, n 128, 300 steps".</summary>
    public string Label => string.Create(CultureInfo.InvariantCulture, $"width {Width}, n {TrainSize}, {Steps} steps");
}

/// <summary>
/// The sweep of docs/spirals.md: every combination of <see cref="Widths"/>, <see cref="TrainSizes"/> and
/// <see cref="Budgets"/>, each with the same paired <see cref="Seeds"/> (per seed: the same data and initialisation for
/// both models). Everything not swept comes from <see cref="Experiment"/>.
/// </summary>
public sealed record SpiralsSweepConfig
{
    /// <summary>Data, latent size, solver, guidance, optimiser: everything the sweep does not vary.</summary>
    public SpiralsConfig Experiment { get; init; } = SpiralsConfig.Real;

    /// <summary>Model widths (capacity).</summary>
    public int[] Widths { get; init; } = [32, 96];

    /// <summary>Training-set sizes (the smaller is a prefix of the larger; the test set is the same).</summary>
    public int[] TrainSizes { get; init; } = [64, 512];

    /// <summary>Training budgets in optimiser steps.</summary>
    public int[] Budgets { get; init; } = [200, 800];

    /// <summary>Paired seeds (at least 5 for the real sweep).</summary>
    public int[] Seeds { get; init; } = [0, 1, 2, 3, 4];

    /// <summary>Processes <c>dpag spirals</c> starts, each running a shard of the (cell, seed) jobs with one torch thread
    /// (2 on a 2-core machine); <see cref="SpiralsSweep.Run"/> itself runs in one process.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Smallest MSE reduction called meaningful by the verdict rule (ratio 0.9 = 10 %).</summary>
    public double MeaningfulRatio { get; init; } = SpiralsVerdict.DefaultMeaningfulRatio;

    /// <summary>The CI sweep: 2 x 2 x 2 cells, 2 seeds, a few steps on a handful of spirals (seconds).</summary>
    public static SpiralsSweepConfig Ci { get; } = new()
    {
        Experiment = SpiralsConfig.Ci with
        {
            Data = SpiralsConfig.Ci.Data with { TestCount = 16 },
            BatchSize = 16,
            GridPoints = 24,
            FigureTrajectories = 3,
            Solver = OdeSolverConfig.Rk4Grid with { MaxStep = 1.0 / 16 },
        },
        Widths = [8, 16],
        TrainSizes = [16, 32],
        Budgets = [4, 8],
        Seeds = [0, 1],
    };

    /// <summary>The real sweep: widths 32 and 96, 64 and 512 training spirals, 200 and 800 steps, 5 paired seeds
    /// (40 seed runs of two models; measured time in docs/results/spirals/report.md, under 30 min on 2 cores).</summary>
    public static SpiralsSweepConfig Real { get; } = new();

    /// <summary>The preset named <paramref name="budget"/> ("ci" or "real").</summary>
    public static SpiralsSweepConfig FromBudget(string budget) => budget?.Trim().ToLowerInvariant() switch
    {
        "ci" => Ci,
        "real" => Real,
        _ => throw new ArgumentException($"budget = '{budget}' is invalid: use 'ci' or 'real'.", nameof(budget)),
    };

    /// <summary>Every cell, widths outermost, budgets innermost.</summary>
    public IReadOnlyList<SpiralsCell> Cells() =>
        Widths.SelectMany(w => TrainSizes.SelectMany(n => Budgets.Select(s => new SpiralsCell(w, n, s)))).ToList();

    /// <summary>The cell whose first seed is drawn: the widest model, most data, longest budget.</summary>
    public SpiralsCell FigureCell => new(Widths.Max(), TrainSizes.Max(), Budgets.Max());

    /// <summary>The experiment configuration of one cell.</summary>
    public SpiralsConfig For(SpiralsCell cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return Experiment with
        {
            Hidden = cell.Width,
            Steps = cell.Steps,
            Data = Experiment.Data with { TrainCount = cell.TrainSize },
            Seeds = Seeds,
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public SpiralsSweepConfig Validate()
    {
        if (Experiment is null) throw Bad(nameof(Experiment), "null", "use SpiralsConfig.Real");
        Experiment.Validate();
        if (Widths is not { Length: > 0 } || Widths.Any(w => w < 1) || Widths.Distinct().Count() != Widths.Length)
            throw Bad(nameof(Widths), Join(Widths), "give distinct positive widths such as 32, 96");
        if (TrainSizes is not { Length: > 0 } || TrainSizes.Any(n => n < 2) || TrainSizes.Distinct().Count() != TrainSizes.Length)
            throw Bad(nameof(TrainSizes), Join(TrainSizes), "give distinct sizes of at least 2 such as 64, 512");
        if (Budgets is not { Length: > 0 } || Budgets.Any(s => s < 1) || Budgets.Distinct().Count() != Budgets.Length)
            throw Bad(nameof(Budgets), Join(Budgets), "give distinct positive step counts such as 200, 800");
        if (Seeds is not { Length: >= 2 } || Seeds.Distinct().Count() != Seeds.Length)
            throw Bad(nameof(Seeds), Join(Seeds), "give at least 2 distinct seeds (5 for the real sweep): an interval needs pairs");
        if (Workers < 1) throw Bad(nameof(Workers), Workers, "use at least 1 worker (2 on a 2-core machine)");
        if (!(MeaningfulRatio > 0 && MeaningfulRatio < 1)) throw Bad(nameof(MeaningfulRatio), MeaningfulRatio, "use a ratio in (0, 1) such as 0.9");
        foreach (var cell in Cells()) For(cell).Validate();
        return this;
    }

    private static string Join(int[]? xs) => xs is null ? "null" : string.Join(",", xs);

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"SpiralsSweepConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}

/// <summary>One cell's rows and paired effects (guided vs base; every effect is a mean of per-seed log ratios).</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Rows">Trivial, base and guided rows per seed.</param>
/// <param name="Summary">Per model over seeds.</param>
/// <param name="Mse">ln(held-out MSE guided / base): the verdict's effect.</param>
/// <param name="OutputCurvature">ln(output curvature guided / base) on the regular grid.</param>
/// <param name="LatentCurvatureRatio">ln(latent curvature/step guided / base), scale-free.</param>
/// <param name="Verdict">The rule applied to <paramref name="Mse"/>.</param>
public sealed record SpiralsCellResult(SpiralsCell Cell, IReadOnlyList<SpiralsRow> Rows, IReadOnlyList<SpiralsSummary> Summary,
    PairedEffect Mse, PairedEffect OutputCurvature, PairedEffect LatentCurvatureRatio, Verdict Verdict)
{
    /// <summary>The summary of <paramref name="model"/>.</summary>
    public SpiralsSummary Of(string model) => Summary.Single(s => s.Model == model);
}

/// <summary>The result of <see cref="SpiralsSweep.Run"/>.</summary>
/// <param name="Config">The sweep that ran.</param>
/// <param name="Cells">Per cell.</param>
/// <param name="Mse">Overall effect: per seed the mean over cells of ln(MSE guided / base), then the interval over seeds.</param>
/// <param name="OutputCurvature">Overall ln(output curvature guided / base), the same way.</param>
/// <param name="LatentCurvatureRatio">Overall ln(latent curvature/step guided / base), the same way.</param>
/// <param name="Verdict">The rule applied to <paramref name="Mse"/>: the sweep's verdict.</param>
/// <param name="SolverFloor">MSE of the true dynamics integrated by the experiment's solver (first seed's test set).</param>
/// <param name="EulerPerGapFloor">The same for the kit's first solver (one Euler step per gap).</param>
/// <param name="TruthOutputCurvature">Output curvature of the true test spirals on the same grid (the reference).</param>
/// <param name="Figures">The figure cell's first seed, as a single-cell report for <see cref="Plots.SpiralsFigures"/>.</param>
/// <param name="WallSeconds">Wall time of the sweep.</param>
public sealed record SpiralsSweepReport(SpiralsSweepConfig Config, IReadOnlyList<SpiralsCellResult> Cells, PairedEffect Mse,
    PairedEffect OutputCurvature, PairedEffect LatentCurvatureRatio, Verdict Verdict, double SolverFloor, double EulerPerGapFloor,
    double TruthOutputCurvature, SpiralsReport Figures, double WallSeconds)
{
    /// <summary>The verdict word (reproduced, not reproduced, inconclusive).</summary>
    public string VerdictWord => SpiralsVerdict.Word(Verdict);
}

/// <summary>One seed of one cell: its rows (trivial, base, guided) and, for the figure job, the figure data.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Rows">Trivial, base and guided rows.</param>
/// <param name="Figures">The figure data (the figure cell's first seed only).</param>
public sealed record SpiralsJobResult(SpiralsCell Cell, int Seed, IReadOnlyList<SpiralsRow> Rows, SpiralsFigureData? Figures);

/// <summary>
/// Runs a <see cref="SpiralsSweepConfig"/>: every (cell, seed) job, then the paired statistics. Jobs share no state (each
/// draws its own data, initialisation and batches from its seed), so they can be split into shards run by separate
/// processes (<c>dpag spirals --workers N</c>) and merged by <see cref="Assemble"/> with the same result.
/// </summary>
public static class SpiralsSweep
{
    /// <summary>Runs the whole sweep in this process, job after job (threads were measured no faster here: the
    /// libtorch calls of two threads did not overlap on the 2-core machine); the caller sets torch's thread count.</summary>
    /// <param name="config">The sweep.</param>
    /// <param name="progress">Optional per-step progress.</param>
    /// <param name="device">Device; null means CPU.</param>
    public static SpiralsSweepReport Run(SpiralsSweepConfig config, IProgress<SpiralsProgress>? progress = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var wall = Stopwatch.StartNew();
        var results = RunJobs(config, Jobs(config), progress, device);
        return Assemble(config, results, wall.Elapsed.TotalSeconds);
    }

    /// <summary>Every (cell, seed) job, longest first (so that shards taking every n-th job are balanced).</summary>
    public static IReadOnlyList<(SpiralsCell Cell, int Seed)> Jobs(SpiralsSweepConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Cells().SelectMany(c => config.Seeds.Select(s => (Cell: c, Seed: s)))
            .OrderByDescending(j => j.Cell.Steps * (1 + j.Cell.Width / 64.0)).ThenBy(j => j.Cell.Width).ThenBy(j => j.Cell.TrainSize).ThenBy(j => j.Seed).ToList();
    }

    /// <summary>Shard <paramref name="index"/> of <paramref name="count"/>: every count-th job of <see cref="Jobs"/>.</summary>
    public static IReadOnlyList<(SpiralsCell Cell, int Seed)> Shard(SpiralsSweepConfig config, int index, int count)
    {
        if (count < 1 || index < 0 || index >= count) throw new ArgumentException($"Shard {index}/{count} is invalid: use 0 <= index < count.", nameof(index));
        return Jobs(config).Where((_, i) => i % count == index).ToList();
    }

    /// <summary>Runs <paramref name="jobs"/> one after another.</summary>
    public static IReadOnlyList<SpiralsJobResult> RunJobs(SpiralsSweepConfig config, IEnumerable<(SpiralsCell Cell, int Seed)> jobs,
        IProgress<SpiralsProgress>? progress = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(jobs);
        config.Validate();
        var results = new List<SpiralsJobResult>();
        foreach (var job in jobs)
        {
            bool keep = job.Cell == config.FigureCell && job.Seed == config.Seeds[0];
            var labelled = progress is null ? null : new CellProgress(progress, job.Cell.Label);
            var (rows, figures) = SpiralsExperiment.RunSeed(config.For(job.Cell), job.Seed, keep, labelled, device);
            results.Add(new SpiralsJobResult(job.Cell, job.Seed, rows, figures));
        }
        return results;
    }

    /// <summary>The report from every job's result (from one process or merged from shards).</summary>
    /// <param name="config">The sweep.</param>
    /// <param name="results">One result per (cell, seed) job, in any order.</param>
    /// <param name="wallSeconds">Wall time to record.</param>
    public static SpiralsSweepReport Assemble(SpiralsSweepConfig config, IEnumerable<SpiralsJobResult> results, double wallSeconds)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(results);
        config.Validate();
        var byJob = results.ToDictionary(r => (r.Cell, r.Seed));
        var cells = config.Cells();
        var missing = Jobs(config).Where(j => !byJob.ContainsKey((j.Cell, j.Seed))).ToList();
        if (missing.Count > 0) throw new ArgumentException($"SpiralsSweep: {missing.Count} jobs have no result, e.g. {missing[0].Cell.Label} seed {missing[0].Seed}.", nameof(results));
        var figureCell = config.FigureCell;
        var figures = byJob[(figureCell, config.Seeds[0])].Figures
            ?? throw new ArgumentException("SpiralsSweep: the figure job has no figure data.", nameof(results));

        var cellResults = cells.Select(c =>
        {
            var rows = config.Seeds.SelectMany(s => byJob[(c, s)].Rows).ToList();
            var (mse, outC, latC) = Effects(rows, config.Seeds);
            return new SpiralsCellResult(c, rows, SpiralsExperiment.Summarise(rows), mse, outC, latC, SpiralsVerdict.Decide(mse, config.MeaningfulRatio));
        }).ToList();
        // Overall: per seed, the mean over cells of each log ratio; the interval is over seeds (the independent unit).
        PairedEffect Overall(Func<SpiralsCellResult, int, double> perSeed) =>
            PairedEffect.Of(config.Seeds.Select(s => cellResults.Average(c => perSeed(c, s))).ToArray());
        double LogRatio(SpiralsCellResult c, int seed, Func<SpiralsRow, double> metric) =>
            Math.Log(metric(c.Rows.Single(r => r.Seed == seed && r.Model == SpiralModels.Guided)) / metric(c.Rows.Single(r => r.Seed == seed && r.Model == SpiralModels.Base)));
        var mseAll = Overall((c, s) => LogRatio(c, s, r => r.HeldOutMse));
        var outAll = Overall((c, s) => LogRatio(c, s, r => r.OutputCurvature));
        var latAll = Overall((c, s) => LogRatio(c, s, r => r.LatentCurvatureRatio));

        var figureConfig = config.For(figureCell);
        var (_, test) = SpiralDataset.Generate(figureConfig.Data, config.Seeds[0]);
        double floor = SpiralTruth.NumericalFloor(figureConfig.Data, test, figureConfig.Solver);
        double eulerFloor = SpiralTruth.NumericalFloor(figureConfig.Data, test, OdeSolverConfig.EulerPerGap);
        double truthCurvature = TruthCurvature(figureConfig, test);
        var figureRows = cellResults.Single(c => c.Cell == figureCell).Rows.Where(r => r.Seed == config.Seeds[0]).ToList();
        var figureReport = new SpiralsReport(figureConfig with { Seeds = [config.Seeds[0]] }, figureRows, SpiralsExperiment.Summarise(figureRows), figures, wallSeconds);
        return new SpiralsSweepReport(config, cellResults, mseAll, outAll, latAll, SpiralsVerdict.Decide(mseAll, config.MeaningfulRatio),
            floor, eulerFloor, truthCurvature, figureReport, wallSeconds);
    }

    /// <summary>The cell's paired effects from its rows: ln(guided / base) per seed of held-out MSE, output curvature and
    /// latent curvature/step.</summary>
    public static (PairedEffect Mse, PairedEffect OutputCurvature, PairedEffect LatentCurvatureRatio) Effects(IReadOnlyList<SpiralsRow> rows, IReadOnlyList<int> seeds)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(seeds);
        SpiralsRow Row(string model, int seed) => rows.Single(r => r.Model == model && r.Seed == seed);
        PairedEffect Of(Func<SpiralsRow, double> metric) => PairedEffect.Of(PairedEffect.LogRatios(
            seeds.Select(s => metric(Row(SpiralModels.Guided, s))).ToArray(), seeds.Select(s => metric(Row(SpiralModels.Base, s))).ToArray()));
        return (Of(r => r.HeldOutMse), Of(r => r.OutputCurvature), Of(r => r.LatentCurvatureRatio));
    }

    /// <summary>Mean squared second difference of the true test spirals on the regular grid of the experiment.</summary>
    public static double TruthCurvature(SpiralsConfig config, SpiralSet test)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(test);
        int g = config.GridPoints;
        var data = new double[test.Count * g * 2];
        for (int i = 0; i < test.Count; i++)
            for (int j = 0; j < g; j++)
            {
                var (x, y) = SpiralDataset.Position(config.Data, test.Clockwise[i], test.Phase[i], test.Radius[i], (j + 1.0) / g);
                data[(i * g + j) * 2] = x;
                data[(i * g + j) * 2 + 1] = y;
            }
        using var path = torch.tensor(data, new long[] { test.Count, g, 2 });
        return SpiralMetrics.MeanSquaredCurvature(path);
    }

    private sealed class CellProgress(IProgress<SpiralsProgress> inner, string cell) : IProgress<SpiralsProgress>
    {
        public void Report(SpiralsProgress value) => inner.Report(value with { Cell = cell });
    }
}
