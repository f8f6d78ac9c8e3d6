using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>
/// Denoising diffusion probabilistic models sampler (Ho et al. 2020), written like diffusers' <c>DDPMScheduler</c>
/// with the <c>fixed_small</c> variance that Diffusion Policy uses.
/// </summary>
/// <remarks>
/// Symbols: abar_t = alphas_cumprod[t]; t' = the previous inference timestep (t - N/n, or "-1" after the last step,
/// where abar_{t'} = 1); alpha_t = abar_t / abar_{t'} and beta_t = 1 - alpha_t are the effective per-step values (equal
/// to the schedule's alpha_t and beta_t when n = N).
/// </remarks>
public sealed class DdpmScheduler : INoiseScheduler
{
    private int[] _timesteps;

    /// <summary>Builds the scheduler; the config is validated and its <c>NumInferenceSteps</c> set.</summary>
    public DdpmScheduler(DdpmSchedulerConfig? config = null)
    {
        Config = (config ?? new DdpmSchedulerConfig()).Validate();
        Schedule = new NoiseSchedule(Config.NumTrainTimesteps, Config.BetaSchedule, Config.BetaStart, Config.BetaEnd);
        _timesteps = SchedulerMath.LeadingTimesteps(Config.NumTrainTimesteps, Config.NumInferenceSteps, 0, nameof(DdpmScheduler));
        NumInferenceSteps = Config.NumInferenceSteps;
    }

    /// <summary>The validated settings.</summary>
    public DdpmSchedulerConfig Config { get; }

    /// <inheritdoc/>
    public NoiseSchedule Schedule { get; }

    /// <inheritdoc/>
    public int NumTrainTimesteps => Config.NumTrainTimesteps;

    /// <inheritdoc/>
    public int NumInferenceSteps { get; private set; }

    /// <inheritdoc/>
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <inheritdoc/>
    public void SetTimesteps(int numInferenceSteps)
    {
        _timesteps = SchedulerMath.LeadingTimesteps(NumTrainTimesteps, numInferenceSteps, 0, nameof(DdpmScheduler));
        NumInferenceSteps = numInferenceSteps;
    }

    /// <summary>The previous timestep t' = t - N/n (negative after the last step).</summary>
    public int PreviousTimestep(int t) => t - NumTrainTimesteps / NumInferenceSteps;

    /// <summary>
    /// The fixed_small variance sigma^2_t = max((1 - abar_{t'}) / (1 - abar_t) beta_t, 1e-20): the variance of the
    /// posterior q(x_{t'} | x_t, x_0) (Ho et al. 2020, eq. 7, beta-tilde).
    /// </summary>
    public double Variance(int t)
    {
        var (abarT, abarPrev) = AlphaBars(t);
        double betaT = 1 - abarT / abarPrev;
        return Math.Max((1 - abarPrev) / (1 - abarT) * betaT, 1e-20);
    }

    /// <inheritdoc/>
    public (Tensor PrevSample, Tensor PredOriginalSample) Step(Tensor modelOutput, int t, Tensor sample, Generator? generator = null)
    {
        SchedulerMath.CheckStep(modelOutput, t, sample, NumTrainTimesteps, nameof(DdpmScheduler));
        using var scope = torch.NewDisposeScope();

        // 1. abar_t, abar_{t'}, and the effective alpha_t, beta_t between the two inference timesteps.
        var (abarT, abarPrev) = AlphaBars(t);
        double betaProdT = 1 - abarT, betaProdPrev = 1 - abarPrev;
        double alphaT = abarT / abarPrev, betaT = 1 - alphaT;

        // 2. Predicted x_0. Epsilon prediction inverts eq. 4: x_0 = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)
        //    (the x_0 estimate inside Ho et al. 2020, eq. 15).
        var predOriginal = Config.PredictionType switch
        {
            PredictionType.Epsilon => (sample - modelOutput.Times(Math.Sqrt(betaProdT))).DividedBy(Math.Sqrt(abarT)),
            PredictionType.Sample => modelOutput.alias(),
            _ => throw new InvalidOperationException($"Unknown prediction type {Config.PredictionType}."),
        };

        // 3. Clip the x_0 estimate to the data range.
        if (Config.ClipSample) predOriginal = predOriginal.ClampTo(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 4. Coefficients of the posterior mean mu~_t(x_t, x_0) (Ho et al. 2020, eq. 7):
        //    mu~ = sqrt(abar_{t'}) beta_t / (1 - abar_t) x_0 + sqrt(alpha_t) (1 - abar_{t'}) / (1 - abar_t) x_t.
        double originalCoeff = Math.Sqrt(abarPrev) * betaT / betaProdT;
        double currentCoeff = Math.Sqrt(alphaT) * betaProdPrev / betaProdT;

        // 5. Posterior mean.
        var prev = predOriginal.Times(originalCoeff).Plus(sample.Times(currentCoeff));

        // 6. Add sigma_t z with sigma^2_t the fixed_small variance (eq. 7's beta-tilde); no noise on the last step.
        if (t > 0) prev = prev.Plus(SchedulerMath.Noise(sample, generator).Times(Math.Sqrt(Variance(t))));

        return (prev.MoveToOuterDisposeScope(), predOriginal.MoveToOuterDisposeScope());
    }

    /// <inheritdoc/>
    public Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps) => SchedulerMath.AddNoise(Schedule, original, noise, timesteps);

    private (double AbarT, double AbarPrev) AlphaBars(int t)
    {
        int prevT = PreviousTimestep(t);
        return (Schedule.AlphasCumprod[t], prevT >= 0 ? Schedule.AlphasCumprod[prevT] : 1.0);
    }
}
