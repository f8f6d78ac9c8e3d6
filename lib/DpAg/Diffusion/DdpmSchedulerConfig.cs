namespace DpAg.Diffusion;

/// <summary>
/// Settings of <see cref="DdpmScheduler"/>. Defaults are Diffusion Policy's Push-T recipe (real-stanford
/// diffusion_policy configs, docs/pusht.md): 100 training steps, <c>squaredcos_cap_v2</c>, epsilon prediction,
/// x_0 clipped to [-1, 1], 100 inference steps.
/// </summary>
/// <param name="NumTrainTimesteps">N, training diffusion steps (diffusion_policy: 100).</param>
/// <param name="BetaSchedule">Beta layout (diffusion_policy: squaredcos_cap_v2).</param>
/// <param name="BetaStart">First beta of the linear schedule (diffusers default 1e-4; unused by the cosine one).</param>
/// <param name="BetaEnd">Last beta of the linear schedule (diffusers default 0.02; unused by the cosine one).</param>
/// <param name="PredictionType">What the network predicts (diffusion_policy: epsilon).</param>
/// <param name="ClipSample">Clip the predicted x_0 to [-ClipSampleRange, ClipSampleRange] (diffusion_policy: true).</param>
/// <param name="ClipSampleRange">Clip bound (diffusers default 1, matching actions normalised to [-1, 1]).</param>
/// <param name="NumInferenceSteps">Inference steps set at construction (diffusion_policy: 100, i.e. every training step).</param>
public sealed record DdpmSchedulerConfig(
    int NumTrainTimesteps = 100,
    BetaScheduleKind BetaSchedule = BetaScheduleKind.SquaredCosCapV2,
    double BetaStart = 1e-4,
    double BetaEnd = 0.02,
    PredictionType PredictionType = PredictionType.Epsilon,
    bool ClipSample = true,
    double ClipSampleRange = 1.0,
    int NumInferenceSteps = 100)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public DdpmSchedulerConfig Validate()
    {
        SchedulerConfigChecks.Common(nameof(DdpmSchedulerConfig), NumTrainTimesteps, BetaSchedule, BetaStart, BetaEnd, PredictionType,
            ClipSampleRange, NumInferenceSteps);
        return this;
    }
}
