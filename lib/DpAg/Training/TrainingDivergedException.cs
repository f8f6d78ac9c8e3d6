namespace DpAg.Training;

/// <summary>
/// Thrown when a step produces a non-finite loss, loss term, gradient norm or parameter, or a loss above
/// <see cref="TrainConfig.LossLimit"/>. The bad state is never saved: <see cref="LastGoodCheckpoint"/> is untouched.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception; the message names the step, the term and the last good checkpoint.</summary>
    public TrainingDivergedException(long step, string term, double value, string reason, CheckpointInfo? lastGoodCheckpoint, string details)
        : base(Compose(step, term, value, reason, lastGoodCheckpoint, details))
    {
        Step = step;
        Term = term;
        Value = value;
        LastGoodCheckpoint = lastGoodCheckpoint;
    }

    /// <summary>The 0-based index of the step that failed (as in the metric logs).</summary>
    public long Step { get; }

    /// <summary>What failed: <c>loss</c>, a term name, <c>grad_norm</c>, <c>param:NAME</c> or <c>buffer:NAME</c>.</summary>
    public string Term { get; }

    /// <summary>The offending value.</summary>
    public double Value { get; }

    /// <summary>The newest checkpoint, written before the failure and left as it was; null if none was written yet.</summary>
    public CheckpointInfo? LastGoodCheckpoint { get; }

    private static string Compose(long step, string term, double value, string reason, CheckpointInfo? last, string details) =>
        $"Training stopped at step {step}: '{term}' {reason} ({value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}). " +
        (details.Length > 0 ? $"[{details}] " : "") +
        (last is null
            ? "No checkpoint had been written yet. "
            : $"The last good checkpoint ({last.Path}, after {last.Step} steps) is untouched; resuming continues from it. ") +
        "Try a lower LearningRate, set MaxGradNorm, or check the data for NaNs.";
}
