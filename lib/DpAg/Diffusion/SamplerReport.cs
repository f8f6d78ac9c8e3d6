using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>
/// How well and how fast a sampler reproduces a known <see cref="GaussianMixture"/>: the total-variation distance
/// between the sampled and true mode weights (0 = perfect), the mean log-likelihood of the samples under the true
/// density (higher = on the modes), and the wall time.
/// </summary>
public sealed record SamplerReport(string Sampler, int Steps, double ModeWeightTv, double MeanLogLikelihood, double Milliseconds)
{
    /// <summary>Samples <paramref name="n"/> points with <paramref name="scheduler"/> and scores them against <paramref name="mixture"/>.</summary>
    public static SamplerReport Measure(string name, INoiseScheduler scheduler, int steps, GaussianMixture mixture,
        NoisePredictor predictor, int n, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator((ulong)seed);
        var watch = Stopwatch.StartNew();
        var x = DiffusionSampler.Sample(scheduler, predictor, [n, mixture.Dim], steps, generator: generator);
        watch.Stop();
        var modes = mixture.NearestMode(x);
        double tv = 0;
        for (int j = 0; j < mixture.Weights.Length; j++)
        {
            using var mode = j.ToScalar();
            tv += Math.Abs(modes.eq(mode).to(float64).mean().item<double>() - mixture.Weights[j]);
        }
        double logLik = mixture.LogDensity(x, -1, scheduler.Schedule).mean().item<double>();
        return new SamplerReport(name, steps, tv / 2, logLik, watch.Elapsed.TotalMilliseconds);
    }
}
