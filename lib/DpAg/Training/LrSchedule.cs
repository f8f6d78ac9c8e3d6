namespace DpAg.Training;

/// <summary>
/// Learning-rate multipliers as pure functions of the step, so that a resumed run needs no scheduler state.
/// They match diffusers' <c>get_cosine_schedule_with_warmup</c> / <c>get_constant_schedule_with_warmup</c> as used by
/// Diffusion Policy: the optimiser step with index s (0-based) runs at <c>base_lr * Factor(s)</c>, so with warm-up the
/// very first step runs at lr 0 (PyTorch's LambdaLR applies lambda(0) before the first <c>scheduler.step()</c>).
/// </summary>
public sealed class LrSchedule
{
    /// <summary>Creates a schedule.</summary>
    /// <param name="kind">Cosine or constant after the warm-up.</param>
    /// <param name="warmupSteps">Linear warm-up length W (DP: 500).</param>
    /// <param name="totalSteps">N, the number of optimiser steps of the whole run (the cosine reaches 0 at N).</param>
    /// <param name="numCycles">Cosine cycles over the decay phase (diffusers' default 0.5: a half cosine from 1 to 0).</param>
    public LrSchedule(LrScheduleKind kind, int warmupSteps, long totalSteps, double numCycles = 0.5)
    {
        if (warmupSteps < 0) throw new ArgumentException($"warmupSteps = {warmupSteps}: use a value >= 0.", nameof(warmupSteps));
        if (totalSteps <= 0) throw new ArgumentException($"totalSteps = {totalSteps}: use a positive number.", nameof(totalSteps));
        Kind = kind;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        NumCycles = numCycles;
    }

    /// <summary>The shape after warm-up.</summary>
    public LrScheduleKind Kind { get; }

    /// <summary>W, the warm-up length.</summary>
    public int WarmupSteps { get; }

    /// <summary>N, the run length in optimiser steps.</summary>
    public long TotalSteps { get; }

    /// <summary>Cosine cycles (0.5 = half cosine).</summary>
    public double NumCycles { get; }

    /// <summary>
    /// The multiplier at step s: s / max(1, W) while s &lt; W; then 1 (constant) or
    /// max(0, 0.5 (1 + cos(pi * cycles * 2 * p))) with p = (s - W) / max(1, N - W) (cosine).
    /// </summary>
    public double Factor(long step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        if (Kind == LrScheduleKind.Constant) return 1.0;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * NumCycles * 2.0 * progress)));
    }

    /// <summary>The learning rate at step s for a peak rate <paramref name="baseLr"/>.</summary>
    public double LearningRate(double baseLr, long step) => baseLr * Factor(step);
}
