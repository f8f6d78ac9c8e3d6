using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>
/// Denoising diffusion implicit models sampler (Song et al. 2021), written like diffusers' <c>DDIMScheduler</c>
/// with "leading" timestep spacing; eta = 0 makes sampling deterministic.
/// </summary>
/// <remarks>
/// Names in the code versus Song et al. 2021 (which writes alpha for what DDPM calls abar):
/// <list type="bullet">
/// <item><c>abarT</c> = alpha_t, <c>abarPrev</c> = alpha_{t-1} (the abar of the previous inference timestep; 1 or abar_0
/// after the last step, see <see cref="DdimSchedulerConfig.SetAlphaToOne"/>)</item>
/// <item><c>predEpsilon</c> = epsilon_theta^(t)(x_t), <c>predOriginal</c> = "predicted x_0"</item>
/// <item><c>stdDev</c> = sigma_t, <c>direction</c> = "direction pointing to x_t", <c>prev</c> = x_{t-1}</item>
/// </list>
/// </remarks>
public sealed class DdimScheduler : INoiseScheduler
{
    private int[] _timesteps;

    /// <summary>Builds the scheduler; the config is validated and its <c>NumInferenceSteps</c> set.</summary>
    public DdimScheduler(DdimSchedulerConfig? config = null)
    {
        Config = (config ?? new DdimSchedulerConfig()).Validate();
        Schedule = new NoiseSchedule(Config.NumTrainTimesteps, Config.BetaSchedule, Config.BetaStart, Config.BetaEnd);
        FinalAlphaCumprod = Config.SetAlphaToOne ? 1.0 : Schedule.AlphasCumprod[0];
        _timesteps = SchedulerMath.LeadingTimesteps(Config.NumTrainTimesteps, Config.NumInferenceSteps, Config.StepsOffset, nameof(DdimScheduler));
        NumInferenceSteps = Config.NumInferenceSteps;
    }

    /// <summary>The validated settings.</summary>
    public DdimSchedulerConfig Config { get; }

    /// <inheritdoc/>
    public NoiseSchedule Schedule { get; }

    /// <summary>abar used after the last step: 1 with <c>SetAlphaToOne</c>, else abar_0 (diffusers <c>final_alpha_cumprod</c>).</summary>
    public double FinalAlphaCumprod { get; }

    /// <inheritdoc/>
    public int NumTrainTimesteps => Config.NumTrainTimesteps;

    /// <inheritdoc/>
    public int NumInferenceSteps { get; private set; }

    /// <inheritdoc/>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <inheritdoc/>
    public void SetTimesteps(int numInferenceSteps)
    {
        var timesteps = SchedulerMath.LeadingTimesteps(NumTrainTimesteps, numInferenceSteps, Config.StepsOffset, nameof(DdimScheduler));
        if (timesteps[0] >= NumTrainTimesteps)
            throw new ArgumentException(
                $"DdimScheduler: StepsOffset = {Config.StepsOffset} with numInferenceSteps = {numInferenceSteps} gives timestep {timesteps[0]} >= " +
                $"NumTrainTimesteps = {NumTrainTimesteps}; use fewer steps or StepsOffset 0.", nameof(numInferenceSteps));
        _timesteps = timesteps;
        NumInferenceSteps = numInferenceSteps;
    }

    /// <summary>The previous timestep t - N/n (negative after the last step).</summary>
    public int PreviousTimestep(int t) => t - NumTrainTimesteps / NumInferenceSteps;

    /// <summary>
    /// sigma_t^2 / eta^2 = (1 - abar_{t-1}) / (1 - abar_t) (1 - abar_t / abar_{t-1}) (Song et al. 2021, eq. 16 with eta = 1).
    /// </summary>
    public double Variance(int t)
    {
        var (abarT, abarPrev) = AlphaBars(t);
        return (1 - abarPrev) / (1 - abarT) * (1 - abarT / abarPrev);
    }

    /// <inheritdoc/>
    public (Tensor PrevSample, Tensor PredOriginalSample) Step(Tensor modelOutput, int t, Tensor sample, Generator? generator = null)
    {
        SchedulerMath.CheckStep(modelOutput, t, sample, NumTrainTimesteps, nameof(DdimScheduler));
        using var scope = torch.NewDisposeScope();

        // 1. abar_t and abar_{t-1} (the previous inference timestep).
        var (abarT, abarPrev) = AlphaBars(t);
        double betaProdT = 1 - abarT;

        // 2. Predicted x_0 and epsilon: the "predicted x_0" term of Song et al. 2021, eq. 12,
        //    x_0 = (x_t - sqrt(1 - alpha_t) eps) / sqrt(alpha_t), or eps recovered from a predicted x_0.
        Tensor predOriginal, predEpsilon;
        switch (Config.PredictionType)
        {
            case PredictionType.Epsilon:
                predOriginal = (sample - modelOutput.Times(Math.Sqrt(betaProdT))).DividedBy(Math.Sqrt(abarT));
                predEpsilon = modelOutput.alias();
                break;
            case PredictionType.Sample:
                predOriginal = modelOutput.alias();
                predEpsilon = (sample - modelOutput.Times(Math.Sqrt(abarT))).DividedBy(Math.Sqrt(betaProdT));
                break;
            default:
                throw new InvalidOperationException($"Unknown prediction type {Config.PredictionType}.");
        }

        // 3. Clip x_0 (epsilon is kept as predicted, like diffusers' default use_clipped_model_output = false).
        if (Config.ClipSample) predOriginal = predOriginal.ClampTo(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 4. sigma_t = eta sqrt((1 - alpha_{t-1}) / (1 - alpha_t)) sqrt(1 - alpha_t / alpha_{t-1})  (eq. 16).
        double stdDev = Config.Eta * Math.Sqrt(Variance(t));

        // 5. "Direction pointing to x_t": sqrt(1 - alpha_{t-1} - sigma_t^2) eps  (eq. 12).
        var direction = predEpsilon.Times(Math.Sqrt(Math.Max(1 - abarPrev - stdDev * stdDev, 0.0)));

        // 6. x_{t-1} = sqrt(alpha_{t-1}) predicted x_0 + direction + sigma_t z  (eq. 12).
        var prev = predOriginal.Times(Math.Sqrt(abarPrev)).Plus(direction);
        if (Config.Eta > 0) prev = prev.Plus(SchedulerMath.Noise(sample, generator).Times(stdDev));

        return (prev.MoveToOuterDisposeScope(), predOriginal.MoveToOuterDisposeScope());
    }

    /// <inheritdoc/>
    public Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps) => SchedulerMath.AddNoise(Schedule, original, noise, timesteps);

    private (double AbarT, double AbarPrev) AlphaBars(int t)
    {
        int prevT = PreviousTimestep(t);
        return (Schedule.AlphasCumprod[t], prevT >= 0 ? Schedule.AlphasCumprod[prevT] : FinalAlphaCumprod);
    }
}
