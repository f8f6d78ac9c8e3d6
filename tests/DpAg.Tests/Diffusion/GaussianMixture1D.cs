using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Diffusion;

/// <summary>
/// A 1-D Gaussian mixture sum_k w_k N(m_k, s_k^2) and its exact noise predictor: under x_t = sqrt(abar) x_0 +
/// sqrt(1 - abar) eps, x_t is the mixture sum_k w_k N(sqrt(abar) m_k, abar s_k^2 + 1 - abar), and the ideal
/// epsilon-network is eps*(x_t, t) = -sqrt(1 - abar_t) grad log p_t(x_t).
/// </summary>
internal sealed record GaussianMixture1D(double[] Weights, double[] Means, double[] Stds)
{
    /// <summary>eps*(x, t) for x of any shape (float64), elementwise.</summary>
    public Tensor ExactEpsilon(Tensor x, double abar)
    {
        using var scope = torch.NewDisposeScope();
        double a = Math.Sqrt(abar);
        var means = torch.tensor(Means.Select(m => a * m).ToArray(), dtype: ScalarType.Float64);                 // (K,)
        var vars = torch.tensor(Stds.Select(s => abar * s * s + 1 - abar).ToArray(), dtype: ScalarType.Float64);  // (K,)
        var logW = torch.tensor(Weights.Select(w => Math.Log(w)).ToArray(), dtype: ScalarType.Float64);                  // (K,)
        var flat = x.reshape(-1, 1);                                                                             // (M, 1)
        var diff = flat - means;                                                                                  // (M, K)
        var logComp = logW - 0.5 * vars.log() - diff.square() / (2 * vars);                                     // (M, K)
        var resp = torch.softmax(logComp, 1);                                                                    // (M, K)
        var score = (resp * (-diff / vars)).sum(1);                                                              // (M,)
        return (-Math.Sqrt(1 - abar) * score).reshape(x.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the kit's reverse loop with the scheduler's steps with the exact predictor from x_T ~ N(0, 1); returns the n samples.</summary>
    public double[] Sample(DpAg.Diffusion.INoiseScheduler scheduler, int n, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var xT = torch.randn(new long[] { n, 1, 1 }, dtype: ScalarType.Float64, generator: generator);           // (B, T=1, Da=1)
        var x = DpAg.Diffusion.DiffusionSampler.Denoise(scheduler, (sample, t) => ExactEpsilon(sample, scheduler.Schedule.AlphasCumprod[t]),
            xT, scheduler.NumInferenceSteps, generator);
        return x.reshape(-1).data<double>().ToArray();
    }
}
