using System.Globalization;
using System.Text.Json;
using DpAg.Evaluation;
using DpAg.Policies;

namespace DpAg.Studies;

/// <summary>
/// A study file (<c>studies/*.json</c>, read by <c>dpag study --study FILE</c>): a training recipe (a
/// <see cref="TrainBudget"/>), variants (a base policy, a preset, option overrides, the noise scale they are sampled
/// with), training seeds, how every cell is evaluated, and the paper's claims to answer. docs/studies.md describes
/// every field. Unknown fields are refused, with the list of known ones.
/// </summary>
public sealed record StudyDefinition
{
    /// <summary>The study's name (used in reports).</summary>
    public required string Name { get; init; }
    /// <summary>A sentence on what the study asks.</summary>
    public string Description { get; init; } = "";
    /// <summary>The training recipe of every cell (<see cref="TrainBudget.Get"/>).</summary>
    public required TrainBudget Budget { get; init; }
    /// <summary>The dataset (relative to the working folder), or null for the budget's.</summary>
    public string? Dataset { get; init; }
    /// <summary>The variant every other one is compared with (DP).</summary>
    public required string Baseline { get; init; }
    /// <summary>The variants, in file order.</summary>
    public required IReadOnlyList<StudyVariant> Variants { get; init; }
    /// <summary>How each cell is evaluated.</summary>
    public StudyEvaluation Evaluation { get; init; } = new();
    /// <summary>The paper's claims, each answered by a verdict.</summary>
    public IReadOnlyList<StudyClaim> Claims { get; init; } = [];
    /// <summary>The CPU plan: minutes per training run by policy, minutes per evaluated checkpoint and environment.</summary>
    public StudyPlan Plan { get; init; } = new();

    /// <summary>The budget's optimiser steps (budgets count steps, not epochs).</summary>
    public long BudgetSteps => Budget.Train.Steps ?? throw new InvalidOperationException($"Budget {Budget.Name} counts epochs; a study needs a step budget.");

    /// <summary>The optimiser steps <paramref name="variant"/> trains: its reduced budget, or the study's.</summary>
    public long StepsOf(StudyVariant variant) => variant.Steps ?? BudgetSteps;

    /// <summary>The dataset the cells train on.</summary>
    public string DatasetPath => Dataset ?? Budget.Dataset;

    /// <summary>The variant called <paramref name="name"/>.</summary>
    public StudyVariant Variant(string name) => Variants.FirstOrDefault(v => v.Name == name)
        ?? throw new ArgumentException($"No variant '{name}' in study {Name}. Variants: {string.Join(", ", Variants.Select(v => v.Name))}.");

    /// <summary>Every cell (variant, training seed), variants in file order, seeds ascending.</summary>
    public IReadOnlyList<StudyCellId> Cells => Variants.SelectMany(v => v.Seeds.Select(s => new StudyCellId(v.Name, s))).ToList();

    /// <summary>The cell named <c>VARIANT/SEED</c>.</summary>
    /// <exception cref="ArgumentException">Malformed, or not a cell of this study (the message lists them).</exception>
    public StudyCellId Cell(string name)
    {
        int slash = name.LastIndexOf('/');
        if (slash <= 0 || !long.TryParse(name[(slash + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed))
            throw new ArgumentException($"--cell '{name}': use VARIANT/SEED, e.g. {Cells.FirstOrDefault()?.Name ?? "dp/0"}.");
        var id = new StudyCellId(name[..slash], seed);
        if (!Cells.Contains(id))
            throw new ArgumentException($"--cell '{name}' is not a cell of study {Name}. Cells: {string.Join(", ", Cells.Select(c => c.Name))}.");
        return id;
    }

    /// <summary>Reads and validates a study file; errors name the file and the field.</summary>
    public static StudyDefinition Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No study file at {path}.", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates study JSON (<paramref name="source"/> names it in errors).</summary>
    public static StudyDefinition Parse(string json, string source = "study")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e); }
        using (doc) return StudyJson.Read(doc.RootElement, source);
    }
}

/// <summary>One variant: a policy (dp or dp-ag), a DP-AG preset, overrides of named fields, the noise scale it is sampled with.</summary>
public sealed record StudyVariant
{
    /// <summary>The name (letters, digits, '-', '_', '.').</summary>
    public required string Name { get; init; }
    /// <summary>What it is, for the report.</summary>
    public string Description { get; init; } = "";
    /// <summary>The policy family.</summary>
    public PolicyKind Policy { get; init; }
    /// <summary>The DP-AG preset name (released, paper).</summary>
    public string Preset { get; init; } = "released";
    /// <summary>The overrides (<see cref="VariantOverrides"/>), as written.</summary>
    public IReadOnlyDictionary<string, JsonElement> Overrides { get; init; } = new Dictionary<string, JsonElement>();
    /// <summary>The sampling noise scale, or null for the one consistent with training (<see cref="TrainBudget.ConsistentNoiseScale"/>).</summary>
    public double? NoiseScale { get; init; }
    /// <summary>A sampler the variant is meant to use, evaluated besides the study's (null: none).</summary>
    public SamplerKind? Sampler { get; init; }
    /// <summary>Reverse steps of <see cref="Sampler"/>.</summary>
    public int? InferenceSteps { get; init; }
    /// <summary>The training seeds.</summary>
    public required IReadOnlyList<long> Seeds { get; init; }
    /// <summary>Optimiser steps when not the budget's (a reduced budget, stated in the report).</summary>
    public long? Steps { get; init; }
    /// <summary>The variant this one removes or changes a part of (the report compares them too), or null.</summary>
    public string? AblationOf { get; init; }
    /// <summary>The spec of this variant at a budget's size.</summary>
    public PolicySpec Spec(TrainBudget budget)
    {
        var spec = budget.Spec(PolicySpec.KindName(Policy), Policy == PolicyKind.Dp ? null : Preset);
        return spec is DpAgSpec ag ? ag with { Config = VariantOverrides.Apply(ag.Config, Overrides, $"variant '{Name}'") } : spec;
    }
    /// <summary>The noise scale this variant is sampled with.</summary>
    public double ResolvedNoiseScale(TrainBudget budget) => NoiseScale ?? TrainBudget.ConsistentNoiseScale(Spec(budget));
}

/// <summary>A cell: one variant trained with one seed.</summary>
/// <param name="Variant">The variant's name.</param>
/// <param name="Seed">The training seed.</param>
public sealed record StudyCellId(string Variant, long Seed)
{
    /// <summary><c>VARIANT/SEED</c>, as <c>dpag study --cell</c> takes it.</summary>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{Variant}/{Seed}");
}

/// <summary>How every cell is evaluated (defaults: the protocol: 50 test seeds from 100000, 300 steps, DDPM 100).</summary>
public sealed record StudyEvaluation
{
    /// <summary>Test episodes.</summary>
    public int Episodes { get; init; } = 50;
    /// <summary>First test seed.</summary>
    public long FirstSeed { get; init; } = 100000;
    /// <summary>Env steps per episode.</summary>
    public int MaxSteps { get; init; } = 300;
    /// <summary>The study's sampler (every comparison uses it).</summary>
    public SamplerKind Sampler { get; init; } = SamplerKind.Ddpm;
    /// <summary>Its reverse steps.</summary>
    public int InferenceSteps { get; init; } = 100;
    /// <summary>How many of the last kept checkpoints the "last" summary averages (the protocol's mean of the last checkpoints).</summary>
    public int LastCheckpoints { get; init; } = 5;
    /// <summary>Environments: pusht and/or dynamic.</summary>
    public IReadOnlyList<string> Environments { get; init; } = ["pusht", "dynamic"];
    /// <summary>The validation score a run must reach for the convergence claim (steps and minutes to reach it).</summary>
    public double ConvergenceThreshold { get; init; } = 0.5;
    /// <summary>Bootstrap resamples.</summary>
    public int BootstrapResamples { get; init; } = PairedBootstrap.DefaultResamples;
    /// <summary>Bootstrap seed.</summary>
    public int BootstrapSeed { get; init; } = 1;
    /// <summary>Paired training seeds a verdict needs (fewer: inconclusive).</summary>
    public int MinSeeds { get; init; } = VerdictRule.DefaultMinSeeds;
}

/// <summary>The planned CPU time (one core per run), stated in the file and printed by <c>dpag study --plan</c>.</summary>
public sealed record StudyPlan
{
    /// <summary>Minutes to train one DP run at the budget.</summary>
    public double DpTrainMinutes { get; init; }
    /// <summary>Minutes to train one DP-AG run at the budget.</summary>
    public double DpAgTrainMinutes { get; init; }
    /// <summary>Minutes to evaluate one checkpoint on one environment with one sampling.</summary>
    public double EvalMinutesPerCheckpoint { get; init; }
    /// <summary>A note (the machine the numbers were measured on).</summary>
    public string Note { get; init; } = "";
}

/// <summary>One of the paper's claims, answered with a verdict (docs/study-statistics.md).</summary>
public sealed record StudyClaim
{
    /// <summary>What the claim says, for the report.</summary>
    public required string Name { get; init; }
    /// <summary>The variant that stands for DP-AG.</summary>
    public required string Variant { get; init; }
    /// <summary>The metric (<see cref="StudyMetrics"/>).</summary>
    public required string Metric { get; init; }
    /// <summary>Which protocol summary: last (default), max, or best.</summary>
    public string Summary { get; init; } = "last";
    /// <summary>Absolute difference or relative change.</summary>
    public EffectScale Scale { get; init; }
    /// <summary>The paper's effect in the claimed direction (a positive size: 0.04 coverage, 0.5 = half the epochs).</summary>
    public required double PaperEffect { get; init; }
    /// <summary>The smallest effect of interest (default half the paper's).</summary>
    public double? Margin { get; init; }
    /// <summary>The paper's numbers, as text.</summary>
    public string Paper { get; init; } = "";
    /// <summary>The margin used.</summary>
    public double ResolvedMargin => Margin ?? PaperEffect / 2;
}
