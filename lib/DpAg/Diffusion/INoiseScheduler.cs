using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>
/// The diffusers scheduler contract shared by DDPM and DDIM: <see cref="SetTimesteps"/>, iterate
/// <see cref="Timesteps"/>, call <see cref="Step"/> for each; <see cref="AddNoise"/> for training.
/// </summary>
/// <remarks>
/// Schedulers are plain classes, not modules, so their schedule never lands in a checkpoint. The only state is the
/// list of inference timesteps set by <see cref="SetTimesteps"/>.
/// </remarks>
public interface INoiseScheduler
{
    /// <summary>N, the number of training diffusion steps.</summary>
    int NumTrainTimesteps { get; }

    /// <summary>The forward-process schedule (betas, alphas, abar).</summary>
    NoiseSchedule Schedule { get; }

    /// <summary>The number of inference steps last passed to <see cref="SetTimesteps"/>.</summary>
    int NumInferenceSteps { get; }

    /// <summary>The inference timesteps, descending (for example 90, 80, ..., 0 for 10 of 100 steps).</summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>Chooses <paramref name="numInferenceSteps"/> timesteps out of the N training steps ("leading" spacing).</summary>
    /// <param name="numInferenceSteps">1..<see cref="NumTrainTimesteps"/>.</param>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>One reverse step from x_t to x_{t_prev}.</summary>
    /// <param name="modelOutput">The network's prediction (epsilon or x_0), same shape as <paramref name="sample"/>, e.g. (B, T, Da).</param>
    /// <param name="t">The current timestep, one of <see cref="Timesteps"/>.</param>
    /// <param name="sample">x_t, e.g. (B, T, Da).</param>
    /// <param name="generator">Random generator for the noise of stochastic steps; null uses torch's global generator.</param>
    /// <returns>x_{t_prev} and the predicted clean sample x_0, both shaped like <paramref name="sample"/>.</returns>
    (Tensor PrevSample, Tensor PredOriginalSample) Step(Tensor modelOutput, int t, Tensor sample, Generator? generator = null);

    /// <summary>Forward process q(x_t | x_0): sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise (Ho et al. 2020, eq. 4).</summary>
    /// <param name="original">x_0, (B, ...).</param>
    /// <param name="noise">epsilon, same shape as <paramref name="original"/>.</param>
    /// <param name="timesteps">Per-sample integer timesteps, (B,), each in 0..N-1.</param>
    /// <returns>x_t, same shape and dtype as <paramref name="original"/>.</returns>
    Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps);
}
