using DpAg.Optim;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DpAg.Training;

/// <summary>The learning-rate schedule applied on top of <see cref="TrainConfig.LearningRate"/>.</summary>
public enum LrScheduleKind
{
    /// <summary>Linear warm-up then a half cosine to 0 (diffusers' <c>get_cosine_schedule_with_warmup</c>); Diffusion Policy's choice.</summary>
    Cosine,
    /// <summary>Linear warm-up then constant (diffusers' <c>get_constant_schedule_with_warmup</c>).</summary>
    Constant,
}

/// <summary>
/// Everything that determines the numbers of a training run. Defaults are Diffusion Policy's Push-T recipe
/// (docs/pusht.md, "Training recipe"; the real-stanford configs): AdamW lr 1e-4, betas (0.95, 0.999),
/// weight decay 1e-6, cosine schedule with 500 warm-up steps, EMA power 0.75 up to 0.9999, batch 256.
/// A run folder stores it as <c>config.json</c>; resuming checks that the fields which change the numbers agree.
/// </summary>
public sealed record TrainConfig
{
    /// <summary>Folder for checkpoints, metrics and the config (created). Not compared on resume.</summary>
    public string RunDir { get; init; } = Path.Combine("runs", "train");

    /// <summary>Number of optimiser steps; exactly one of <see cref="Steps"/> and <see cref="Epochs"/> is set.</summary>
    public long? Steps { get; init; } = 1000;

    /// <summary>Number of epochs (needs a batch source with a finite epoch); Diffusion Policy: 5000 low-dim, 3050 image.</summary>
    public int? Epochs { get; init; }

    /// <summary>B, samples per batch (DP: 256 low-dim, 64 image).</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Peak learning rate (DP: 1e-4).</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>AdamW beta1 (DP: 0.95).</summary>
    public double Beta1 { get; init; } = 0.95;

    /// <summary>AdamW beta2 (DP: 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>AdamW epsilon (PyTorch default 1e-8).</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>AdamW decoupled weight decay (DP: 1e-6).</summary>
    public double WeightDecay { get; init; } = 1e-6;

    /// <summary>Schedule shape (DP: cosine).</summary>
    public LrScheduleKind LrSchedule { get; init; } = LrScheduleKind.Cosine;

    /// <summary>Linear warm-up steps (DP: 500). As in diffusers, the first step runs at lr 0.</summary>
    public int WarmupSteps { get; init; } = 500;

    /// <summary>Keep an exponential moving average of the weights (DP: yes, and evaluates it).</summary>
    public bool UseEma { get; init; } = true;

    /// <summary>EMA warm-up power (DP's Push-T configs: 0.75; its EMAModel default is 2/3).</summary>
    public double EmaPower { get; init; } = 0.75;

    /// <summary>EMA inverse gamma (DP: 1.0).</summary>
    public double EmaInvGamma { get; init; } = 1.0;

    /// <summary>EMA minimum decay (DP: 0.0).</summary>
    public double EmaMinValue { get; init; } = 0.0;

    /// <summary>EMA maximum decay (DP: 0.9999).</summary>
    public double EmaMaxValue { get; init; } = 0.9999;

    /// <summary>EMA updates that only copy the weights before averaging starts (DP: 0).</summary>
    public int EmaUpdateAfterStep { get; init; }

    /// <summary>Clip the global gradient 2-norm to this value; null disables clipping (DP: none). The norm is logged either way.</summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>
    /// Stop when the loss (or any term) is larger than this in absolute value: an exploding run. Null disables the
    /// check; non-finite values always stop the run.
    /// </summary>
    public double? LossLimit { get; init; }

    /// <summary>Save a checkpoint every this many steps (and always at the end).</summary>
    public long CheckpointEvery { get; init; } = 1000;

    /// <summary>
    /// Whether a checkpoint after <paramref name="step"/> of <paramref name="totalSteps"/> is on the run's schedule
    /// (every <see cref="CheckpointEvery"/>, at each validation every <paramref name="validationEvery"/>, at the end)
    /// rather than the resume point a stopped sitting writes.
    /// </summary>
    public bool IsScheduledCheckpoint(long step, long totalSteps, long? validationEvery) =>
        step % CheckpointEvery == 0 || step == totalSteps || validationEvery is { } every && step % every == 0;

    /// <summary>How many of the newest checkpoints to keep (older ones are deleted after a new one is in place).</summary>
    public int KeepLastCheckpoints { get; init; } = 3;

    /// <summary>Seed of the run: initial weights, the batch order and every step's random draws derive from it.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Plain progress lines (non-terminal output) every this many steps; null picks about 100 lines per run.</summary>
    public long? ProgressEvery { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first bad field, the value received and the fix.
    /// </summary>
    public TrainConfig Validate()
    {
        if (string.IsNullOrWhiteSpace(RunDir)) Fail(nameof(RunDir), RunDir, "give a folder for checkpoints and logs");
        if (Steps is null == Epochs is null)
            Fail(nameof(Steps), $"{Steps?.ToString() ?? "null"} (Epochs = {Epochs?.ToString() ?? "null"})", "set exactly one of Steps and Epochs");
        if (Steps is <= 0) Fail(nameof(Steps), Steps, "use a positive number of steps");
        if (Epochs is <= 0) Fail(nameof(Epochs), Epochs, "use a positive number of epochs");
        if (BatchSize <= 0) Fail(nameof(BatchSize), BatchSize, "use a positive batch size");
        if (!(LearningRate >= 0) || double.IsInfinity(LearningRate)) Fail(nameof(LearningRate), LearningRate, "use a finite lr >= 0 (DP: 1e-4)");
        if (!(Beta1 >= 0 && Beta1 < 1)) Fail(nameof(Beta1), Beta1, "use a value in [0, 1) (DP: 0.95)");
        if (!(Beta2 >= 0 && Beta2 < 1)) Fail(nameof(Beta2), Beta2, "use a value in [0, 1) (DP: 0.999)");
        if (!(Eps >= 0)) Fail(nameof(Eps), Eps, "use eps >= 0 (1e-8)");
        if (!(WeightDecay >= 0)) Fail(nameof(WeightDecay), WeightDecay, "use weight decay >= 0 (DP: 1e-6)");
        if (WarmupSteps < 0) Fail(nameof(WarmupSteps), WarmupSteps, "use warm-up steps >= 0 (DP: 500)");
        if (!(EmaPower > 0)) Fail(nameof(EmaPower), EmaPower, "use a power > 0 (DP: 0.75)");
        if (!(EmaInvGamma > 0)) Fail(nameof(EmaInvGamma), EmaInvGamma, "use inv_gamma > 0 (DP: 1.0)");
        if (!(EmaMinValue >= 0 && EmaMinValue <= EmaMaxValue && EmaMaxValue <= 1))
            Fail(nameof(EmaMaxValue), $"{EmaMaxValue} (EmaMinValue = {EmaMinValue})", "need 0 <= EmaMinValue <= EmaMaxValue <= 1 (DP: 0 and 0.9999)");
        if (EmaUpdateAfterStep < 0) Fail(nameof(EmaUpdateAfterStep), EmaUpdateAfterStep, "use a value >= 0 (DP: 0)");
        if (MaxGradNorm is { } g && !(g > 0)) Fail(nameof(MaxGradNorm), g, "use a positive norm, or null to disable clipping");
        if (LossLimit is { } l && !(l > 0)) Fail(nameof(LossLimit), l, "use a positive limit, or null to disable the check");
        if (CheckpointEvery <= 0) Fail(nameof(CheckpointEvery), CheckpointEvery, "use a positive number of steps");
        if (KeepLastCheckpoints < 1) Fail(nameof(KeepLastCheckpoints), KeepLastCheckpoints, "keep at least 1 checkpoint");
        if (ProgressEvery is <= 0) Fail(nameof(ProgressEvery), ProgressEvery, "use a positive number of steps, or null for automatic");
        return this;
    }

    /// <summary>Fields that do not change the numbers of a run and may differ when resuming.</summary>
    internal static readonly IReadOnlySet<string> OperationalFields = new HashSet<string>
    {
        nameof(RunDir), nameof(CheckpointEvery), nameof(KeepLastCheckpoints), nameof(ProgressEvery), nameof(LossLimit),
    };

    /// <summary>JSON options used for <c>config.json</c> (enums as names, indented).</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The config as JSON (the content of <c>config.json</c>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses JSON written by <see cref="ToJson"/>.</summary>
    public static TrainConfig FromJson(string json) =>
        JsonSerializer.Deserialize<TrainConfig>(json, Json) ?? throw new ArgumentException("config.json holds null.");

    /// <summary>Names of the fields (other than <see cref="OperationalFields"/>) whose values differ from <paramref name="other"/>.</summary>
    public IReadOnlyList<string> NumericDifferences(TrainConfig other)
    {
        var a = JsonSerializer.SerializeToElement(this, Json);
        var b = JsonSerializer.SerializeToElement(other, Json);
        var diffs = new List<string>();
        foreach (var p in a.EnumerateObject())
        {
            if (OperationalFields.Contains(p.Name)) continue;
            var theirs = b.TryGetProperty(p.Name, out var v) ? v.GetRawText() : "(missing)";
            if (p.Value.GetRawText() != theirs) diffs.Add($"{p.Name}: {theirs} -> {p.Value.GetRawText()}");
        }
        return diffs;
    }

    private static void Fail(string field, object? value, string fix) =>
        throw new ArgumentException($"TrainConfig.{field} = {value ?? "null"} is invalid: {fix}.", field);
}
