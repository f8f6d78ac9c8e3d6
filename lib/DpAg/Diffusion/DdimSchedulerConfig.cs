namespace DpAg.Diffusion;

/// <summary>
/// Settings of <see cref="DdimScheduler"/>. Defaults follow Diffusion Policy's DDIM configs (real-stanford
/// diffusion_policy, docs/pusht.md): 100 training steps, <c>squaredcos_cap_v2</c>, epsilon prediction, x_0
/// clipped to [-1, 1], <c>set_alpha_to_one = true</c>, <c>steps_offset = 0</c>, eta 0 (deterministic).
/// </summary>
/// <param name="NumTrainTimesteps">N, training diffusion steps (diffusion_policy: 100).</param>
/// <param name="BetaSchedule">Beta layout (diffusion_policy: squaredcos_cap_v2).</param>
/// <param name="BetaStart">First beta of the linear schedule (diffusers default 1e-4).</param>
/// <param name="BetaEnd">Last beta of the linear schedule (diffusers default 0.02).</param>
/// <param name="PredictionType">What the network predicts (diffusion_policy: epsilon).</param>
/// <param name="ClipSample">Clip the predicted x_0 to [-ClipSampleRange, ClipSampleRange] (diffusion_policy: true).</param>
/// <param name="ClipSampleRange">Clip bound (diffusers default 1).</param>
/// <param name="SetAlphaToOne">Use abar = 1 as the "previous" abar of the final step, so that it returns x_0
/// (diffusers <c>set_alpha_to_one</c>, diffusion_policy: true); false uses abar_0.</param>
/// <param name="StepsOffset">Added to every inference timestep (diffusers <c>steps_offset</c>, diffusion_policy: 0).</param>
/// <param name="Eta">eta of Song et al. 2021 eq. 16: 0 is deterministic DDIM, 1 gives DDPM's variance (diffusers default 0).</param>
/// <param name="NumInferenceSteps">Inference steps set at construction (docs/pusht.md: 8-16 is the fast sampler; 16 here).</param>
public sealed record DdimSchedulerConfig(
    int NumTrainTimesteps = 100,
    BetaScheduleKind BetaSchedule = BetaScheduleKind.SquaredCosCapV2,
    double BetaStart = 1e-4,
    double BetaEnd = 0.02,
    PredictionType PredictionType = PredictionType.Epsilon,
    bool ClipSample = true,
    double ClipSampleRange = 1.0,
    bool SetAlphaToOne = true,
    int StepsOffset = 0,
    double Eta = 0.0,
    int NumInferenceSteps = 16)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public DdimSchedulerConfig Validate()
    {
        SchedulerConfigChecks.Common(nameof(DdimSchedulerConfig), NumTrainTimesteps, BetaSchedule, BetaStart, BetaEnd, PredictionType,
            ClipSampleRange, NumInferenceSteps);
        if (!(Eta >= 0) || double.IsInfinity(Eta))
            throw new ArgumentException($"{nameof(DdimSchedulerConfig)}.Eta must be a finite number >= 0 (0 = deterministic DDIM), got {Eta}.");
        if (StepsOffset < 0 || (NumInferenceSteps - 1) * (NumTrainTimesteps / NumInferenceSteps) + StepsOffset >= NumTrainTimesteps)
            throw new ArgumentException(
                $"{nameof(DdimSchedulerConfig)}.StepsOffset = {StepsOffset} puts the first timestep outside 0..{NumTrainTimesteps - 1} " +
                $"with {NumInferenceSteps} inference steps; use 0 (diffusion_policy) or a smaller offset.");
        return this;
    }
}
