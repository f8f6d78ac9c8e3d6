using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>
/// A noise predictor eps_theta(x_t, t): x (B, ...) at integer step t -> predicted noise, same shape. Called once per
/// reverse step, before the scheduler's step: it is also the loop's per-step hook (DP-AG moves its latent there).
/// </summary>
public delegate Tensor NoisePredictor(Tensor sample, int timestep);

/// <summary>
/// The one reverse-process loop, diffusers-style (<c>SetTimesteps</c>, then <c>Step</c> down the timesteps): the
/// policies' <c>PredictActionChunk</c>, <see cref="SamplerReport"/> and the notebooks all sample through it.
/// </summary>
public static class DiffusionSampler
{
    /// <summary>
    /// Runs the reverse process with <paramref name="scheduler"/> (after <c>SetTimesteps(numInferenceSteps)</c>) from
    /// Gaussian noise of <paramref name="shape"/>; returns x_0. <paramref name="onStep"/> sees every intermediate x
    /// (step index, timestep, sample) for animations and latent-continuity studies; it must copy what it keeps.
    /// </summary>
    public static Tensor Sample(INoiseScheduler scheduler, NoisePredictor predictor, long[] shape, int numInferenceSteps,
        Device? device = null, Generator? generator = null, Action<int, int, Tensor>? onStep = null)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(shape, device: device, generator: generator); // x_T
        return Denoise(scheduler, predictor, x, numInferenceSteps, generator, onStep).MoveToOuterDisposeScope();
    }

    /// <summary>Like <see cref="Sample"/> but from a given x_T.</summary>
    public static Tensor Denoise(INoiseScheduler scheduler, NoisePredictor predictor, Tensor xT, int numInferenceSteps,
        Generator? generator = null, Action<int, int, Tensor>? onStep = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        scheduler.SetTimesteps(numInferenceSteps);
        var x = xT;
        onStep?.Invoke(0, scheduler.NumTrainTimesteps, x);
        int i = 0;
        foreach (int t in scheduler.Timesteps)
        {
            using var stepScope = torch.NewDisposeScope();
            var eps = predictor(x, t);
            x = scheduler.Step(eps, t, x, generator).PrevSample.MoveToOuterDisposeScope();
            onStep?.Invoke(++i, t, x);
        }
        return x.MoveToOuterDisposeScope();
    }
}
